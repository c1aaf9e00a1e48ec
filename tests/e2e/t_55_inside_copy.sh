# shellcheck shell=bash
# vmlab cp and ssh-config on one minimal VM (busybox tar, dropbear, OpenSSH's sftp-server):
#   - usage and state errors are one line and non-zero (both sides local, VM not running,
#     missing source on either side)
#   - a tree with a symlink, modes, mtimes and an awkward name, up and back down, equal
#   - "-" as stdin and stdout; --sudo into a root-owned directory and out of a 0600 root file
#   - cp killed with SIGKILL mid-transfer, both ways, leaves neither the file nor a temporary
#   - cp over the held session: a master after the first, warm copies up and down timed
#   - ssh-config used by the real OpenSSH ssh and scp with StrictHostKeyChecking yes (and a
#     wrong pinned key refused)
p=$E2E_TMP/inside-copy
e2e_project "$p" <<'INI'
[lab]
name = inside
[defaults]
image  = test-minimal
memory = 256M
cpus   = 1
[vm box]
INI
id=$(lab_id "$p")
V() { (cd "$p" && vmlab "$@"); }
one_line() { # what output rc expected-rc
	check_rc "$1: exit status" "$4" "$3"
	check_eq "$1: one line" 1 "$(printf '%s\n' "$2" | grep -c .)"
}

out=$(V cp "$p/vmlab.ini" "$p/copy.ini" 2>&1); rc=$?
one_line "cp with both sides local" "$out" "$rc" 2
check_contains "cp with both sides local says so" "both sides are local" "$out"
out=$(V cp "$p/vmlab.ini" box: 2>&1); rc=$?
one_line "cp to a VM not running" "$out" "$rc" 1
check_contains "cp to a VM not running says so" "box is not created" "$out"
out=$(V cp "$p/vmlab.ini" nobox:/tmp 2>&1); rc=$?
one_line "cp to an unknown VM" "$out" "$rc" 2

t0=$(now)
out=$(V up 2>&1); rc=$?
check_rc "up ($(elapsed "$t0") s)" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -15
home=$(V ssh box -- sh -c 'echo $HOME')

# --- a tree, up and down --------------------------------------------------------------------
src=$p/tree
mkdir -p "$src/bin" "$src/sub/deep"
printf 'alpha\n' >"$src/a.txt"
printf '#!/bin/sh\necho run\n' >"$src/bin/run.sh"
printf 'spaced\n' >"$src/with space.txt"
: >"$src/sub/deep/empty"
head -c 300000 /dev/urandom >"$src/sub/blob.bin"
ln -s a.txt "$src/link"
ln -s ../a.txt "$src/sub/uplink"
chmod 640 "$src/a.txt"; chmod 755 "$src/bin/run.sh"; chmod 600 "$src/with space.txt"
chmod 750 "$src/sub"; chmod 700 "$src/sub/deep"
find "$src" -exec touch -h -d '2020-01-02 03:04:05' {} +
# name type mode size (+ mtime for files), for every entry below a tree
listing() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r f; do
		if [ -f "$f" ] && [ ! -L "$f" ]; then stat -c '%n %F %a %s %Y' "$f"
		elif [ -L "$f" ]; then echo "$f link -> $(readlink "$f")"
		else stat -c '%n %F %a' "$f"; fi
	done)
}
t0=$(now)
out=$(V cp -r "$src" box: 2>&1); rc=$?
check_rc "cp -r of a tree to the VM ($(elapsed "$t0") s)" 0 "$rc"
check_eq "cp prints nothing when it works and stderr is no terminal" "" "$out"
out=$(V ssh box -- sh -c 'cd tree && for f in a.txt bin/run.sh "with space.txt"; do
	stat -c "%n %a %Y" "$f"; done; stat -c "%n %a" sub sub/deep; readlink link; readlink sub/uplink; ls -a' 2>&1)
mt=$(stat -c %Y "$src/a.txt")
check_eq "the tree in the VM: modes, mtimes, symlinks" "a.txt 640 $mt
bin/run.sh 755 $mt
with space.txt 600 $mt
sub 750
sub/deep 700
a.txt
../a.txt
.
..
a.txt
bin
link
sub
with space.txt" "$out"
check_eq "the blob arrived whole" "$(sha256sum <"$src/sub/blob.bin" | cut -d' ' -f1)" \
	"$(V ssh box -- sha256sum tree/sub/blob.bin | cut -d' ' -f1)"
check_eq "no temporary left in the VM's home" "" "$(V ssh box -- ls -a | grep vmlab-cp)"
t0=$(now)
out=$(V cp -r box:tree "$p/back" 2>&1); rc=$?
check_rc "cp -r of the tree back ($(elapsed "$t0") s)" 0 "$rc"
[ "$rc" = 0 ] || echo "$out"
check_eq "the tree came back equal (modes, sizes, mtimes, symlinks)" "$(listing "$src")" \
	"$(listing "$p/back")"
check_eq "the blob came back whole" "$(sha256sum <"$src/sub/blob.bin")" \
	"$(sha256sum <"$p/back/sub/blob.bin")"
# cp(1)'s rule: into an existing directory by name; a trailing slash on SRC changes nothing
mkdir -p "$p/into"
out=$(V cp -r box:tree/ "$p/into/" 2>&1); rc=$?
check_rc "cp -r VM:tree/ DIR/" 0 "$rc"
check_eq "the tree lands as DIR/tree" "a.txt" "$(cat "$p/into/tree/link" >/dev/null && readlink "$p/into/tree/link")"
out=$(V cp box:tree "$p/into" 2>&1); rc=$?
one_line "a directory without -r" "$out" "$rc" 2
out=$(V cp -L box:tree/link "$p/deref.txt" 2>&1); rc=$?
check_eq "-L copies what a symlink points to" "0 regular file alpha" \
	"$rc $(stat -c %F "$p/deref.txt") $(cat "$p/deref.txt")"

# --- stdin and stdout ------------------------------------------------------------------------
out=$(printf 'from stdin\n' | V cp - box:/tmp/in.txt 2>&1); rc=$?
check_rc "cp - VM:FILE" 0 "$rc"
check_eq "cp VM:FILE - prints it" "from stdin" "$(V cp box:/tmp/in.txt - 2>/dev/null)"
check_eq "the 300 kB blob through stdout" "$(sha256sum <"$src/sub/blob.bin")" \
	"$(V cp box:tree/sub/blob.bin - 2>/dev/null | sha256sum)"

# --- errors ----------------------------------------------------------------------------------
out=$(V cp "$p/nope" box: 2>&1); rc=$?
one_line "a missing local source" "$out" "$rc" 1
check_contains "a missing local source is named" "nope: no such file" "$out"
out=$(V cp box:/nope "$p/" 2>&1); rc=$?
one_line "a missing source in the VM" "$out" "$rc" 1
check_contains "a missing source in the VM is named" "box:/nope: no such file" "$out"
out=$(V cp "$src/a.txt" box:/no/such/dir/ 2>&1); rc=$?
one_line "a missing target directory" "$out" "$rc" 1

# --- --sudo ----------------------------------------------------------------------------------
V ssh box -- sudo -n sh -c 'mkdir -p /opt/rootdir && chmod 755 /opt/rootdir &&
	echo secret > /opt/rootdir/secret && chmod 600 /opt/rootdir/secret' >/dev/null 2>&1
out=$(V cp "$src/a.txt" box:/opt/rootdir/ 2>&1); rc=$?
one_line "cp into a root-owned directory without --sudo" "$out" "$rc" 1
check_contains "cp into a root-owned directory without --sudo says why" "Permission denied" "$out"
out=$(V cp --sudo "$src/a.txt" box:/opt/rootdir/ 2>&1); rc=$?
check_rc "cp --sudo into a root-owned directory" 0 "$rc"
[ "$rc" = 0 ] || echo "$out"
check_eq "the file is root's, mode kept" "root 640 alpha" \
	"$(V ssh box -- sh -c 'stat -c "%U %a" /opt/rootdir/a.txt; sudo -n cat /opt/rootdir/a.txt' | tr '\n' ' ' | sed 's/ $//')"
out=$(V cp --sudo box:/opt/rootdir/secret "$p/secret" 2>&1); rc=$?
check_eq "cp --sudo out of a 0600 root file" "0 secret 600" "$rc $(cat "$p/secret" 2>&1) $(stat -c %a "$p/secret" 2>&1)"

# --- killed mid-transfer ---------------------------------------------------------------------
head -c $((48 << 20)) /dev/urandom >"$p/big.bin"
(cd "$p" && exec ip netns exec "$VL_NS" env VMLAB_CONFIG="$E2E_CONF" HOME="$E2E_HOME" \
	"$E2E_VMLAB" cp big.bin box:big.bin >/dev/null 2>&1) &
pid=$!
seen=no
for _ in $(seq 1 200); do
	V ssh box -- sh -c 'ls -a; ls .vmlab-cp.*/ 2>/dev/null' 2>/dev/null | grep -q '^big.bin$' && { seen=yes; break; }
	sleep 0.1
done
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
check_eq "the upload was killed mid-transfer" yes "$seen"
left=x
for _ in $(seq 1 50); do
	left=$(V ssh box -- ls -a 2>/dev/null | grep -E '^big.bin$|vmlab-cp')
	[ -z "$left" ] && break
	sleep 0.2
done
check_eq "a killed upload leaves no file and no temporary" "" "$left"
t0=$(now)
out=$(V cp "$p/big.bin" box:big.bin 2>&1); rc=$?
up_s=$(elapsed "$t0")
check_rc "48 MiB up ($up_s s)" 0 "$rc"
mkdir -p "$p/dl"
(cd "$p" && exec ip netns exec "$VL_NS" env VMLAB_CONFIG="$E2E_CONF" HOME="$E2E_HOME" \
	"$E2E_VMLAB" cp box:big.bin dl/ >/dev/null 2>&1) &
pid=$!
seen=no
for _ in $(seq 1 200); do
	# the download writes to an unnamed file (O_TMPFILE) in dl/
	if ls -l "/proc/$pid/fd" 2>/dev/null | grep -q "$p/dl/#"; then seen=yes; break; fi
	sleep 0.05
done
sleep 0.3
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
check_eq "the download was killed mid-transfer" yes "$seen"
check_eq "a killed download leaves nothing in the target directory" "" "$(ls -A "$p/dl")"
t0=$(now)
out=$(V cp box:big.bin "$p/dl/" 2>&1); rc=$?
check_rc "48 MiB down ($(elapsed "$t0") s; up took $up_s s)" 0 "$rc"
check_eq "48 MiB round trip equal" "$(sha256sum <"$p/big.bin")" "$(sha256sum <"$p/dl/big.bin")"

# --- over the held session: cold (no master) and warm --------------------------------------
heldpid() {
	ps -eo pid,stat,args | awk -v d="$p" '$2 !~ /^Z/ && $0 ~ "held-session" && index($0, "-C " d " ") { print $1 }'
}
for m in $(heldpid); do kill -TERM "$m"; done
for _ in $(seq 1 50); do [ -z "$(heldpid)" ] && break; sleep 0.1; done
printf 'small\n' >"$p/small.txt"
chmod 640 "$p/small.txt"
t0=$(now)
out=$(V cp "$p/small.txt" box:small1.txt 2>&1); rc=$?
check_rc "held: cold cp of a small file starts a master ($(elapsed "$t0") s)" 0 "$rc"
check_eq "held: one master for the lab" 1 "$(heldpid | wc -l)"
m1=$(heldpid)
t0=$(now)
out=$(V cp "$p/small.txt" box:small2.txt 2>&1); rc=$?
t_warm=$(elapsed "$t0")
check_rc "held: warm cp up ($t_warm s)" 0 "$rc"
awk -v t="$t_warm" 'BEGIN { exit !(t < 1.0) }' && ok "held: warm cp up under 1 s ($t_warm s)" ||
	bad "held: warm cp up took $t_warm s (a handshake is about 1.4 s)"
rm -f "$p/small-back.txt"
t0=$(now)
out=$(V cp box:small2.txt "$p/small-back.txt" 2>&1); rc=$?
check_rc "held: warm cp down ($(elapsed "$t0") s)" 0 "$rc"
check_eq "held: down: content, mode and mtime kept" "small 640 $(stat -c %Y "$p/small.txt")" \
	"$(cat "$p/small-back.txt" 2>&1) $(stat -c '%a %Y' "$p/small-back.txt" 2>&1)"
check_eq "held: the same master served them" "$m1" "$(heldpid)"
out=$(V cp box:nothing-here "$p/" 2>&1); rc=$?
one_line "held: cp of a missing file" "$out" "$rc" 1
check_contains "held: ... named" "nothing-here" "$out"

# --- ssh-config with the real OpenSSH --------------------------------------------------------
out=$(V ssh-config 2>&1); rc=$?
check_rc "ssh-config" 0 "$rc"
check_contains "ssh-config: StrictHostKeyChecking yes" "StrictHostKeyChecking yes" "$out"
out=$(V ssh-config box --include "$p/ssh.conf" 2>&1); rc=$?
check_rc "ssh-config --include" 0 "$rc"
check_eq "the include file is 0600" 600 "$(stat -c %a "$p/ssh.conf")"
check_eq "the known_hosts vmlab wrote names the VM by its alias" "vmlab-$id-box ssh-ed25519" \
	"$(cut -d' ' -f1,2 "$p/.vmlab/known_hosts")"
sshopts=(-F "$p/ssh.conf" -o BatchMode=yes)
out=$(vl_ns_exec ssh "${sshopts[@]}" box cat /tmp/in.txt 2>&1); rc=$?
check_eq "OpenSSH ssh with the generated config" "0 from stdin" "$rc $out"
out=$(vl_ns_exec ssh "${sshopts[@]}" box.inside hostname 2>&1); rc=$?
check_eq "OpenSSH ssh by the VM.LAB alias" "0 box" "$rc $out"
out=$(vl_ns_exec scp "${sshopts[@]}" "$src/a.txt" box:/tmp/scp.txt 2>&1 &&
	vl_ns_exec scp "${sshopts[@]}" box:/tmp/scp.txt "$p/scp-back.txt" 2>&1); rc=$?
check_eq "OpenSSH scp both ways" "0 alpha" "$rc $(cat "$p/scp-back.txt" 2>&1)"
ssh-keygen -q -t ed25519 -N '' -f "$p/other" >/dev/null
echo "vmlab-$id-box $(cut -d' ' -f1,2 "$p/other.pub")" >"$p/bad_known_hosts"
sed "s|$p/.vmlab/known_hosts|$p/bad_known_hosts|" "$p/ssh.conf" >"$p/bad.conf"
out=$(vl_ns_exec ssh -F "$p/bad.conf" -o BatchMode=yes box true 2>&1); rc=$?
if [ "$rc" != 0 ]; then ok "OpenSSH refuses a VM whose key is not the pinned one"
else bad "OpenSSH accepted a wrong pinned key"; fi
check_contains "OpenSSH says why" "Host key verification failed" "$out"

(cd "$p" && vmlab destroy --force >/dev/null 2>&1)
check_eq "nothing left of the copy lab" "" "$(leftovers "$id")"
