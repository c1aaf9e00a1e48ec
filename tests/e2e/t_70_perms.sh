# shellcheck shell=bash
# QEMU only reads pool volumes: up works when the image cache sits where QEMU's user cannot
# look (a 0700 directory), and for a non-root user in group libvirt whose home is 0700 (Debian
# 12's default for new users, cache in ~/.cache). Nothing of either is left after destroy and
# image prune.
# The test config names a cache; these runs use their own config without one.
conf2=$(e2e_conf_nocache)

# 1. root, VMLAB_CACHE in a 0700 directory
priv=$E2E_TMP/private
mkdir -p "$priv" && chmod 700 "$priv"
p=$E2E_TMP/perm-root
e2e_project "$p" <<'INI'
[defaults]
image  = test-minimal
memory = 256M
[vm box]
INI
id=$(lab_id "$p")
vm0700() { (cd "$p" && vl_ns_exec env VMLAB_CONFIG="$conf2" VMLAB_CACHE="$priv/cache" \
	HOME="$E2E_HOME" "$E2E_VMLAB" "$@"); }
out=$(vm0700 up 2>&1); rc=$?
check_rc "up with VMLAB_CACHE in a 0700 directory" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -15
check_eq "that cache holds the image" yes "$([ -f "$priv/cache/test-minimal.qcow2" ] && echo yes)"
check_eq "ssh into it" ok "$(vm0700 ssh box -- echo ok 2>&1)"
back=$(vl_virsh vol-dumpxml --pool vmlab "vmlab-$id-box.qcow2" |
	awk '/<backingStore>/ { b = 1 } b && /<path>/ { gsub(/.*<path>|<\/path>.*/, ""); print; exit }')
case "$back" in "$VL_E2E_POOL_DIR"/vmlab-base-*) ok "the overlay is backed by a pool volume ($back)" ;;
*) bad "the overlay is backed by $back, not a pool volume" ;; esac
vm0700 destroy --force >/dev/null 2>&1
check_eq "0700-cache lab destroyed without leftovers" "" "$(leftovers "$id")"

# 2. a non-root user in group libvirt, home 0700, default cache ~/.cache/vmlab/images
user=vlsee2e
vl_user_add "$user"
home=$(getent passwd "$user" | cut -d: -f6)
check_eq "the user's home is 0700" 700 "$(stat -c %a "$home")"
up=$home/proj
e2e_user_project "$user" "$up" mine
asuser() { vmlab_as "$user" "$home" "$conf2" "$up" "$@"; }
uid=$(asuser plan --json | jq -r .lab.id)
out=$(asuser up 2>&1); rc=$?
check_rc "up as a non-root user with a 0700 home" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -15
check_eq "the image is in the user's own cache" yes \
	"$([ -f "$home/.cache/vmlab/images/test-minimal.qcow2" ] && echo yes)"
check_eq "ssh as that user" vmlab "$(asuser ssh box -- id -un 2>&1)"
asuser destroy --force >/dev/null 2>&1
check_eq "non-root lab destroyed without leftovers" "" "$(leftovers "$uid")"
out=$(asuser image prune 2>&1); rc=$?
check_rc "image prune as that user" 0 "$rc"
check_eq "no base volume is left" "" \
	"$(vl_virsh vol-list vmlab 2>/dev/null | awk '$1 ~ /^vmlab-base-/ { print $1 }')"
