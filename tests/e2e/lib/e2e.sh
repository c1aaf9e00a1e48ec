# shellcheck shell=bash
# e2e.sh - what the end-to-end scenarios and the demo share: a vmlab run inside the test
# netns with the test config, test projects, and assertions that count passes and failures.
#
#   e2e_setup VMLAB NAME   build the test images, start the harness (netns NAME), serve the
#                          images on the netns's 127.0.0.1, write vmlab.conf + catalog:
#                          test-minimal, and unless VL_E2E_SKIP_CLOUDINIT=1 one cloud-init
#                          image per guest network stack (build-cloudinit.sh --stack):
#                          test-ci-ifupdown, test-ci-resolvconf, test-ci-netplan, and
#                          test-cloudinit (= test-ci-ifupdown, for older scenarios)
#   vmlab ARGS...          run the vmlab under test inside the netns with the test config
#   e2e_project DIR <<EOF  make a project directory holding the vmlab.ini read from stdin
#   ok / bad / check_eq / check_rc / check_contains   assertions (never exit; counted)
#   e2e_summary            print "N passed, N failed" and return non-zero on failures

E2E_PASS=0
E2E_FAIL=0
E2E_HTTP_PORT=${E2E_HTTP_PORT:-18080}
E2E_CI_STACKS="ifupdown resolvconf netplan"   # build-cloudinit.sh --stack values

ok() { E2E_PASS=$((E2E_PASS + 1)); echo "  ok   $*"; }
bad() { E2E_FAIL=$((E2E_FAIL + 1)); echo "  FAIL $*"; }
check_eq() { # what expected actual
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: expected '$2', got '$3'"; fi
}
check_rc() { # what expected-rc actual-rc
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: expected exit $2, got $3"; fi
}
check_contains() { # what needle haystack
	case "$3" in *"$2"*) ok "$1" ;; *) bad "$1: '$2' not in: $(printf '%s' "$3" | head -c 600)" ;; esac
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

vmlab() { vl_ns_exec env VMLAB_CONFIG="$E2E_CONF" HOME="$E2E_HOME" "$E2E_VMLAB" "$@"; }

# e2e_conf_nocache: the test config without its [images] cache (so VMLAB_CACHE or the
# user's ~/.cache decides), readable by every user; prints its path
e2e_conf_nocache() {
	local c=$E2E_TMP/vmlab-nocache.conf
	grep -v '^cache *=' "$E2E_CONF" >"$c"
	chmod 644 "$c"
	echo "$c"
}

# e2e_user_project USER DIR NAME: as USER, a project in DIR with a one-VM lab NAME of the
# minimal image
e2e_user_project() {
	runuser -u "$1" -- mkdir -p "$2"
	printf '[lab]\nname = %s\n[defaults]\nimage  = test-minimal\nmemory = 256M\n[vm box]\n' "$3" |
		runuser -u "$1" -- sh -c "cat > '$2/vmlab.ini'"
}

# vmlab_as USER HOME CONF DIR ARGS...: the vmlab under test as USER in the netns, on DIR
vmlab_as() {
	local u=$1 h=$2 c=$3 d=$4
	shift 4
	vl_ns_exec runuser -u "$u" -- env HOME="$h" VMLAB_CONFIG="$c" "$E2E_VMLAB" -C "$d" "$@"
}

e2e_project() { # DIR; vmlab.ini on stdin
	mkdir -p "$1"
	cat > "$1/vmlab.ini"
}

# lab_id DIR: the lab id vmlab uses for the project in DIR (from its plan)
lab_id() { (cd "$1" && vmlab plan --json | jq -r .lab.id); }

# leftovers ID: every libvirt object, bridge or dnsmasq the lab ID still has, one per line
leftovers() {
	local id=$1
	vl_virsh list --all --name | grep -F "vmlab-$id" | sed 's/^/domain /'
	vl_virsh net-list --all --name | grep -F "vmlab-$id" | sed 's/^/network /'
	vl_virsh vol-list vmlab 2>/dev/null | awk '{print $1}' | grep -F "vmlab-$id" | sed 's/^/volume /'
	local br
	br=$(vl_virsh net-dumpxml "vmlab-$id" 2>/dev/null | sed -n "s/.*bridge name='\([^']*\)'.*/\1/p")
	[ -n "$br" ] && vl_ns_exec ip -o link show "$br" 2>/dev/null | sed 's/^/bridge /'
	ps -eo pid,args | grep -F "dnsmasq/vmlab-$id.conf" | grep -v grep | sed 's/^/dnsmasq /'
	return 0
}

e2e_setup() { # VMLAB NAME
	E2E_VMLAB=$(realpath "$1")
	local here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	E2E_TMP=$(mktemp -d /var/tmp/vmlab-e2e.XXXXXX)
	chmod 755 "$E2E_TMP"
	E2E_HOME=$E2E_TMP/home
	mkdir -p "$E2E_HOME" "$E2E_TMP/www" "$E2E_TMP/cache" "$E2E_TMP/logs"
	"$here/images/build-minimal.sh" "$E2E_TMP/www/minimal.qcow2" >&2
	if [ "${VL_E2E_SKIP_CLOUDINIT:-0}" != 1 ]; then
		# The three stacks build in parallel: on 2 cores all three took 112 s together against
		# 63-81 s for one alone (downloads and dpkg leave the CPUs half idle; load average 3).
		# Cached: a copy each.
		local stack pids=() failed=0 pid
		for stack in $E2E_CI_STACKS; do
			"$here/images/build-cloudinit.sh" --stack "$stack" \
				"$E2E_TMP/www/cloudinit-$stack.qcow2" >&2 &
			pids+=($!)
		done
		for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
		if [ "$failed" != 0 ]; then
			echo "e2e: building a cloud-init image failed" >&2
			return 1
		fi
	fi
	export VL_E2E_POOL_DIR=${VL_E2E_POOL_DIR:-/var/lib/vmlab/pool-$2}
	vl_harness_start "$2"
	vl_http_start "$E2E_TMP/www" "$E2E_HTTP_PORT"
	E2E_CONF=$E2E_TMP/vmlab.conf
	cat > "$E2E_TMP/catalog.ini" <<-CAT
	[test-minimal]
	url    = http://127.0.0.1:$E2E_HTTP_PORT/minimal.qcow2
	sha256 = $(sha256sum "$E2E_TMP/www/minimal.qcow2" | cut -d' ' -f1)
	format = qcow2
	user   = vmlab
	CAT
	local entry file
	for entry in $E2E_CI_STACKS cloudinit; do
		case "$entry" in
		cloudinit) file=cloudinit-ifupdown.qcow2 ;;   # the alias of older scenarios
		*) file=cloudinit-$entry.qcow2; entry=ci-$entry ;;
		esac
		[ -f "$E2E_TMP/www/$file" ] || continue
		cat >> "$E2E_TMP/catalog.ini" <<-CAT

		[test-$entry]
		url    = http://127.0.0.1:$E2E_HTTP_PORT/$file
		sha256 = $(sha256sum "$E2E_TMP/www/$file" | cut -d' ' -f1)
		format = qcow2
		user   = debian
		CAT
	done
	cat > "$E2E_CONF" <<-CONF
	[libvirt]
	uri = $VL_E2E_URI
	[vm]
	accel = tcg
	[storage]
	pool = vmlab
	pool_dir = $VL_E2E_POOL_DIR
	log_dir = $E2E_TMP/logs
	[images]
	cache = $E2E_TMP/cache
	catalog = $E2E_TMP/catalog.ini
	[network]
	subnet_pool = 10.213.0.0/16
	[up]
	parallel = 4
	boot_timeout = 240
	[halt]
	timeout = 30
	CONF
}

e2e_cleanup() {
	local n
	vl_http_stop 2>/dev/null || true
	# second daemons a scenario started and could not stop (it was interrupted)
	for n in ${E2E_EXTRA_HARNESSES:-}; do _vl_stop_name "$n"; done
	vl_harness_stop
	[ -n "${E2E_TMP:-}" ] && rm -rf "$E2E_TMP"
	return 0
}

e2e_summary() {
	echo "e2e: $E2E_PASS passed, $E2E_FAIL failed"
	echo "$E2E_PASS passed, $E2E_FAIL failed"
	[ "$E2E_FAIL" -eq 0 ]
}
