# shellcheck shell=bash
# The real Debian cloud-init image: the lab user, its key, passwordless sudo, the hostname,
# and the pinned host key, as a real cloud image would be set up.
if [ ! -f "$E2E_TMP/www/cloudinit-ifupdown.qcow2" ]; then
	echo "  skip (VL_E2E_SKIP_CLOUDINIT=1)"
	return 0
fi
p=$E2E_TMP/real
e2e_project "$p" <<'INI'
[lab]
name = real
user = dev
[vm box]
image  = test-cloudinit
memory = 768M
disk   = 4G
INI
id=$(lab_id "$p")
t0=$(now)
out=$(cd "$p" && vmlab up 2>&1); rc=$?
check_rc "cloud-init image up ($(elapsed "$t0") s)" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -25
out=$(cd "$p" && vmlab ssh box -- sh -c 'id -un; hostname; sudo -n true && echo sudo-ok' 2>&1)
check_eq "cloud-init: user, hostname, sudo" "dev
box
sudo-ok" "$out"
fp_inj=$(ssh-keygen -lf "$p/.vmlab/hostkeys/box_ed25519.pub" | awk '{print $2}')
fp_srv=$(cd "$p" && vmlab ssh box -- sudo -n ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub | awk '{print $2}')
check_eq "cloud-init: the guest's host key is the injected one" "$fp_inj" "$fp_srv"
(cd "$p" && vmlab destroy --force >/dev/null 2>&1)
check_eq "cloud-init lab destroyed without leftovers" "" "$(leftovers "$id")"
