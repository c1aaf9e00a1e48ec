# shellcheck shell=bash
# Eight ups of eight projects at the same moment, in a subnet pool that holds exactly eight lab
# subnets: choosing a subnet and defining the network happen under the host's allocation lock,
# so each lab gets its own subnet and every one reaches SSH.
conf8=$E2E_TMP/vmlab-pool8.conf
sed -e 's|^subnet_pool *=.*|subnet_pool = 10.214.0.0/21|' "$E2E_CONF" >"$conf8"
grep -q '^lab_prefix' "$conf8" || sed -i 's|^subnet_pool = 10.214.0.0/21|&\nlab_prefix = 24|' "$conf8"
v8() { (cd "$1" && shift && vl_ns_exec env VMLAB_CONFIG="$conf8" HOME="$E2E_HOME" "$E2E_VMLAB" "$@"); }
pids=() dirs=()
for i in 1 2 3 4 5 6 7 8; do
	d=$E2E_TMP/par$i
	e2e_project "$d" <<-INI
	[lab]
	name = par$i
	[defaults]
	image  = test-minimal
	memory = 256M
	[vm box]
	INI
	dirs+=("$d")
done
t0=$(now)
for d in "${dirs[@]}"; do
	v8 "$d" up >"$d.log" 2>&1 &
	pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || { failed=$((failed + 1)); tail -5 "${dirs[$i]}.log"; }
done
check_eq "eight simultaneous ups all succeed ($(elapsed "$t0") s)" 0 "$failed"
subnets=$(for d in "${dirs[@]}"; do v8 "$d" status --json | jq -r .network.subnet; done | sort)
check_eq "eight labs, eight different subnets" 8 "$(uniq <<<"$subnets" | grep -c /24)"
reach=0
for d in "${dirs[@]}"; do
	[ "$(v8 "$d" ssh box -- echo ok 2>/dev/null)" = ok ] && reach=$((reach + 1))
done
check_eq "every one answers SSH" 8 "$reach"
ids=$(for d in "${dirs[@]}"; do lab_id "$d"; done)
pids=()
for d in "${dirs[@]}"; do
	v8 "$d" destroy --force >/dev/null 2>&1 &
	pids+=($!)
done
wait "${pids[@]}"
left=$(for id in $ids; do leftovers "$id"; done)
check_eq "eight labs destroyed without leftovers" "" "$left"
