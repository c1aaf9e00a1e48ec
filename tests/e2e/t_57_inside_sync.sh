# shellcheck shell=bash
# vmlab sync and image save on one minimal VM (busybox, dropbear):
#   - a bad sync entry is one FILE:LINE line; sync of a VM not running is one line
#   - up pushes the tree before the provisioner runs (the provisioner reads a synced file)
#   - sync after an edit (same size), a delete, a rename to a name with a space, a new tree
#     and a directory replaced by a file: the guest's tree equals the host's, only the
#     changes travel, a file the guest made itself stays
#   - sync --watch pushes a change within seconds and ends on Ctrl-C with status 0
#   - image save refuses a running VM without --halt; saves a flat image with the guest's
#     identity cleared; a second lab from it has the provisioner's file at once, answers
#     with its own pinned host key, and the template shows in image list
p=$E2E_TMP/inside-sync
mkdir -p "$p/src/sub/deep" "$p/src/olddir"
printf 'alpha\n' >"$p/src/a.txt"
printf 'gone\n' >"$p/src/gone.txt"
printf 'renamed\n' >"$p/src/old name.txt"
printf 'deep\n' >"$p/src/sub/deep/d.txt"
printf 'x\n' >"$p/src/olddir/x"
ln -s a.txt "$p/src/link"
chmod 750 "$p/src/sub"
cat >"$p/prov.sh" <<'SH'
#!/bin/sh
set -e
cp "$HOME/src/a.txt" "$HOME/provisioned.txt"
echo "by $VMLAB_VM" >>"$HOME/provisioned.txt"
SH
e2e_project "$p" <<'INI'
[lab]
name = insync
[defaults]
image  = test-minimal
memory = 256M
cpus   = 1
[vm box]
sync      = ./src:/home/vmlab/src
provision = prov.sh
INI
id=$(lab_id "$p")
V() { (cd "$p" && vmlab "$@"); }
one_line() { # what output rc expected-rc
	check_rc "$1: exit status" "$4" "$3"
	check_eq "$1: one line" 1 "$(printf '%s\n' "$2" | grep -c .)"
}
# path, type and content hash of every entry below a tree (the manifest left out)
host_tree() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r f; do
		if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"
		elif [ -d "$f" ]; then echo "$f/"
		else echo "$f $(md5sum <"$f" | cut -c1-32)"; fi
	done)
}
guest_tree() {
	V ssh box -- sh -c 'cd "$1" && find . ! -name . ! -name .vmlab-sync.manifest | LC_ALL=C sort |
		while IFS= read -r f; do
			if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"
			elif [ -d "$f" ]; then echo "$f/"
			else echo "$f $(md5sum <"$f" | cut -c1-32)"; fi
		done' sh "$1"
}

# --- errors ----------------------------------------------------------------------------------
mkdir -p "$p/bad"
printf '[vm box]\nimage = test-minimal\nsync = ./missing:/home/vmlab/x\n' >"$p/bad/vmlab.ini"
out=$(cd "$p/bad" && vmlab validate 2>&1); rc=$?
check_rc "a sync entry naming no directory" 2 "$rc"
check_contains "it names the file and line" "vmlab.ini:3: sync './missing:/home/vmlab/x': No such file" "$out"
out=$(V sync 2>&1); rc=$?
one_line "sync before up" "$out" "$rc" 1
check_contains "sync before up says so" "box is not created" "$out"

# --- up syncs before provisioning -------------------------------------------------------------
t0=$(now)
out=$(V up 2>&1); rc=$?
check_rc "up with a sync entry ($(elapsed "$t0") s)" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -15
check_contains "up reports the push" "synced ./src to /home/vmlab/src" "$out"
check_eq "the provisioner read the synced file" "alpha
by box" "$(V ssh box -- cat /home/vmlab/provisioned.txt 2>&1)"
check_eq "after up the guest's tree is the host's" "$(host_tree "$p/src")" "$(guest_tree /home/vmlab/src)"
check_eq "modes kept" "750" "$(V ssh box -- stat -c %a /home/vmlab/src/sub 2>&1)"

# --- edit, delete, rename, a name with a space, a new tree, a type change ---------------------
V ssh box -- sh -c 'echo mine > /home/vmlab/src/guest-made.txt'
printf 'ALPHA\n' >"$p/src/a.txt"                   # same size: the mtime tells
touch -d '2001-01-01' "$p/src/a.txt"
rm "$p/src/gone.txt"
mv "$p/src/old name.txt" "$p/src/new name.txt"
printf 'space\n' >"$p/src/with space.txt"
mkdir -p "$p/src/fresh/tree"; printf 'f\n' >"$p/src/fresh/tree/f.txt"
rm -r "$p/src/olddir"; printf 'now a file\n' >"$p/src/olddir"
t0=$(now)
out=$(V sync 2>&1); rc=$?
check_rc "sync after changes ($(elapsed "$t0") s)" 0 "$rc"
check_contains "only the changes travel" "5 sent, 3 removed" "$out"
check_eq "the guest's tree is the host's again" "$(host_tree "$p/src")" \
	"$(guest_tree /home/vmlab/src | grep -v guest-made)"
check_eq "the edit arrived with its mtime" "ALPHA $(stat -c %Y "$p/src/a.txt")" \
	"$(V ssh box -- sh -c 'cat /home/vmlab/src/a.txt; stat -c %Y /home/vmlab/src/a.txt' | tr '\n' ' ' | sed 's/ $//')"
check_eq "a file the guest made stays" "mine" "$(V ssh box -- cat /home/vmlab/src/guest-made.txt 2>&1)"
check_eq "no temporary left in the guest" "" "$(V ssh box -- sh -c 'ls -a /home/vmlab/src | grep vmlab-cp' 2>&1)"
t0=$(now)
out=$(V sync 2>&1); rc=$?
check_eq "a sync with nothing changed says nothing ($(elapsed "$t0") s)" "0 " "$rc $out"

# --- 2,000 small files: the first push, then one changed ---------------------------------------
mkdir -p "$p/src/many"
for i in $(seq 1 20); do mkdir "$p/src/many/d$i"; for j in $(seq 1 100); do echo "$i $j" >"$p/src/many/d$i/f$j"; done; done
t0=$(now)
out=$(V sync 2>&1); rc=$?
check_rc "sync of 2,000 new files ($(elapsed "$t0") s)" 0 "$rc"
check_contains "a new tree is one entry" "1 sent, 0 removed" "$out"
echo changed >"$p/src/many/d7/f7"
t0=$(now)
out=$(V sync 2>&1); rc=$?
check_rc "sync of one changed file among 2,000 ($(elapsed "$t0") s)" 0 "$rc"
check_contains "only that file travels" "1 sent, 0 removed" "$out"
check_eq "it arrived" "changed" "$(V ssh box -- cat /home/vmlab/src/many/d7/f7 2>&1)"
rm -r "$p/src/many"
out=$(V sync 2>&1)
check_contains "a removed tree is one delete" "0 sent, 1 removed" "$out"

# --- --watch ------------------------------------------------------------------------------------
(cd "$p" && exec ip netns exec "$VL_NS" env VMLAB_CONFIG="$E2E_CONF" HOME="$E2E_HOME" \
	"$E2E_VMLAB" sync --watch >"$E2E_TMP/watch.log" 2>&1) &
pid=$!
for _ in $(seq 1 300); do
	grep -q "watching" "$E2E_TMP/watch.log" 2>/dev/null && break
	sleep 0.1
done
check_contains "sync --watch starts" "watching 1 VM for changes" "$(cat "$E2E_TMP/watch.log")"
t0=$(now)
printf 'watched\n' >"$p/src/sub/watched.txt"
rm "$p/src/new name.txt"
for _ in $(seq 1 150); do
	grep -q "synced ./src to /home/vmlab/src" "$E2E_TMP/watch.log" && break
	sleep 0.1
done
took=$(elapsed "$t0")
got=$(V ssh box -- sh -c 'cat /home/vmlab/src/sub/watched.txt; ls /home/vmlab/src' 2>&1 | tr '\n' ' ')
check_contains "sync --watch pushed a new file (${took} s from the change to its report)" "watched a.txt" "$got"
case $got in *"new name"*) bad "sync --watch did not push the delete: $got" ;; *) ok "sync --watch pushed the delete" ;; esac
kill -INT "$pid" 2>/dev/null
wait "$pid"; rc=$?
check_rc "sync --watch ends on Ctrl-C" 0 "$rc"
check_contains "it said what it pushed" "1 sent, 1 removed" "$(cat "$E2E_TMP/watch.log")"

# --- image save, and a lab from the template -------------------------------------------------
tpl=insync-tpl
out=$(V image save box 'Bad/Name' 2>&1); rc=$?
one_line "image save with a bad name" "$out" "$rc" 2
t0=$(now)
out=$(V image save box "$tpl" 2>&1); rc=$?
check_rc "image save ($(elapsed "$t0") s)" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -15
check_contains "image save says the VM stays halted" "stays halted" "$out"
check_eq "the VM is halted" "shut off" "$(V status --json | jq -r '.vms[0].state')"
check_eq "no temporary volume left in the pool" "" "$(vl_virsh vol-list vmlab | grep vmlab-save)"
out=$(V image save box "$tpl" 2>&1); rc=$?
one_line "image save onto an existing name" "$out" "$rc" 1
check_contains "it says the name is taken" "image $tpl exists already" "$out"
out=$(V image save box "$tpl-2" 2>&1); rc=$?
one_line "image save of a halted VM" "$out" "$rc" 1
check_contains "it says the VM must run" "box is not running" "$out"
tpath=$(vmlab image list --json | jq -r --arg n "$tpl" '.[] | select(.name == $n) | .path')
check_eq "image list shows the template, cached" "yes" "$([ -f "$tpath" ] && echo yes)"
check_eq "the template is flat (no backing file)" "null" \
	"$(qemu-img info --output=json "$tpath" | jq -r '."backing-filename"')"

p2=$E2E_TMP/from-template
e2e_project "$p2" <<INI
[lab]
name = fromtpl
[defaults]
image  = $tpl
memory = 256M
cpus   = 1
[vm clone]
INI
id2=$(lab_id "$p2")
V2() { (cd "$p2" && vmlab "$@"); }
t0=$(now)
out=$(V2 up 2>&1); rc=$?
check_rc "up of a lab from the template ($(elapsed "$t0") s)" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -15
check_eq "the clone has what box's provisioner wrote" "alpha
by box" "$(V2 ssh clone -- cat /home/vmlab/provisioned.txt 2>&1)"
check_eq "and box's synced tree" "ALPHA" "$(V2 ssh clone -- cat /home/vmlab/src/a.txt 2>&1)"
check_eq "the clone is itself (hostname)" "clone" "$(V2 ssh clone -- hostname 2>&1)"
k1=$(cut -d' ' -f2 "$p/.vmlab/hostkeys/box_ed25519.pub")
k2=$(cut -d' ' -f2 "$p2/.vmlab/hostkeys/clone_ed25519.pub")
served=$(V2 ssh clone -- sudo -n dropbearkey -y -f /etc/dropbear/dropbear_ed25519_host_key 2>/dev/null |
	awk '/^ssh-ed25519/ { print $2 }')
check_eq "the clone serves its own pinned host key, not box's" "yes $k2" \
	"$([ -n "$k1" ] && [ "$k1" != "$k2" ] && echo yes) $served"
box_user_key=$(cut -d' ' -f2 "$p/.vmlab/id_ed25519.pub")
check_eq "box's lab key does not open the clone" "0" \
	"$(V2 ssh clone -- cat /home/vmlab/.ssh/authorized_keys 2>/dev/null | grep -c -- "$box_user_key")"

(cd "$p2" && vmlab destroy --force >/dev/null 2>&1)
(cd "$p" && vmlab destroy --force >/dev/null 2>&1)
out=$(vmlab image rm "$tpl" 2>&1); rc=$?
check_rc "image rm of the template" 0 "$rc"
check_eq "nothing left of either lab" "" "$(leftovers "$id")$(leftovers "$id2")"
