# shellcheck shell=bash
# Bad input touches nothing: a bad profile (exit 2), an unknown image (exit 2, found before
# libvirt is contacted), an
# unreachable libvirt (exit 3), and up --dry-run, all leave no libvirt object behind.
p=$E2E_TMP/errors
e2e_project "$p" <<'INI'
[lab]
name = errors
[vm a]
image = test-minimal
memory = 12Q
cpus = 0
INI
out=$(cd "$p" && vmlab up 2>&1); rc=$?
check_rc "bad profile: up exits 2" 2 "$rc"
check_contains "bad profile: FILE:LINE error" "vmlab.ini:5:" "$out"
check_eq "bad profile: nothing created" "" "$(vl_virsh list --all --name | grep -F vmlab-errors)"

e2e_project "$p" <<'INI'
[lab]
name = errors
[vm a]
image = no-such-image
memory = 256M
INI
out=$(cd "$p" && vmlab up 2>&1); rc=$?
check_rc "unknown image: up exits 2" 2 "$rc"
check_contains "unknown image: names it at its line" "vmlab.ini:4: unknown image 'no-such-image'" "$out"
# (plan refuses the unknown image too; the lab id depends on name and directory only)
id=$(cd "$p" && sed -i 's/no-such-image/test-minimal/' vmlab.ini && lab_id "$p")
check_eq "unknown image: no network or domain left" "" "$(leftovers "$id")"

e2e_project "$p" <<'INI'
[lab]
name = errors
[vm a]
image = test-minimal
memory = 256M
INI
out=$(cd "$p" && vmlab up --dry-run 2>&1); rc=$?
check_rc "up --dry-run exits 0" 0 "$rc"
check_contains "up --dry-run shows the domain" "vmlab-$id-a" "$out"
check_eq "up --dry-run touches nothing" "" "$(leftovers "$id")"

out=$(cd "$p" && vmlab --uri 'qemu+unix:///system?socket=/nonexistent/sock' status 2>&1); rc=$?
check_rc "libvirt unreachable: exit 3" 3 "$rc"
check_contains "libvirt unreachable: says so" "cannot connect to libvirt" "$out"
