# shellcheck shell=bash
# Real guests, one lab of four network stacks: the minimal image (busybox udhcpc, no
# cloud-init) and three real cloud-init 22.4 guests: ifupdown without resolvconf (Debian 12's
# genericcloud), ifupdown with resolvconf, netplan with systemd-networkd and -resolved.
#   - up returns only once cloud-init has finished (a phase of its own, in --json too);
#     a cloud-init error is a warning naming the module, and a failure with --strict
#   - right after up, 20 consecutive `vmlab ssh VM -- true` work on every VM
#   - from every VM, `getent hosts OTHER` and `getent hosts OTHER.LAB` give the planned IP
if [ "${VL_E2E_SKIP_CLOUDINIT:-0}" = 1 ]; then
	echo "  skip (VL_E2E_SKIP_CLOUDINIT=1)"
	return 0
fi
p=$E2E_TMP/guests
e2e_project "$p" <<'INI'
[lab]
name = guests
user = dev
[defaults]
cpus   = 1
memory = 640M
disk   = 3G
[vm mini]
image  = test-minimal
memory = 256M
[vm ifup]
image  = test-ci-ifupdown
user-data = broken.yaml
[vm resolv]
image  = test-ci-resolvconf
[vm netplan]
image  = test-ci-netplan
INI
# a runcmd that fails: cloud-init's scripts-user module ends in error, as a broken
# provisioning step in a user's own cloud-config would
cat >"$p/broken.yaml" <<'YAML'
#cloud-config
runcmd:
  - [sh, -c, "echo vmlab-e2e: failing on purpose; exit 3"]
YAML
id=$(lab_id "$p")
vms="mini ifup resolv netplan"
t0=$(now)
(cd "$p" && vmlab up --json >"$E2E_TMP/guests.json" 2>"$E2E_TMP/guests.err"); rc=$?
check_rc "four-stack lab up ($(elapsed "$t0") s)" 0 "$rc"
[ "$rc" = 0 ] || tail -30 "$E2E_TMP/guests.err"
err=$(cat "$E2E_TMP/guests.err")
j=$E2E_TMP/guests.json
check_contains "up shows the cloud-init phase" "waiting for cloud-init" "$err"
check_contains "up reports the failed cloud-init module as a warning" \
	"warning: ifup: cloud-init finished with errors: scripts-user" "$err"
check_eq "--json: ok, every VM ready" "true 4" \
	"$(jq -r '[.ok, ([.vms[] | select(.ready)] | length)] | @tsv' "$j" | tr '\t' ' ')"
check_eq "--json: cloud-init per VM" "mini none, ifup error, resolv done, netplan done" \
	"$(jq -r '[.vms[] | "\(.name) \(.cloud_init.status)"] | join(", ")' "$j")"
check_eq "--json: the failing module" "scripts-user" \
	"$(jq -r '.vms[] | select(.name == "ifup") | .cloud_init.errors[0].module' "$j")"
ci_s=$(jq -r '.timing.wait_cloud_init' "$j")
if awk -v s="$ci_s" 'BEGIN { exit !(s > 0) }'; then ok "--json: cloud-init wait timed ($ci_s s)"
else bad "--json: no cloud-init wait time ($ci_s)"; fi

# right after up: every ssh works (cloud-init restarted sshd before up returned, not after)
for vm in $vms; do
	fails=0
	for i in $(seq 20); do
		(cd "$p" && vmlab ssh "$vm" -- true >/dev/null 2>&1) || fails=$((fails + 1))
	done
	check_eq "$vm: 20 ssh right after up" 0 "$fails"
done
for vm in ifup resolv netplan; do
	out=$(cd "$p" && vmlab ssh "$vm" -- cloud-init status 2>&1)
	check_contains "$vm: cloud-init had finished when up returned" "status: " "$out"
	case "$out" in *running*) bad "$vm: cloud-init still running after up" ;; esac
done

# a real cloud image set up as cloud-init does it: the lab user, its key, passwordless sudo,
# the hostname, and the host key vmlab injected (pinned)
out=$(cd "$p" && vmlab ssh resolv -- sh -c 'id -un; hostname; sudo -n true && echo sudo-ok' 2>&1)
check_eq "cloud-init: user, hostname, sudo" "dev
resolv
sudo-ok" "$out"
fp_inj=$(ssh-keygen -lf "$p/.vmlab/hostkeys/resolv_ed25519.pub" | awk '{print $2}')
fp_srv=$(cd "$p" && vmlab ssh resolv -- sudo -n ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub | awk '{print $2}')
check_eq "cloud-init: the guest's host key is the injected one" "$fp_inj" "$fp_srv"

# names: each VM looks up the next one, short and VM.LAB
first=${vms%% *}
plan=$(cd "$p" && vmlab plan --json)
ip_of() { jq -r --arg n "$1" '.vms[] | select(.name == $n) | .ip' <<<"$plan"; }
prev=
for vm in $vms "$first"; do
	if [ -n "$prev" ]; then
		want=$(ip_of "$vm")
		got=$(cd "$p" && vmlab ssh "$prev" -- getent hosts "$vm" 2>&1 | awk '{ print $1 }')
		check_eq "$prev resolves $vm" "$want" "$got"
		got=$(cd "$p" && vmlab ssh "$prev" -- getent hosts "$vm.guests" 2>&1 | awk '{ print $1 }')
		check_eq "$prev resolves $vm.guests" "$want" "$got"
	fi
	prev=$vm
done
for vm in $vms; do
	got=$(cd "$p" && vmlab ssh "$vm" -- sh -c 'PATH=$PATH:/sbin:/usr/sbin; ip -4 addr show' 2>&1 |
		awk '/inet / && $2 !~ /^127\./ { print $2 }')
	check_eq "$vm has its planned address" "$(ip_of "$vm")/24" "$got"
done

# --strict: the same finished cloud-init error now fails up (nothing is started again)
out=$(cd "$p" && vmlab up --strict ifup 2>&1); rc=$?
check_rc "up --strict with a cloud-init error" 1 "$rc"
check_contains "up --strict names the VM and module" \
	"cloud-init finished with errors on ifup: scripts-user" "$out"
out=$(cd "$p" && vmlab up --strict resolv 2>&1); rc=$?
check_rc "up --strict of a clean VM" 0 "$rc"

(cd "$p" && vmlab destroy --force >/dev/null 2>&1)
check_eq "four-stack lab destroyed without leftovers" "" "$(leftovers "$id")"
