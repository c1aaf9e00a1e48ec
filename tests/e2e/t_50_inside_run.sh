# shellcheck shell=bash
# Working inside a lab, one three-VM lab of the minimal image: provisioners (a file: entry
# with mode and owner, scripts streaming prefixed output, a cluster script that reaches its
# peer by the IPs it was given, one that fails: up exits with its status naming VM and
# provisioner, its log kept; fixed, the next up runs only that one), provision [--force],
# exec across the VMs (prefix, summary, highest status, --json, --no-prefix, argv kept, a
# halted VM is 255), exec and provision over the held session (one master, warm exec fast,
# a stale master replaced), the serial console driven in tmux.
p=$E2E_TMP/inside
e2e_project "$p" <<'INI'
[lab]
name = inside
[defaults]
image  = test-minimal
cpus   = 1
memory = 256M
disk   = 2G
[vm a]
provision = file:motd.txt /etc/vmlab-motd mode=0640 owner=root:adm
provision = hello.sh
provision = cluster.sh
[vm b]
provision = cluster.sh
provision = fail.sh
[vm c]
INI
echo "welcome to the lab" >"$p/motd.txt"
cat >"$p/hello.sh" <<'SH'
#!/bin/sh
echo "hello from $VMLAB_VM (index $VMLAB_INDEX, lab $VMLAB_LAB)"
echo "to stderr" >&2
sudo -n true && echo "sudo works"
SH
# the peer of a is b and of b is a, found by the addresses the environment gives
cat >"$p/cluster.sh" <<'SH'
#!/bin/sh
set -e
case $VMLAB_VM in a) peer=$VMLAB_IP_B ;; *) peer=$VMLAB_IP_A ;; esac
echo "$VMLAB_VMS" > vms.txt
ping -c 1 -W 5 "$peer" >/dev/null
echo "$peer" > peer.txt
echo run >> cluster.count
SH
printf '#!/bin/sh\necho "about to fail on $VMLAB_VM"\nexit 3\n' >"$p/fail.sh"
id=$(lab_id "$p")

t0=$(now)
out=$(cd "$p" && vmlab up --no-provision 2>&1); rc=$?
check_rc "up --no-provision ($(elapsed "$t0") s)" 0 "$rc"
case "$out" in *provisioning*) bad "up --no-provision provisioned: $out" ;; *) ok "up --no-provision ran none" ;; esac
out=$(cd "$p" && vmlab snapshot save fresh --vm a 2>&1); rc=$?
check_rc "snapshot of a before provisioning" 0 "$rc"
t0=$(now)
out=$(cd "$p" && vmlab up 2>&1); rc=$?
check_rc "up with a failing provisioner exits with its status ($(elapsed "$t0") s)" 3 "$rc"
check_contains "the failure names VM and provisioner" "b: provisioner 2 (fail.sh) exited with status 3" "$out"
check_contains "output lines are prefixed with the VM" "a: hello from a (index 1, lab inside)" "$out"
check_contains "stderr streamed too" "a: to stderr" "$out"
check_contains "sudo is available to provisioners" "a: sudo works" "$out"
log=$p/.vmlab/logs/b-provision-2.log
check_contains "the failing provisioner's log is kept" "about to fail on b" "$(cat "$log" 2>&1)"
out=$(cd "$p" && vmlab logs b 2>&1); rc=$?
check_rc "logs b" 0 "$rc"
check_contains "logs: the provisioner log" "about to fail on b" "$out"
check_contains "logs: cloud-init's part (none on the minimal image)" "b has no cloud-init output" "$out"
check_contains "logs: the console log, or why it cannot be read here" "== console" "$out"
st=$(cd "$p" && vmlab status --json)
ip_a=$(jq -r '.vms[] | select(.name=="a") | .ip' <<<"$st")
ip_b=$(jq -r '.vms[] | select(.name=="b") | .ip' <<<"$st")
ip_c=$(jq -r '.vms[] | select(.name=="c") | .ip' <<<"$st")
check_eq "file: entry with mode and owner" "640 root adm" \
	"$(cd "$p" && vmlab ssh a -- stat -c '%a %U %G' /etc/vmlab-motd 2>&1)"
check_eq "file: entry's content" "welcome to the lab" "$(cd "$p" && vmlab ssh a -- sudo cat /etc/vmlab-motd 2>&1)"
check_eq "cluster: a found b by its IP" "$ip_b" "$(cd "$p" && vmlab ssh a -- cat peer.txt 2>&1)"
check_eq "cluster: b found a by its IP" "$ip_a" "$(cd "$p" && vmlab ssh b -- cat peer.txt 2>&1)"
check_eq "cluster: every VM's name and IP" "a=$ip_a b=$ip_b c=$ip_c" \
	"$(cd "$p" && vmlab ssh b -- cat vms.txt 2>&1)"

printf '#!/bin/sh\necho "fixed on $VMLAB_VM"\n' >"$p/fail.sh"
out=$(cd "$p" && vmlab up 2>&1); rc=$?
check_rc "fixed: the next up succeeds" 0 "$rc"
check_contains "fixed: the failed provisioner ran again" "b: fixed on b" "$out"
case "$out" in *"a: provisioning"*|*"provisioning 1/2"*)
	bad "fixed: up ran a provisioner that had succeeded: $out" ;;
*) ok "fixed: only the failed provisioner ran" ;; esac
check_eq "fixed: b's cluster script ran once" run "$(cd "$p" && vmlab ssh b -- cat cluster.count 2>&1)"

out=$(cd "$p" && vmlab provision 2>&1); rc=$?
check_rc "provision with nothing new" 0 "$rc"
case "$out" in *provisioning*) bad "provision ran something recorded: $out" ;;
*) ok "provision skips what is recorded" ;; esac
echo 'echo "hello again"' >>"$p/hello.sh"
out=$(cd "$p" && vmlab provision a 2>&1); rc=$?
check_rc "provision a after a change" 0 "$rc"
check_contains "a changed provisioner runs again" "a: hello again" "$out"
case "$out" in *"cluster.sh"*) bad "an unchanged one ran too: $out" ;;
*) ok "unchanged ones are skipped" ;; esac
out=$(cd "$p" && vmlab provision --force a 2>&1); rc=$?
check_rc "provision --force" 0 "$rc"
check_eq "--force ran a's cluster script again" "run run" \
	"$(cd "$p" && vmlab ssh a -- cat cluster.count 2>&1 | tr '\n' ' ' | sed 's/ $//')"

# the record is in the guest: back before provisioning, a provisions again
out=$(cd "$p" && vmlab rollback fresh 2>&1); rc=$?
check_rc "rollback a to before provisioning" 0 "$rc"
out=$(cd "$p" && vmlab provision 2>&1); rc=$?
check_rc "provision after the rollback" 0 "$rc"
check_contains "after the rollback a's provisioners run again" "a: provisioning 3/3: cluster.sh" "$out"
case "$out" in *"b: provisioning"*) bad "b (not rolled back) provisioned again: $out" ;;
*) ok "b, not rolled back, is left alone" ;; esac

# exec: three VMs, c fails with 4
t0=$(now)
(cd "$p" && vmlab exec --all -- sh -c 'echo "$(hostname) out"; echo "$(hostname) err" >&2; [ "$(hostname)" != c ] || exit 4' \
	>"$E2E_TMP/xo" 2>"$E2E_TMP/xe"); rc=$?
check_rc "exec --all: the highest status ($(elapsed "$t0") s)" 4 "$rc"
check_eq "exec: stdout lines prefixed" "a: a out|b: b out|c: c out" "$(sort "$E2E_TMP/xo" | tr '\n' '|' | sed 's/|$//')"
check_contains "exec: stderr lines prefixed on stderr" "b: b err" "$(cat "$E2E_TMP/xe")"
check_eq "exec: summary gives each VM's status" "a 0|b 0|c 4" \
	"$(awk '$1 ~ /^[abc]$/ && NF >= 3 { print $1, $2 }' "$E2E_TMP/xe" | tr '\n' '|' | sed 's/|$//')"
out=$(cd "$p" && vmlab exec a b --no-prefix -- hostname 2>/dev/null); rc=$?
check_rc "exec VM VM" 0 "$rc"
check_eq "exec --no-prefix" "a b" "$(sort <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
out=$(cd "$p" && vmlab exec a -- printf '%s|' 'a b' "c'd" '$HOME' '' 2>/dev/null)
check_eq "exec: argv kept word for word" "a: a b|c'd|\$HOME||" "$out"
out=$(cd "$p" && vmlab exec --all --json -- sh -c 'hostname; [ "$(hostname)" != b ] || exit 2'); rc=$?
check_rc "exec --json: exit status" 2 "$rc"
check_eq "exec --json: per-VM status and stdout" "a 0 a|b 2 b|c 0 c" \
	"$(jq -r '.vms[] | "\(.name) \(.status) \(.stdout | rtrimstr("\n"))"' <<<"$out" | tr '\n' '|' | sed 's/|$//')"

# exec and provision ride the held session: one master process for the lab, a warm exec
# costs a round trip to it (no handshake), and a stale master (stopped: it never answers)
# is killed and replaced without the user noticing
heldpid() {
	ps -eo pid,stat,args | awk -v d="$p" '$2 !~ /^Z/ && $0 ~ "held-session" && index($0, "-C " d " ") { print $1 }'
}
# cold: the master the ssh calls above left is ended first (SIGTERM: it removes its socket)
for m in $(heldpid); do kill -TERM "$m"; done
for _ in $(seq 1 50); do [ -z "$(heldpid)" ] && break; sleep 0.1; done
t0=$(now)
out=$(cd "$p" && vmlab exec --all -- true 2>&1); rc=$?
check_rc "held: cold exec --all starts a master ($(elapsed "$t0") s)" 0 "$rc"
check_eq "held: one master process for the lab" 1 "$(heldpid | wc -l)"
m1=$(heldpid)
check_eq "held: its socket is 0600" 600 "$(stat -c %a "$p/.vmlab/held.sock" 2>&1)"
t0=$(now)
out=$(cd "$p" && vmlab exec --all -- true 2>&1); rc=$?
t_warm=$(elapsed "$t0")
check_rc "held: warm exec --all ($t_warm s)" 0 "$rc"
awk -v t="$t_warm" 'BEGIN { exit !(t < 1.0) }' && ok "held: warm exec --all under 1 s ($t_warm s)" ||
	bad "held: warm exec --all took $t_warm s (a handshake is about 1.4 s)"
check_eq "held: the same master served it" "$m1" "$(heldpid)"
out=$(cd "$p" && vmlab provision 2>&1); rc=$?
check_rc "held: provision over the master" 0 "$rc"
check_eq "held: ... still one master" "$m1" "$(heldpid)"
kill -STOP "$m1"
t0=$(now)
out=$(cd "$p" && vmlab exec a -- hostname 2>/dev/null); rc=$?
check_rc "held: exec with a stopped master ($(elapsed "$t0") s)" 0 "$rc"
check_eq "held: ... its output" "a: a" "$out"
m2=$(heldpid)
[ -n "$m2" ] && [ "$m2" != "$m1" ] && ok "held: the stale master was replaced ($m1 -> $m2)" ||
	bad "held: master after the stale one: '$m2' (was $m1)"
# gone, or a zombie where nothing reaps orphans (a container's init)
case "$(ps -o stat= -p "$m1" 2>/dev/null)" in
""|Z*) ok "held: the stale master is gone" ;;
*) bad "held: the stale master still runs"; kill -KILL "$m1" ;;
esac

# the serial console driven in a real terminal: the login prompt after Enter, Ctrl-] back
# to the shell with the terminal as it was
csock=$E2E_TMP/tmux-console.sock
ctx() { tmux -S "$csock" "$@"; }
cscr() { ctx capture-pane -p -t con 2>/dev/null; }
cwait() { # WHAT REGEX [SECONDS]
	local i=0
	while [ "$i" -lt $((${3:-20} * 20)) ]; do
		cscr | grep -qE -- "$2" && { ok "$1"; return 0; }
		sleep 0.05
		i=$((i + 1))
	done
	bad "$1 (no /$2/ within ${3:-20} s)"
	cscr | sed 's/^/      | /'
	return 1
}
vl_ns_exec tmux -S "$csock" -f /dev/null new-session -d -s con -x 120 -y 30 -c "$p" \
	env -i PATH="$PATH" TERM=tmux-256color HOME="$E2E_HOME" VMLAB_CONFIG="$E2E_CONF" \
	PS1='con-shell$ ' bash --norc --noprofile -i
cwait "console: a shell in tmux" 'con-shell\$ ?$' 10
ctx send-keys -t con "stty -g >'$E2E_TMP/stty.before'; '$E2E_VMLAB' console a" Enter
cwait "console: the escape key is named on entry" 'Ctrl-\] leaves'
ctx send-keys -t con Enter
cwait "console: Enter brings the guest's login prompt" 'login: *$' 30
ctx send-keys -t con C-]
cwait "console: Ctrl-] leaves, back at the shell" '^con-shell\$ ?$' 10
ctx send-keys -t con "stty -g | cmp -s - '$E2E_TMP/stty.before' && echo tty-restored || echo tty-changed" Enter
cwait "console: the terminal settings are restored" '^tty-restored' 10
ctx kill-server 2>/dev/null

out=$(cd "$p" && vmlab halt c 2>&1); rc=$?
check_rc "halt c" 0 "$rc"
(cd "$p" && vmlab exec --all -- true >"$E2E_TMP/xo" 2>"$E2E_TMP/xe"); rc=$?
check_rc "exec with a halted VM: 255" 255 "$rc"
check_contains "exec: the summary says why" "not run: c is shut off" "$(cat "$E2E_TMP/xe")"
check_eq "exec: the running VMs ran" "0 0" "$(awk '$1 == "a" || $1 == "b" { print $2 }' "$E2E_TMP/xe" | tr '\n' ' ' | sed 's/ $//')"

out=$(cd "$p" && vmlab destroy --force 2>&1); rc=$?
check_rc "destroy" 0 "$rc"
check_eq "destroy leaves nothing" "" "$(leftovers "$id")"
