# shellcheck shell=bash
# A second lab gets another subnet and cannot reach the first.
p1=$E2E_TMP/one
p2=$E2E_TMP/two
for p in "$p1" "$p2"; do
	e2e_project "$p" <<'INI'
[defaults]
image  = test-minimal
memory = 256M
[vm box]
INI
done
(cd "$p1" && vmlab up >/dev/null 2>&1); rc1=$?
(cd "$p2" && vmlab up >/dev/null 2>&1); rc2=$?
check_rc "first lab up" 0 "$rc1"
check_rc "second lab up" 0 "$rc2"
s1=$(cd "$p1" && vmlab status --json); s2=$(cd "$p2" && vmlab status --json)
n1=$(jq -r .network.subnet <<<"$s1"); n2=$(jq -r .network.subnet <<<"$s2")
if [ "$n1" != "$n2" ]; then ok "labs got different subnets ($n1, $n2)"; else bad "both labs on $n1"; fi
ip1=$(jq -r '.vms[0].ip' <<<"$s1")
(cd "$p2" && vmlab ssh box -- ping -c 2 -W 2 "$ip1" >/dev/null 2>&1); rc=$?
if [ "$rc" != 0 ]; then ok "second lab cannot reach the first ($ip1)"; else bad "second lab reached $ip1"; fi
(cd "$p1" && vmlab ssh box -- ping -c 1 -W 5 "$(jq -r .network.subnet <<<"$s1" | sed 's|0/24$|1|')" >/dev/null 2>&1); rc=$?
check_rc "a lab reaches its own gateway" 0 "$rc"
id1=$(lab_id "$p1"); id2=$(lab_id "$p2")
# One base volume in the pool for both labs: both overlays are backed by it.
bases() { vl_virsh vol-list vmlab 2>/dev/null | awk '$1 ~ /^vmlab-base-/ { print $1 }'; }
check_eq "two labs of one image share one base volume" 1 "$(bases | wc -l)"
base=$(bases)
b1=$(vl_virsh vol-dumpxml --pool vmlab "vmlab-$id1-box.qcow2" | sed -n 's:.*<path>\(.*vmlab-base-[^<]*\)</path>.*:\1:p')
b2=$(vl_virsh vol-dumpxml --pool vmlab "vmlab-$id2-box.qcow2" | sed -n 's:.*<path>\(.*vmlab-base-[^<]*\)</path>.*:\1:p')
check_eq "both overlays are backed by the base volume" "$base $base" \
	"$(basename "$b1") $(basename "$b2")"
(cd "$p1" && vmlab destroy -f >/dev/null 2>&1)
check_eq "destroying one lab keeps the shared base volume" "$base" "$(bases)"
out=$(cd "$p1" && vmlab image prune --dry-run 2>&1)
case "$out" in *"$base"*) bad "prune would remove the base volume the other lab uses: $out" ;;
*) ok "prune keeps a base volume in use" ;; esac
(cd "$p2" && vmlab destroy -f >/dev/null 2>&1)
check_eq "both labs destroyed without leftovers" "" "$(leftovers "$id1"; leftovers "$id2")"
check_eq "the base volume outlives destroy" "$base" "$(bases)"
out=$(cd "$p1" && vmlab image prune 2>&1); rc=$?
check_rc "image prune after both labs are gone" 0 "$rc"
check_contains "image prune names the base volume" "$base" "$out"
check_eq "image prune removed the base volume" "" "$(bases)"
