# shellcheck shell=bash
# A class over two libvirt hosts: the harness's daemon ("near", its lab networks routed here)
# and a second libvirtd in network and mount namespaces of its own ("far"), reached over SSH
# (qemu+libssh as root with a key; far's host key in vmlab's own known_hosts). Nothing routes
# far's lab networks here: its guests are reached through far's sshd (a jump, vmlab's libssh
# channel, no `ssh`). Two seats of one minimal VM spread over both; with far's daemon stopped
# the host is reported down and the next class up makes its seat again on near, from the
# image, and says so.
fname=${VL_NS}-f
fstate=$VL_E2E_STATE_ROOT/$fname
E2E_EXTRA_HARNESSES="${E2E_EXTRA_HARNESSES:-} $fname"
# started in a subshell: the harness's variables keep naming the first daemon
if (VL_E2E_QUIET=1 VL_E2E_POOL_DIR=/var/lib/vmlab/pool-$fname vl_harness_start "$fname"); then
	ok "a second libvirtd in netns $fname"
else
	bad "a second libvirtd in netns $fname"
fi
ip link add vlf-a netns "$VL_NS" type veth peer name vlf-b netns "$fname"
ip -n "$VL_NS" addr add 169.254.79.1/30 dev vlf-a
ip -n "$fname" addr add 169.254.79.2/30 dev vlf-b
ip -n "$VL_NS" link set vlf-a up
ip -n "$fname" link set vlf-b up

# far's sshd, in its daemon's network and mount namespaces: root logs in with a key; libvirt
# runs virt-ssh-helper there, which finds the daemon at the default socket
sd=$E2E_TMP/far-sshd
mkdir -p "$sd" /run/sshd "$E2E_HOME/.config/vmlab"
ssh-keygen -q -t ed25519 -N '' -f "$sd/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -f "$sd/client"
cp "$sd/client.pub" "$sd/authorized_keys"
ln -sf "$fstate/sock/libvirt-sock" "$fstate/root/run/libvirt/libvirt-sock"
cat >"$sd/sshd_config" <<CFG
ListenAddress 169.254.79.2
HostKey $sd/host_ed25519
PidFile $sd/sshd.pid
AuthorizedKeysFile $sd/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
LogLevel DEBUG1
CFG
nsenter -t "$(cat "$fstate/virtlogd.pid")" -m -n /usr/sbin/sshd -f "$sd/sshd_config" -E "$sd/sshd.log"
furi="qemu+libssh://root@169.254.79.2/system?keyfile=$sd/client"
hconf=$E2E_TMP/vmlab-hosts.conf
cp "$E2E_CONF" "$hconf"
printf '[hosts]\nnear = %s\nfar = %s\n' "$VL_E2E_URI" "$furi" >>"$hconf"
H() { (cd "$ph" && vl_ns_exec env VMLAB_CONFIG="$hconf" HOME="$E2E_HOME" "$E2E_VMLAB" class "$@"); }
fvirsh() { virsh -q -c "qemu+unix:///system?socket=$fstate/sock/libvirt-sock" "$@"; }

ph=$E2E_TMP/hosts
e2e_project "$ph" <<'INI'
[lab]
name = two
[defaults]
image  = test-minimal
memory = 256M
[vm a]
[class]
seats = 2
INI

# far's key not yet in vmlab's known_hosts: refused, not trusted on first use
out=$(H plan 2>&1); rc=$?
check_contains "far's host key unknown: the host is down, not trusted" "far is down" "$out"
check_eq "vmlab's known_hosts is not written" "" "$(cat "$E2E_HOME/.config/vmlab/known_hosts" 2>/dev/null)"
echo "169.254.79.2 $(cat "$sd/host_ed25519.pub")" >"$E2E_HOME/.config/vmlab/known_hosts"

plan=$(H plan --json 2>&1); rc=$?
check_rc "class plan over two hosts" 0 "$rc"
check_eq "the seats spread over both hosts" "far near" \
	"$(jq -r '[.seats[].host] | sort | join(" ")' <<<"$plan")"
fs=$(jq -r '.seats[] | select(.host == "far") | .id' <<<"$plan")
ns=$(jq -r '.seats[] | select(.host == "near") | .id' <<<"$plan")
fip=$(jq -r '.seats[] | select(.host == "far") | .vms[0].ip' <<<"$plan")
fdom=$(jq -r '.seats[] | select(.host == "far") | .vms[0].domain' <<<"$plan")

t0=$(now)
out=$(H up 2>&1); rc=$?
check_rc "class up over near and far (qemu+libssh) ($(elapsed "$t0") s)" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -20
check_eq "far's seat is a domain of far's daemon" "$fdom" "$(fvirsh list --name | grep -x "$fdom")"
vl_ns_exec timeout 3 bash -c "exec 3<>/dev/tcp/$fip/22" 2>/dev/null; rc=$?
[ "$rc" != 0 ] && ok "far's guest ($fip) is not reachable from here directly" ||
	bad "far's guest $fip answers directly: the jump is not tested"
st=$(H status --json 2>&1)
check_eq "class status: 2/2 VMs up, both answer SSH (far's through its sshd)" "2/2 2" \
	"$(jq -r '"\(.totals.vms_up)/\(.totals.vms_total) \(.totals.ssh_ok)"' <<<"$st")"
check_eq "class status shows each seat's host" "far near" \
	"$(jq -r '[.seats[].host] | sort | join(" ")' <<<"$st")"
check_eq "class ssh to far's seat" a "$(H ssh "$fs" a -- hostname 2>&1)"
check_contains "the guest connection went through far's sshd (a direct-tcpip channel)" \
	"target $fip port 22" "$(grep 'server_request_direct_tcpip' "$sd/sshd.log" | tail -1)"
out=$(H exec --all -- sh -c 'exit 0' 2>&1); rc=$?
check_rc "class exec --all over both hosts" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -20
H exec "$fs" -- sh -c 'exit 4' >/dev/null 2>&1; rc=$?
check_rc "class exec on far's seat: the remote status" 4 "$rc"
H ssh "$fs" a -- sh -c 'echo far > marker' >/dev/null 2>&1
out=$(H reset "$fs" 2>&1); rc=$?
check_rc "class reset of far's seat" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -20
H ssh "$fs" a -- test -e marker >/dev/null 2>&1; rc=$?
check_rc "far's seat: the file is gone after the reset" 1 "$rc"

# far's daemon stops: reported down, its seat made again on near
flpid=$(cat "$fstate/libvirtd.pid")
kill -TERM "$flpid"
for _ in $(seq 1 100); do kill -0 "$flpid" 2>/dev/null || break; sleep 0.1; done
out=$(H status 2>&1)
check_contains "class status reports far down" "host far is down" "$out"
t0=$(now)
out=$(H up 2>&1); rc=$?
check_rc "class up with far down ($(elapsed "$t0") s)" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -20
check_contains "class up says far's seat is made again on near" \
	"seat $fs: host far is down; making it again on near from the image" "$out"
st=$(H status --json 2>/dev/null)   # (stderr: far is down)
check_eq "both seats on near, 2 VMs up, both answer SSH" "near near 2/2 2" \
	"$(jq -r '"\([.seats[].host] | join(" ")) \(.totals.vms_up)/\(.totals.vms_total) \(.totals.ssh_ok)"' <<<"$st")"
check_eq "the moved seat has a baseline again" true \
	"$(jq -r --arg s "$fs" '.seats[] | select(.id == $s) | .baseline' <<<"$st")"
check_eq "far's seat answers on near" a "$(H ssh "$fs" a -- hostname 2>/dev/null)"
# far answers again, still holding its old copy of the seat: the next class up removes it
nsenter -t "$(cat "$fstate/virtlogd.pid")" -m -n \
	libvirtd -d -f "$fstate/libvirtd.conf" -p "$fstate/libvirtd.pid"
for _ in $(seq 1 100); do fvirsh version >/dev/null 2>&1 && break; sleep 0.1; done
check_eq "far's daemon is back with the old copy" "$fdom" "$(fvirsh list --all --name | grep -x "$fdom")"
out=$(H up 2>&1); rc=$?
check_rc "class up with far back" 0 "$rc"
check_contains "class up destroys the old copy on far" \
	"seat $fs: destroying its old copy on host far (it runs on near)" "$out"
check_eq "far holds no domain of the class" "" "$(fvirsh list --all --name | grep '^vmlab-')"
check_eq "far's seat still answers on near" "near a" \
	"$(H status --json 2>/dev/null | jq -r --arg s "$fs" '.seats[] | select(.id == $s) | .host') $(H ssh "$fs" a -- hostname 2>/dev/null)"
out=$(H destroy --force 2>&1); rc=$?
check_rc "class destroy" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -10
check_eq "nothing of either seat left on near" "" \
	"$(for s in "$fs" "$ns"; do leftovers "$(jq -r --arg s "$s" '.seats[] | select(.id == $s) | .lab_id' <<<"$plan")"; done)"
check_eq "nothing of the class left on far" "" \
	"$(fvirsh list --all --name | grep '^vmlab-'; fvirsh net-list --all --name | grep '^vmlab-')"

kill "$(cat "$sd/sshd.pid")" 2>/dev/null
ip -n "$VL_NS" link del vlf-a 2>/dev/null
_vl_stop_name "$fname"
E2E_EXTRA_HARNESSES=${E2E_EXTRA_HARNESSES% "$fname"}
