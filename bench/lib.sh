# shellcheck shell=bash
# lib.sh - what bench/status.sh, bench/up.sh and bench/snapshot.sh share: the libvirtd lock,
# a real libvirtd + QEMU in a network namespace (tests/e2e/lib), timing, medians, ratios,
# test projects of the minimal image, and waiting for SSH by hand.
#
#   bench_init "$@"         BENCH_VMLAB = $1 (default build/rel/vmlab), BENCH_OUT = a temp dir
#   bench_setup NAME        take /run/vmlab-libvirtd.lock (blocking; only one libvirtd may run
#                           on this host; also waits for a libvirtd started without the lock),
#                           copy the vmlab binary (BENCH_VMLAB = the copy), then e2e_setup: netns NAME, libvirtd, the minimal
#                           image served on 127.0.0.1:$E2E_HTTP_PORT, vmlab.conf (accel = tcg).
#                           Tears everything down on exit (bench_on_exit hooks run first).
#   bench_project DIR N     a project of N VMs (vm1..vmN) of test-minimal, 1 vCPU, 256 MiB
#   in_dir DIR CMD...       CMD (may be a shell function such as vmlab) run in DIR
#   bench_time CMD...       run CMD (output to $BENCH_OUT/last.log), print its wall seconds;
#                           returns CMD's status
#   median X...  ratio A B  statistics (ratio prints A/B with 2 decimals)
#   hf_medians JSON         "command<TAB>median<TAB>stddev" lines of a hyperfine JSON export
#   bench_ips DIR           "vm ip" lines from `vmlab status --json`
#   bench_wait_ssh DIR VM IP [TIMEOUT]   plain OpenSSH inside the netns (project key, user
#                           vmlab, known_hosts from .vmlab/hostkeys, StrictHostKeyChecking=yes)
#                           until `true` runs; returns non-zero on timeout
#
# Every client of a guest (vmlab, ssh, vagrant) runs inside the netns (vl_ns_exec / vmlab).
# virsh talks to the daemon's unix socket and needs no netns.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_ROOT=$(cd "$BENCH_DIR/.." && pwd)
BENCH_LOCK=${BENCH_LOCK:-/run/vmlab-libvirtd.lock}
BENCH_EXIT_HOOKS=()

bench_say() { echo "bench: $*" >&2; }
bench_die() { echo "bench: ERROR: $*" >&2; exit 1; }

bench_init() {
	BENCH_VMLAB=$(realpath "${1:-$BENCH_ROOT/build/rel/vmlab}")
	[ -x "$BENCH_VMLAB" ] || bench_die "no vmlab binary at $BENCH_VMLAB (run make)"
	command -v hyperfine >/dev/null || bench_die "hyperfine is not installed (bench/packages.txt)"
	command -v jq >/dev/null || bench_die "jq is not installed (bench/packages.txt)"
}

bench_on_exit() { BENCH_EXIT_HOOKS+=("$*"); }

_bench_exit() {
	local rc=$? h
	for h in "${BENCH_EXIT_HOOKS[@]}"; do eval "$h" || true; done
	e2e_cleanup
	[ -n "${BENCH_OUT:-}" ] && rm -rf "$BENCH_OUT"
	return $rc
}

bench_setup() {
	local name=${1:?bench_setup NAME}
	# the cloud-init image only for benchmarks that ask for it (BENCH_CLOUDINIT=1)
	if [ "${BENCH_CLOUDINIT:-0}" = 1 ]; then export VL_E2E_SKIP_CLOUDINIT=0; else export VL_E2E_SKIP_CLOUDINIT=1; fi
	export E2E_HTTP_PORT=${E2E_HTTP_PORT:-18095}
	# shellcheck source=../tests/e2e/lib/harness.sh
	. "$BENCH_ROOT/tests/e2e/lib/harness.sh"
	# shellcheck source=../tests/e2e/lib/e2e.sh
	. "$BENCH_ROOT/tests/e2e/lib/e2e.sh"
	# One libvirtd per host at a time (other engineers' tests, the demo): wait for our turn.
	exec 9>"$BENCH_LOCK"
	if ! flock -n 9; then
		bench_say "waiting for $BENCH_LOCK (another libvirtd run holds it)"
		flock 9
	fi
	bench_say "lock $BENCH_LOCK taken"
	# A libvirtd started without the lock (seen here: another harness run) still means two:
	# wait for it to end (up to VL_BENCH_WAIT_OTHERS seconds, default 900).
	local i others
	for ((i = 0; ; i++)); do
		others=$(pidof libvirtd virtqemud 2>/dev/null || true)
		[ -z "$others" ] && break
		[ "$i" -ge "${VL_BENCH_WAIT_OTHERS:-900}" ] &&
			bench_die "another libvirtd ($others) still runs after ${VL_BENCH_WAIT_OTHERS:-900} s"
		[ "$i" = 0 ] && bench_say "waiting for the libvirtd that runs already ($others) to end"
		sleep 1
	done
	BENCH_OUT=$(mktemp -d /var/tmp/vmlab-bench.XXXXXX)
	chmod 755 "$BENCH_OUT"
	trap _bench_exit EXIT
	trap 'exit 130' INT TERM
	# A private copy of the binary: a `make` in the tree during the run must not swap it.
	cp "$BENCH_VMLAB" "$BENCH_OUT/vmlab" || bench_die "cannot copy $BENCH_VMLAB"
	BENCH_VMLAB=$BENCH_OUT/vmlab
	e2e_setup "$BENCH_VMLAB" "$name" || bench_die "e2e_setup failed"
}

bench_project() { # DIR N
	local dir=$1 n=$2 i
	rm -rf "$dir"
	{
		printf '[lab]\nname = %s\n' "$(basename "$dir")"
		printf '[defaults]\nimage  = test-minimal\ncpus   = 1\nmemory = 256M\ndisk   = 2G\n'
		for ((i = 1; i <= n; i++)); do printf '[vm vm%d]\n' "$i"; done
	} | e2e_project "$dir"
}

now() { date +%s.%N; }

# in_dir DIR CMD...: CMD (a shell function such as vmlab, too) run in DIR, in a subshell.
in_dir() { (cd "$1" && shift && "$@"); }

bench_time() {
	local s e rc
	s=$(now)
	"$@" >"$BENCH_OUT/last.log" 2>&1
	rc=$?
	e=$(now)
	awk -v a="$s" -v b="$e" 'BEGIN { printf "%.3f\n", b - a }'
	return $rc
}

median() {
	printf '%s\n' "$@" | grep . | sort -g |
		awk '{ a[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) printf "%.3f\n", a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "n/a" || b == "n/a") print "n/a"; else printf "%.2f\n", a / b }'
}

# sum X...: the sum, 3 decimals.
sum() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.3f\n", s }'; }

hf_medians() { jq -r '.results[] | [.command, .median, .stddev] | @tsv' "$1"; }

# vmlab_timing FIELD FILE: a figure from vmlab -v's "timing: plan X s, ..." line
# (FIELD: plan, images, base upload, base verify, network, create+start, wait for ssh,
# wait for cloud-init, wait, provision, total).
vmlab_timing() {
	grep -m1 'timing:' "$2" | tr ',' '\n' | sed 's/.*timing://' |
		awk -v f="$1" '{ v = $(NF - 1); $NF = ""; $(NF - 1) = ""; sub(/^ +/, ""); sub(/ +$/, "")
			if ($0 == f) { print v; exit } }'
}

bench_ips() { # DIR
	(cd "$1" && vmlab status --json) | jq -r '.vms[] | "\(.name) \(.ip)"'
}

bench_wait_ssh() { # DIR VM IP [TIMEOUT]
	local dir=$1 vm=$2 ip=$3 timeout=${4:-300} kh
	kh=$BENCH_OUT/known_hosts.$vm
	printf '%s %s\n' "$ip" "$(cut -d' ' -f1,2 "$dir/.vmlab/hostkeys/${vm}_ed25519.pub")" >"$kh"
	vl_ns_exec timeout "$timeout" bash -c '
		until ssh -n -q -i "$1/.vmlab/id_ed25519" -o UserKnownHostsFile="$2" \
			-o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=2 \
			-o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR vmlab@"$3" true 2>/dev/null
		do sleep 0.1; done' bench-ssh "$dir" "$kh" "$ip"
}
