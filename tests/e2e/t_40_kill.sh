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
