# shellcheck shell=bash
# A class of 3 seats of a 2-VM lab (minimal image, 256M each): plan, up with the baseline,
# status, reset of one seat (its file gone, another seat's kept, identity the same),
# isolation between seats, exec's exit statuses, up again after a VM died, a seat leaving
# the roster, handouts through the jump host, the TUI's class view and its reset of a seat,
# and destroy leaving nothing.
pc=$E2E_TMP/class
e2e_project "$pc" <<'INI'
[lab]
name = cls
[defaults]
image  = test-minimal
memory = 256M
[vm a]
[vm b]
[class]
seats = 3
INI
C() { (cd "$pc" && vmlab class "$@"); }

plan=$(C plan --json 2>&1); rc=$?
check_rc "class plan" 0 "$rc"
check_eq "class plan: 3 seats of 2 VMs" "3 6" \
	"$(jq -r '"\(.seats | length) \(.seats | map(.vms | length) | add)"' <<<"$plan")"
check_eq "class plan: every seat its own subnet" 3 "$(jq -r '.seats | map(.subnet) | unique | length' <<<"$plan")"
ids=$(jq -r '.seats[].lab_id' <<<"$plan")

t0=$(now)
out=$(C up 2>&1); rc=$?
check_rc "class up of 3 seats x 2 VMs ($(elapsed "$t0") s)" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -20
st=$(C status --json 2>&1)
check_eq "class status: 6 of 6 VMs up, 6 answer SSH with the pinned keys" "6/6 6" \
	"$(jq -r '"\(.totals.vms_up)/\(.totals.vms_total) \(.totals.ssh_ok)"' <<<"$st")"
check_eq "class status: every seat has the baseline" "true" \
	"$(jq -r '.seats | map(.baseline) | all' <<<"$st")"

ip_of() { jq -r --arg s "$1" --arg v "$2" '.seats[] | select(.id == $s) | .vms[] | select(.name == $v) | .ip' <<<"$plan"; }
mac_of() { vl_virsh domiflist "$(jq -r --arg s "$1" '.seats[] | select(.id == $s) | .vms[0].domain' <<<"$plan")" | awk '/:/ { print $5 }'; }
mac1=$(mac_of 1)
C ssh 1 a -- sh -c 'echo one > marker' >/dev/null 2>&1
C ssh 2 a -- sh -c 'echo two > marker' >/dev/null 2>&1
out=$(C reset 1 2>&1); rc=$?
check_rc "class reset 1" 0 "$rc"
check_contains "class reset prints its time" "reset 1 seat in" "$out"
C ssh 1 a -- test -e marker >/dev/null 2>&1; rc=$?
check_rc "seat 1's file is gone after its reset (and its pinned key still logs in)" 1 "$rc"
check_eq "seat 2's file is untouched" two "$(C ssh 2 a -- cat marker 2>/dev/null)"
check_eq "seat 1 keeps its MAC" "$mac1" "$(mac_of 1)"
vl_ns_exec timeout 5 bash -c "exec 3<>/dev/tcp/$(ip_of 1 a)/22" 2>/dev/null; rc=$?
check_rc "seat 1 answers at its planned address after the reset" 0 "$rc"
st=$(C status --json 2>&1)
check_eq "class status: seat 1 has a last reset, seat 2 none" "true true" \
	"$(jq -r '"\(.seats[0].last_reset != null) \(.seats[1].last_reset == null)"' <<<"$st")"

# isolation: nothing of seat 2 answers from seat 1 (its VMs, and the host's side of its network,
# which libvirt's NAT rules leave open: each seat's filter closes it, docs/class.md)
check_eq "every seat VM has the seat's network filter" 6 \
	"$(for d in $(jq -r ".seats[].vms[].domain" <<<"$plan"); do
		vl_virsh dumpxml "$d" | grep -c "filterref filter='vmlab-cls-seat-"; done | paste -sd+ | bc)"
gw2=$(jq -r '.seats[] | select(.id == "2") | .subnet' <<<"$plan" | sed 's|0/24$|1|')
for target in "$(ip_of 2 a)" "$(ip_of 2 b)" "$gw2"; do
	C ssh 1 a -- ping -c 2 -W 2 "$target" >/dev/null 2>&1; rc=$?
	if [ "$rc" != 0 ]; then ok "seat 1 cannot reach seat 2's $target"; else bad "seat 1 reached seat 2's $target"; fi
done
C ssh 1 a -- ping -c 1 -W 5 "$(ip_of 1 b)" >/dev/null 2>&1; rc=$?
check_rc "seat 1's VMs reach each other" 0 "$rc"

out=$(C exec --all -- hostname 2>/dev/null); rc=$?
check_rc "class exec --all" 0 "$rc"
check_eq "class exec --all: one line per VM, prefixed" 6 "$(grep -c '^\[[123]/[ab]\] ' <<<"$out")"
C exec 1 2 -- sh -c 'exit 3' >/dev/null 2>&1; rc=$?
check_rc "class exec: the highest remote status" 3 "$rc"
dom3=$(jq -r '.seats[] | select(.id == "3") | .vms[0].domain' <<<"$plan")
# class status --watch sees the VM stopped from outside, and names its seat
cw=$E2E_TMP/class-watch.out
(cd "$pc" && exec timeout --foreground -s INT 120 ip netns exec "$VL_NS" env VMLAB_CONFIG="$E2E_CONF" \
	HOME="$E2E_HOME" "$E2E_VMLAB" class status --watch >"$cw" 2>&1) &
cwpid=$!
for _ in $(seq 1 300); do grep -q "in sync" "$cw" 2>/dev/null && break; sleep 0.1; done
vl_virsh destroy "$dom3" >/dev/null 2>&1
for _ in $(seq 1 300); do grep -q "seat 3: a shut off" "$cw" 2>/dev/null && break; sleep 0.1; done
check_contains "class status --watch: a seat's VM stopped from outside" "seat 3: a shut off" \
	"$(cat "$cw")"
kill -INT "$cwpid" 2>/dev/null
wait "$cwpid"
C exec 3 -- true >/dev/null 2>&1; rc=$?
check_rc "class exec: a VM not reached is 255" 255 "$rc"
t0=$(now)
out=$(C up 2>&1); rc=$?
check_rc "class up again starts the stopped VM ($(elapsed "$t0") s)" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -5
C exec 3 -- true >/dev/null 2>&1; rc=$?
check_rc "seat 3 answers again" 0 "$rc"

# seat 3 leaves the class: the next up destroys it, the others stay
sed -i 's/^seats = 3/seats = 2/' "$pc/vmlab.ini"
out=$(C up 2>&1); rc=$?
check_rc "class up after a seat left" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -5
check_contains "class up says seat 3 left" "seat 3 left the roster" "$out"
id3=$(jq -r '.seats[] | select(.id == "3") | .lab_id' <<<"$plan")
check_eq "seat 3 is gone" "" "$(leftovers "$id3")"
check_eq "seat 2's file survived" two "$(C ssh 2 a -- cat marker 2>/dev/null)"

# handouts: a student's laptop (a netns of its own, linked to the lab host only) reaches its own
# seat through the jump account's sshd on the lab host, and nothing else
jd=$E2E_TMP/jump
stu=vlstu-$$
mkdir -p "$jd" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$jd/host_ed25519"
cp "$jd/host_ed25519.pub" "$pc/jump_host.pub"
vl_user_add vlstu >/dev/null 2>&1 || bad "jump account vlstu"
usermod -p '*' vlstu   # no password, but not locked: sshd without PAM refuses locked accounts
ip netns add "$stu"
ip link add vlj-a netns "$VL_NS" type veth peer name vlj-b netns "$stu"
ip -n "$VL_NS" addr add 169.254.78.1/30 dev vlj-a
ip -n "$stu" addr add 169.254.78.2/30 dev vlj-b
ip -n "$VL_NS" link set vlj-a up
ip -n "$stu" link set vlj-b up
ip -n "$stu" link set lo up
cat >"$jd/sshd_config" <<CFG
Port 2222
ListenAddress 169.254.78.1
HostKey $jd/host_ed25519
PidFile $jd/sshd.pid
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
CFG
vl_ns_exec /usr/sbin/sshd -f "$jd/sshd_config" -E "$jd/sshd.log"
printf 'jump = vlstu@169.254.78.1:2222\njump_key = jump_host.pub\n' >>"$pc/vmlab.ini"
out=$(C up 2>&1); rc=$?
check_rc "class up with a jump account" 0 "$rc"
ak=$(getent passwd vlstu | cut -d: -f6)/.ssh/authorized_keys
check_eq "class up keeps the seats' keys in the jump account (a marked block)" "2 2" \
	"$(grep -c '^# vmlab class ' "$ak" 2>/dev/null) $(grep -c '^restrict,port-forwarding,command="/bin/false",permitopen=' "$ak" 2>/dev/null)"
out=$(C export "$E2E_TMP/handouts" 2>&1); rc=$?
check_rc "class export" 0 "$rc"
check_contains "class export says where" "2 seat bundles and class.csv" "$out"
check_eq "class.csv: a line per seat" 3 "$(wc -l <"$E2E_TMP/handouts/class.csv")"
check_eq "bundle: key, known_hosts, ssh_config, how-to" "HOWTO.txt id_ed25519 id_ed25519.pub known_hosts ssh_config" \
	"$(ls "$E2E_TMP/handouts/1" | sort | paste -sd' ')"
C export "$E2E_TMP/handouts" >/dev/null 2>&1; rc=$?
check_rc "class export into an existing directory is refused" 1 "$rc"
student() { # SEAT CMD...: the real ssh client on the student's laptop, in the seat's bundle
	local seat=$1
	shift
	(cd "$E2E_TMP/handouts/$seat" && ip netns exec "$stu" timeout 60 "$@" </dev/null)
}
check_eq "the student's bundle logs in to its seat through the jump host" "a" \
	"$(student 1 ssh -F ssh_config -o BatchMode=yes a echo a 2>"$jd/err1")"
check_eq "seat 2's bundle reaches seat 2 (its file)" two \
	"$(student 2 ssh -F ssh_config -o BatchMode=yes a cat marker 2>/dev/null)"
student 1 ssh -F ssh_config -o BatchMode=yes -W "$(ip_of 2 a):22" jump >"$jd/w2" 2>&1; rc=$?
if [ "$rc" != 0 ] && ! grep -q '^SSH-' "$jd/w2"; then ok "seat 1's key cannot open seat 2's address ($rc)"
else bad "seat 1's key opened seat 2's $(ip_of 2 a): $(head -c 200 "$jd/w2")"; fi
student 1 ssh -F ssh_config -o BatchMode=yes -W "$(ip_of 1 b):22" jump >"$jd/w1" 2>&1
check_contains "seat 1's key opens its own VM's port 22" "SSH-2.0" "$(head -c 200 "$jd/w1" | tr -d '\0')"
out=$(student 1 ssh -F ssh_config -o BatchMode=yes jump id 2>&1); rc=$?
if [ "$rc" != 0 ] && [[ "$out" != *uid=* ]]; then ok "no command or shell on the jump host ($rc)"
else bad "the jump account ran a command: $out"; fi
[ -s "$jd/err1" ] && { head -5 "$jd/err1"; tail -5 "$jd/sshd.log"; }

# the TUI (tmux): the class as one group with its seats as sub-groups; R on the class row asks
# for every seat (cancelled), R on seat 2 resets it after the dialog (its file gone)
tsock=$E2E_TMP/tmux-class.sock
tcx() { tmux -S "$tsock" "$@"; }
tscr() { tcx capture-pane -p -t c 2>/dev/null; }
twait() { # WHAT REGEX [SECONDS]: poll the screen every 50 ms
	local i=0
	while [ "$i" -lt $((${3:-15} * 20)) ]; do
		tscr | grep -qE -- "$2" && { ok "$1"; return 0; }
		sleep 0.05
		i=$((i + 1))
	done
	bad "$1 (no /$2/ within ${3:-15} s)"
	tscr | sed 's/^/      | /'
	return 1
}
vl_ns_exec tmux -S "$tsock" -f /dev/null new-session -d -s c -x 100 -y 30 -c "$pc" \
	env LANG=C.UTF-8 TERM=tmux-256color VMLAB_CONFIG="$E2E_CONF" HOME="$E2E_HOME" "$E2E_VMLAB" tui
twait "tui: the class is one group (here)" "^. class cls +2 seats  4/4 VMs up  \(here\)" 30
twait "tui: ... seat 1 a sub-group of its VMs" "^ . seat 1 +2/2 up"
twait "tui: ... seat 2 too" "^ . seat 2 +2/2 up"
# rows: the project's own lab (not created) and its 2 VMs, the class, seat 1 and its VMs, seat 2
tcx send-keys -t c j j j
twait "tui: on the class row the footer offers reset" "R reset"
tcx send-keys -t c R
twait "tui: R on the class row asks for every seat" "  every seat *$" &&
	twait "tui: ... Cancel focused" "\[ Cancel \] +Reset"
tcx send-keys -t c Escape
twait "tui: ... Esc cancels" "reset: cancelled"
tcx send-keys -t c j j j j R
twait "tui: R on seat 2 names it" "  seat 2 *$"
tcx send-keys -t c Tab
twait "tui: Tab focuses Reset" "Cancel +\[ Reset \]"
tcx send-keys -t c Enter
twait "tui: the reset of seat 2 runs as a job and ends" "reset cls: done" 120
C ssh 2 a -- test -e marker >/dev/null 2>&1; rc=$?
check_rc "tui: seat 2's file is gone after its reset from the TUI" 1 "$rc"
tcx send-keys -t c q
for _ in $(seq 100); do tcx has-session -t c 2>/dev/null || break; sleep 0.05; done
tcx kill-server 2>/dev/null

out=$(C destroy --force 2>&1); rc=$?
check_rc "class destroy" 0 "$rc"
check_eq "class destroy removes the jump account's block" 0 "$(grep -c 'vmlab' "$ak" 2>/dev/null)"
kill "$(cat "$jd/sshd.pid")" 2>/dev/null
ip netns del "$stu"
left=""
for id in $ids; do left+=$(leftovers "$id"); done
check_eq "class destroy leaves nothing" "" "$left"
check_eq "class destroy removes the seats' network filters" "" \
	"$(vl_virsh nwfilter-list | awk '$2 ~ /^vmlab-cls-seat-/ { print $2 }')"
