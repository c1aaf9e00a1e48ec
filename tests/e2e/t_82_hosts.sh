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
Match User vlfar
	AuthorizedKeysFile .ssh/authorized_keys
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
# the same far over qemu+ssh:// (libvirt runs OpenSSH): through vmlab's wrapper (command=) ssh
# checks far's key in vmlab's known_hosts only, strictly
suri="qemu+ssh://root@169.254.79.2/system?keyfile=$sd/client"
sconf=$E2E_TMP/vmlab-hosts-ssh.conf
cp "$E2E_CONF" "$sconf"
printf '[hosts]\nnear = %s\nfar = %s\n' "$VL_E2E_URI" "$suri" >>"$sconf"
S() { (cd "$ph" && vl_ns_exec env VMLAB_CONFIG="$sconf" HOME="$E2E_HOME" "$E2E_VMLAB" class "$@"); }
out=$(S plan 2>&1)
check_contains "qemu+ssh: far's key not in vmlab's known_hosts: far is down" "far is down" "$out"
check_contains "qemu+ssh: refused by ssh's own host key check" "Host key verification failed" "$out"
check_eq "qemu+ssh: nothing added to vmlab's known_hosts" "" \
	"$(cat "$E2E_HOME/.config/vmlab/known_hosts" 2>/dev/null)"
check_eq "qemu+ssh: vmlab's ssh wrapper is 0700" 700 \
	"$(stat -c %a "$E2E_HOME"/.config/vmlab/ssh-* 2>/dev/null)"
echo "169.254.79.2 $(cat "$sd/host_ed25519.pub")" >"$E2E_HOME/.config/vmlab/known_hosts"
splan=$(S plan --json 2>&1); rc=$?
check_rc "qemu+ssh: class plan with far's key pinned in vmlab's known_hosts" 0 "$rc"
check_eq "qemu+ssh: the seats spread over both hosts" "far near" \
	"$(jq -r '[.seats[].host] | sort | join(" ")' <<<"$splan" 2>/dev/null)"

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
st=$(S status --json 2>&1)
check_eq "qemu+ssh: class status, far's guest through its sshd" "2/2 2" \
	"$(jq -r '"\(.totals.vms_up)/\(.totals.vms_total) \(.totals.ssh_ok)"' <<<"$st" 2>/dev/null)"

# far's seat's handout jumps through far's own sshd (jump.far), its key pinned in the bundle;
# the block printed for far, installed there by hand, lets the bundle reach that seat only
cp "$sd/host_ed25519.pub" "$ph/far_host.pub"
printf 'jump.far = vlfar@169.254.79.2\njump_key.far = far_host.pub\n' >>"$ph/vmlab.ini"
vl_user_add vlfar >/dev/null 2>&1 || bad "jump account vlfar"
usermod -p '*' vlfar   # no password, but not locked: sshd without PAM refuses locked accounts
ex=$E2E_TMP/handouts-hosts  # t_65 exports to handouts, and export wants a new directory
out=$(H export "$ex" 2>&1); rc=$?
check_rc "class export with jump.far" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -10
check_contains "export prints far's block to install on far" \
	"add this block to ~vlfar/.ssh/authorized_keys on 169.254.79.2" "$out"
check_eq "far's bundle jumps through far's sshd" "169.254.79.2 22 vlfar" \
	"$(awk '/^Host jump/{j=1;next} /^Host /{j=0} j&&$1=="HostName"{h=$2} j&&$1=="Port"{p=$2} j&&$1=="User"{u=$2} END{print h, p, u}' "$ex/$fs/ssh_config" 2>/dev/null)"
check_eq "far's bundle pins far's sshd key" 1 \
	"$(grep -c "^169.254.79.2 $(cut -d' ' -f1-2 "$sd/host_ed25519.pub")\$" "$ex/$fs/known_hosts" 2>/dev/null)"
check_eq "near's seat (no jump for near): reached directly" 0 \
	"$(grep -c '^Host jump' "$ex/$ns/ssh_config" 2>/dev/null)"
check_eq "authorized_keys.far: far's seat's key, open to its guest only" 1 \
	"$(grep -c "permitopen=\"$fip:22\"" "$ex/authorized_keys.far" 2>/dev/null)"
fhome=$(getent passwd vlfar | cut -d: -f6)
mkdir -p "$fhome/.ssh"
cp "$ex/authorized_keys.far" "$fhome/.ssh/authorized_keys"
chown -R vlfar: "$fhome/.ssh"
bundle() { (cd "$ex/$fs" && vl_ns_exec timeout 60 "$@" </dev/null); }
check_eq "far's bundle logs in to far's seat through far's sshd" a \
	"$(bundle ssh -F ssh_config -o BatchMode=yes a hostname 2>&1)"
bundle ssh -F ssh_config -o BatchMode=yes -W "$fip:23" jump >/dev/null 2>&1; rc=$?
[ "$rc" != 0 ] && ok "far's jump opens nothing but the seat's port 22 ($rc)" ||
	bad "far's jump let -W $fip:23 through"
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
