# shellcheck shell=bash
# up killed with SIGKILL half-way: the next up converges, destroy cleans all.
p=$E2E_TMP/killed
e2e_project "$p" <<'INI'
[lab]
name = killed
[defaults]
image  = test-minimal
memory = 256M
[vm a]
[vm b]
INI
id=$(lab_id "$p")
(cd "$p" && exec ip netns exec "$VL_NS" env VMLAB_CONFIG="$E2E_CONF" HOME="$E2E_HOME" \
	"$E2E_VMLAB" up >"$E2E_TMP/killed.log" 2>&1) &
pid=$!
# kill it once the first domain is defined: network, volumes and seeds are half made
for _ in $(seq 1 300); do
	vl_virsh list --all --name | grep -q "vmlab-$id-" && break
	sleep 0.1
done
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
check_contains "up was killed half-way" "vmlab-$id" "$(leftovers "$id")"
out=$(cd "$p" && vmlab up 2>&1); rc=$?
check_rc "up after SIGKILL converges" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -15
check_eq "both VMs answer after the second up" "a b" "$(cd "$p" && echo "$(vmlab ssh a -- hostname) $(vmlab ssh b -- hostname)")"
(cd "$p" && vmlab destroy --force >/dev/null 2>&1); rc=$?
check_rc "destroy after the killed up" 0 "$rc"
check_eq "nothing left of the killed lab" "" "$(leftovers "$id")"

# Ctrl-C (SIGINT) while up waits for SSH: up stops within a poll interval, says so, and the
# next up converges from there (the operation's cancel flag, checked by every wait loop).
(cd "$p" && exec ip netns exec "$VL_NS" env VMLAB_CONFIG="$E2E_CONF" HOME="$E2E_HOME" \
	"$E2E_VMLAB" up >"$E2E_TMP/cancelled.log" 2>&1) &
pid=$!
for _ in $(seq 1 600); do
	grep -q "waiting for ssh" "$E2E_TMP/cancelled.log" 2>/dev/null && break
	sleep 0.1
done
t0=$(now)
kill -INT "$pid" 2>/dev/null
wait "$pid"; rc=$?
took=$(elapsed "$t0")
if [ "$rc" != 0 ] && awk -v t="$took" 'BEGIN { exit !(t < 12) }'; then
	ok "SIGINT during the SSH wait stops up ($took s, exit $rc)"
else
	bad "SIGINT during the SSH wait: exit $rc after $took s"
fi
check_contains "up says it was cancelled" "cancelled" "$(cat "$E2E_TMP/cancelled.log")"
out=$(cd "$p" && vmlab up 2>&1); rc=$?
check_rc "up after a cancelled up converges" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -15
(cd "$p" && vmlab destroy --force >/dev/null 2>&1)
check_eq "nothing left of the cancelled lab" "" "$(leftovers "$id")"
