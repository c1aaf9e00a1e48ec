# shellcheck shell=bash
# Forwards and the held session, on one VM of the minimal image (busybox httpd in the guest):
#   - up starts the profile's forward; `forward VM L:R` adds one; both in --list and status
#   - 50 parallel HTTP connections through a forward (curl in the netns), again after a
#     rollback and after a reboot; a port in use and a port forwarded elsewhere are
#     one-line errors
#   - the held session: warm `ssh VM -- true` timed, socket 0600, a changed pinned key
#     refused on a warm master, a killed master and a
#     stopped (wedged) one replaced silently, gone after persist idle seconds, and
#     gone (with its forwards) after halt
p=$E2E_TMP/fwd
e2e_project "$p" <<'INI'
[lab]
name = fwd
persist = 4
[defaults]
image  = test-minimal
memory = 256M
[vm box]
forward = 18091:8000
INI
master_pid() { ps -eo pid,args | awk -v d="$p" 'index($0, "-C " d " held-session") { print $1 }' | head -1; }
fetch50() { # PORT: how many of 50 parallel GETs got the page
	vl_ns_exec bash -c 'for i in $(seq 50); do curl -s -m 30 "http://127.0.0.1:$1/" & done; wait' _ "$1" |
		grep -c '^vmlab-forward-page$'
}
t0=$(now)
(cd "$p" && vmlab up >"$E2E_TMP/fwd.up" 2>&1); rc=$?
check_rc "up with a profile forward ($(elapsed "$t0") s)" 0 "$rc"
[ "$rc" = 0 ] || tail -20 "$E2E_TMP/fwd.up"
check_contains "up reports the forward" "box: forward 127.0.0.1:18091 -> 8000" "$(cat "$E2E_TMP/fwd.up")"
# busybox httpd daemonises (its fds to /dev/null), so the command's channel ends
(cd "$p" && vmlab ssh box -- sh -c 'mkdir -p /tmp/www && echo vmlab-forward-page >/tmp/www/index.html &&
	busybox httpd -p 127.0.0.1:8000 -h /tmp/www'); rc=$?
check_rc "httpd started in the guest (through the held session)" 0 "$rc"
check_eq "held socket is 0600" "600" "$(stat -c %a "$p/.vmlab/held.sock" 2>&1)"

(cd "$p" && vmlab forward box 18092:8000 2>"$E2E_TMP/fwd.err"); rc=$?
check_rc "forward box 18092:8000" 0 "$rc"
t0=$(now)
check_eq "50 parallel connections through the profile forward" 50 "$(fetch50 18091)"
check_eq "50 parallel connections through the command's forward ($(elapsed "$t0") s for both)" \
	50 "$(fetch50 18092)"
list=$(cd "$p" && vmlab forward --list)
check_contains "--list: profile forward" "127.0.0.1:18091" "$list"
check_contains "--list: command forward" "127.0.0.1:18092" "$list"
check_eq "--list --json" "18091 profile,18092 command" \
	"$(cd "$p" && vmlab --json forward --list | jq -r 'sort_by(.local) | map("\(.local) \(.origin)") | join(",")')"
check_contains "status shows the forward" "forward box 127.0.0.1:18091 -> 8000 (profile)" \
	"$(cd "$p" && vmlab status)"
(cd "$p" && vmlab forward box 18092:8000); check_rc "the same forward again is fine" 0 $?
err=$( (cd "$p" && vmlab forward box 18092:22) 2>&1); rc=$?
check_rc "a port forwarded elsewhere fails" 1 "$rc"
check_eq "... in one line" 1 "$(printf '%s\n' "$err" | wc -l)"
check_contains "... naming it" "port 18092 on 127.0.0.1 is already forwarded to box:8000" "$err"
err=$( (cd "$p" && vmlab forward box "$E2E_HTTP_PORT:8000") 2>&1); rc=$?
check_rc "a port in use fails" 1 "$rc"
check_eq "... in one line: $err" 1 "$(printf '%s\n' "$err" | wc -l)"
check_contains "... naming it" "port $E2E_HTTP_PORT on 127.0.0.1 is already in use" "$err"
err=$( (cd "$p" && vmlab forward box 18093:0) 2>&1); rc=$?
check_rc "a bad spec is usage (2)" 2 "$rc"

# a rollback: the master's sessions point at a guest that forgot them; it reconnects
(cd "$p" && vmlab snapshot save s1 >/dev/null 2>&1); check_rc "snapshot save" 0 $?
(cd "$p" && vmlab rollback s1 >/dev/null 2>&1); check_rc "rollback" 0 $?
check_eq "50 parallel connections after the rollback" 50 "$(fetch50 18092)"

# warm: one local round trip and a channel on the held session
best=9
for i in 1 2 3 4 5; do
	t0=$(now)
	(cd "$p" && vmlab ssh box -- true); rc=$?
	s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
	best=$(awk -v a="$best" -v b="$s" 'BEGIN { print (b < a ? b : a) }')
done
echo "  warm ssh box -- true: best of 5 ${best} s"
if awk -v s="$best" 'BEGIN { exit !(s <= 0.1) }'; then ok "warm ssh -- true at most 0.1 s ($best s)"
else bad "warm ssh -- true took $best s (> 0.1)"; fi

# the pinned key file changes: the warm session is not used, the new pin is checked
hk=$p/.vmlab/hostkeys/box_ed25519.pub
cp "$hk" "$E2E_TMP/fwd-hk"
ssh-keygen -q -t ed25519 -N '' -f "$E2E_TMP/fwd-otherkey" <<<y >/dev/null 2>&1
cp "$E2E_TMP/fwd-otherkey.pub" "$hk"
out=$( (cd "$p" && vmlab ssh box -- echo ran) 2>&1); rc=$?
check_rc "a changed pinned key: refused, not run on the warm session" 1 "$rc"
check_contains "... says so" "does not match the key vmlab injected" "$out"
cp "$E2E_TMP/fwd-hk" "$hk"
out=$( (cd "$p" && vmlab ssh box -- echo ran) 2>&1)
check_eq "... and the restored key works again" ran "$out"

# a killed master: the next call starts another, silently
pid=$(master_pid)
kill -9 "$pid" 2>/dev/null
t0=$(now)
out=$( (cd "$p" && vmlab ssh box -- echo back) 2>"$E2E_TMP/fwd.err"); rc=$?
check_eq "after kill -9 of the master: ssh works (cold: a new master, $(elapsed "$t0") s)" \
	"0 back" "$rc $out"
check_eq "... silently" "" "$(cat "$E2E_TMP/fwd.err")"
new=$(master_pid)
if [ -n "$new" ] && [ "$new" != "$pid" ]; then ok "a new master ($pid -> $new)"; else bad "no new master ($pid, $new)"; fi
# a wedged master (stopped): no ack, so it is replaced
kill -STOP "$new"
t0=$(now)
out=$( (cd "$p" && vmlab ssh box -- echo again) 2>"$E2E_TMP/fwd.err"); rc=$?
check_eq "a stopped master is replaced ($(elapsed "$t0") s)" "0 again" "$rc $out"
for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$new" 2>/dev/null || break; sleep 0.3; done
kill -0 "$new" 2>/dev/null && { bad "the stopped master $new still exists"; kill -9 "$new"; }
# idle: persist = 4, nothing forwarded in this master
new=$(master_pid)
sleep 6
if [ -n "$new" ] && ! kill -0 "$new" 2>/dev/null; then ok "the master left after persist idle seconds"
else bad "master '$new' still there after persist"; fi

# a reboot: the forward stays, the session comes back for the next connection
(cd "$p" && vmlab forward box 18092:8000 >/dev/null 2>&1)
check_eq "forward again" 50 "$(fetch50 18092)"
boot1=$(cd "$p" && vmlab ssh box -- cat /proc/sys/kernel/random/boot_id)
(cd "$p" && vmlab ssh box -- sudo reboot) >/dev/null 2>&1
t0=$(now)
boot2=$boot1
for i in $(seq 90); do
	sleep 1
	boot2=$(cd "$p" && vmlab ssh box -- sh -c 'cat /proc/sys/kernel/random/boot_id; mkdir -p /tmp/www &&
		echo vmlab-forward-page >/tmp/www/index.html && busybox httpd -p 127.0.0.1:8000 -h /tmp/www' 2>/dev/null |
		head -1)
	[ -n "$boot2" ] && [ "$boot2" != "$boot1" ] && break
done
check_eq "the guest rebooted ($(elapsed "$t0") s)" "yes" "$([ -n "$boot2" ] && [ "$boot2" != "$boot1" ] && echo yes)"
check_eq "50 parallel connections through the forward after the reboot" 50 "$(fetch50 18092)"

# halt ends the forwards and the master
pid=$(master_pid)
(cd "$p" && vmlab halt >/dev/null 2>&1); check_rc "halt" 0 $?
if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then ok "the master is gone after halt"
else bad "master '$pid' survived halt"; fi
vl_ns_exec curl -s -m 5 http://127.0.0.1:18092/ >/dev/null; rc=$?
check_rc "the forwarded port is closed after halt (curl: refused)" 7 "$rc"
check_eq "--list after halt" "no forwards" "$(cd "$p" && vmlab forward --list)"
(cd "$p" && vmlab destroy --force >/dev/null 2>&1); check_rc "destroy" 0 $?
pid=$(master_pid)
[ -z "$pid" ] || { bad "a master left after destroy ($pid)"; kill "$pid"; }
