# shellcheck shell=bash
# gc removes only its own: two owners (root and a user in group libvirt) on one daemon, each
# with a lab whose project directory is then deleted. Each gc removes its own orphan, leaves
# the other's alone and says how many objects it skipped.
owner=vlowner2
vl_user_add "$owner"
ohome=$(getent passwd "$owner" | cut -d: -f6)
conf_o=$(e2e_conf_nocache)
asowner() { vmlab_as "$owner" "$ohome" "$conf_o" "$ohome/gone" "$@"; }
e2e_user_project "$owner" "$ohome/gone" theirs
pr=$E2E_TMP/mine-gone
e2e_project "$pr" <<'INI'
[lab]
name = mine
[defaults]
image  = test-minimal
memory = 256M
[vm box]
INI
oid=$(asowner plan --json | jq -r .lab.id)
rid=$(lab_id "$pr")
(cd "$pr" && vmlab up >/dev/null 2>&1); r1=$?
asowner up >/dev/null 2>&1; r2=$?
check_eq "a lab of each owner is up" "0 0" "$r1 $r2"
rm -rf "$pr" "$ohome/gone"
out=$(cd "$E2E_TMP" && vmlab gc --force 2>&1); rc=$?
check_rc "root's gc" 0 "$rc"
check_eq "root's gc removed its own orphan" "" "$(leftovers "$rid")"
check_eq "root's gc left the other owner's lab" 2 "$(leftovers "$oid" | grep -cE '^(domain|network)')"
check_contains "root's gc says it skipped the other owner's objects" "of other owners alone" "$out"
out=$(vmlab_as "$owner" "$ohome" "$conf_o" "$ohome" gc --json --force 2>&1); rc=$?
check_rc "the other owner's gc" 0 "$rc"
check_eq "the other owner's gc removed its orphan" "" "$(leftovers "$oid")"
