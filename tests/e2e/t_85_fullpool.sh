# shellcheck shell=bash
# A full pool. The pool vmlab is told to use ([storage] pool = vlfull) sits on a small ext4
# loop-mounted in the daemons' mount namespace and is filled with a file: up refuses the
# base upload up front with both figures; a pool with room for the base but not the overlay
# fails in one line naming pool and directory; so does a snapshot that fills it. Nothing
# half-made stays (no volume, no snapshot), and each step works once space is freed.
fp_lpid=$(cat "$VL_E2E_STATE/libvirtd.pid")
inns() { nsenter -t "$fp_lpid" -m -- "$@"; }
fmnt=$E2E_TMP/fullpool
mkdir -p "$fmnt"
truncate -s 320M "$E2E_TMP/fullpool.img"
if mkfs.ext4 -q -m 0 "$E2E_TMP/fullpool.img" && inns mount -o loop "$E2E_TMP/fullpool.img" "$fmnt" &&
	vl_virsh pool-define-as vlfull dir --target "$fmnt" >/dev/null &&
	vl_virsh pool-start vlfull >/dev/null; then
	fconf=$E2E_TMP/fullpool.conf
	sed -e 's/^pool = vmlab$/pool = vlfull/' -e "s|^pool_dir = .*|pool_dir = $fmnt|" "$E2E_CONF" >"$fconf"
	p=$E2E_TMP/fullp
	e2e_project "$p" <<-'INI'
	[lab]
	name = fullp
	[defaults]
	image  = test-minimal
	memory = 256M
	[vm a]
	INI
	id=$(lab_id "$p")
	fv() { (cd "$p" && vl_ns_exec env VMLAB_CONFIG="$fconf" HOME="$E2E_HOME" "$E2E_VMLAB" "$@"); }
	vols() {
		vl_virsh pool-refresh vlfull >/dev/null 2>&1
		vl_virsh vol-list vlfull 2>/dev/null | awk 'NR > 2 && $1 { print $1 }' | sort | tr '\n' ' '
	}
	fill() { # KIB: leave about that much free
		inns rm -f "$fmnt/filler"
		local avail
		avail=$(inns df -B1 --output=avail "$fmnt" | tail -1)
		inns fallocate -l $((avail - $1 * 1024)) "$fmnt/filler"
	}
	has() { # what ERE text
		if printf '%s\n' "$3" | grep -qE -- "$2"; then ok "$1"; else bad "$1: /$2/ not in: $(printf '%s' "$3" | tail -3)"; fi
	}

	# 1. no room for the base image: refused before the upload
	fill 4096
	out=$(fv up 2>&1); rc=$?
	check_rc "up into a full pool fails" 1 "$rc"
	has "up front: pool, directory, volume and both figures" \
		"not enough space in pool vlfull \\($fmnt\\): base volume vmlab-base-[0-9a-f]+\\.qcow2 of image test-minimal needs 17\\.[0-9] MiB, [0-9.]+ MiB free$" "$out"
	check_eq "... and no volume in the pool" "" "$(vols)"

	# 2. room for the base image, not for the overlay (or the seed)
	size_kib=$(( ($(stat -c %s "$E2E_TMP/cache/test-minimal.qcow2") + 1023) / 1024 ))
	fill $((size_kib + 16))
	out=$(fv up 2>&1); rc=$?
	check_rc "up with room for the base only fails" 1 "$rc"
	has "ENOSPC named: pool, directory, volume" \
		"no space left in pool vlfull \\($fmnt\\) for vmlab-$id-a(\\.qcow2|-seed\\.iso) \\([0-9.]+ [KM]?i?B free\\)$" "$out"
	check_eq "... the complete base volume stays, nothing half-made" "vmlab-base-" \
		"$(vols | sed 's/[0-9a-f]*\.qcow2 $//')"

	# 3. space freed: up works
	inns rm -f "$fmnt/filler"
	out=$(fv up 2>&1); rc=$?
	check_rc "up after freeing space" 0 "$rc"
	[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -8

	# 4. a snapshot (with memory) into a full pool
	fill 1024
	out=$(fv snapshot save s1 2>&1); rc=$?
	check_rc "snapshot save into a full pool fails" 1 "$rc"
	has "ENOSPC named: pool, directory, snapshot, memory" \
		"no space left in pool vlfull \\($fmnt\\): snapshot 's1' of a needs up to 256\\.0 MiB, [0-9.]+ [KM]?i?B free" "$out"
	check_eq "... and leaves no snapshot" "" "$(vl_virsh snapshot-list "vmlab-$id-a" --name 2>/dev/null | grep -v '^$')"
	inns rm -f "$fmnt/filler"
	out=$(fv snapshot save s1 2>&1); rc=$?
	check_rc "snapshot save after freeing space" 0 "$rc"
	[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -5
	check_eq "the VM still answers" ok "$(fv ssh a -- echo ok 2>&1)"

	fv destroy --force >/dev/null 2>&1
	check_eq "destroy leaves no volume of the lab in the pool" "" "$(vols | tr ' ' '\n' | grep -F "vmlab-$id")"
	check_eq "nothing left of the lab" "" "$(leftovers "$id")"
	for v in $(vols); do vl_virsh vol-delete --pool vlfull "$v" >/dev/null 2>&1; done
else
	bad "cannot set up a loop-mounted pool"
fi
vl_virsh pool-destroy vlfull >/dev/null 2>&1
vl_virsh pool-undefine vlfull >/dev/null 2>&1
inns umount "$fmnt" 2>/dev/null
rm -f "$E2E_TMP/fullpool.img"
