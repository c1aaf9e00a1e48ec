#!/usr/bin/env bash
# Hostile projects (issue 12): what a cloned profile may not do without being
# allowed, and that each way of allowing it works: paths out of the project
# (--allow-outside, [profile] allow_outside), public subnets ([network]
# allow_subnets), image URLs without a checksum (--insecure); a .vmlab/ that
# is a symlink or another user's is refused before anything is written.
set -u
fails=0
check() { # description, then a command that must succeed
	local what=$1; shift
	if ! "$@"; then echo "not ok: $what"; fails=$((fails + 1)); fi
}
status() { "$@" >/dev/null 2>&1; echo $?; }

mkdir -p "$T/p" "$T/outside" && cd "$T/p" || exit 1
echo 'echo hi' >"$T/outside/setup.sh"
ln -s "$T/outside/setup.sh" link.sh

# a path out of the project: refused, naming the path, where it resolves, the
# project and both ways to allow it
printf '[vm a]\nprovision = ../outside/setup.sh\n' >vmlab.ini
"$VMLAB" validate 2>err.txt; rc=$?
check "outside provision: exit 2 ($rc)" [ "$rc" = 2 ]
check "the error names the path and the project" grep -qF \
	"vmlab.ini:2: provision '../outside/setup.sh' resolves to $T/outside/setup.sh, outside the project directory $T/p; pass --allow-outside or set allow_outside = yes in [profile] of vmlab.conf" err.txt
check "--allow-outside lets it through" "$VMLAB" --allow-outside validate
printf '[profile]\nallow_outside = yes\n' >"$T/allow.conf"
check "[profile] allow_outside = yes lets it through" "$VMLAB" --config "$T/allow.conf" validate
printf '[vm a]\nprovision = link.sh\n' >vmlab.ini
check "a symlink out of the project is outside" [ "$(status "$VMLAB" validate)" = 2 ]
check "... and allowed by the flag" "$VMLAB" --allow-outside validate
printf '[vm a]\nimage = file://%s/outside/setup.sh\n' "$T" >vmlab.ini
"$VMLAB" validate 2>err.txt
check "file:// out of the project" grep -q "vmlab.ini:2: image 'file://.*outside the project directory" err.txt

# public subnets: refused, unless vmlab.conf allows the range
printf '[lab]\nsubnet = 8.8.8.0/24\n[vm a]\n' >vmlab.ini
"$VMLAB" validate 2>err.txt; rc=$?
check "public subnet: exit 2 ($rc)" [ "$rc" = 2 ]
check "public subnet message" grep -q "vmlab.ini:2: subnet 8.8.8.0/24 is not private address space" err.txt
printf '[network]\nallow_subnets = 100.64.0.0/10, 8.8.8.0/24\n' >"$T/subnets.conf"
check "allow_subnets lets it through" "$VMLAB" --config "$T/subnets.conf" validate
printf '[lab]\nsubnet = 172.16.9.0/24\n[vm a]\n' >vmlab.ini
check "RFC 1918 is fine" "$VMLAB" validate

# an image URL without a checksum: refused unless --insecure
printf '[vm a]\nimage = http://127.0.0.1:9/disk.qcow2\n' >vmlab.ini
"$VMLAB" validate 2>err.txt; rc=$?
check "http image without checksum: exit 2 ($rc)" [ "$rc" = 2 ]
check "names --insecure" grep -q "vmlab.ini:2: image http://127.0.0.1:9/disk.qcow2 has no checksum.*--insecure" err.txt
check "--insecure lets validate through" "$VMLAB" --insecure validate
check "plan refuses it too" [ "$(status "$VMLAB" plan)" = 2 ]
check "up refuses it too" [ "$(status "$VMLAB" --uri test:///default up)" = 2 ]

# .vmlab/ as a symlink (to a directory someone else chose): refused, and
# nothing written there
printf '[vm a]\n' >vmlab.ini
mkdir "$T/elsewhere" && ln -s "$T/elsewhere" .vmlab
"$VMLAB" --uri test:///default up 2>err.txt; rc=$?
check "symlinked .vmlab/: fails ($rc)" [ "$rc" != 0 -a "$rc" -lt 128 ]
check "symlinked .vmlab/: says so" grep -q "$T/p/.vmlab is a symlink" err.txt
check "nothing written through it" [ -z "$(ls -A "$T/elsewhere")" ]
rm .vmlab
printf 'x' >.vmlab
check "a file .vmlab is refused" grep -q "is not a directory" <("$VMLAB" --uri test:///default up 2>&1)
rm .vmlab
# another user's .vmlab/ (needs root to make one)
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	mkdir -m 0777 .vmlab && chown nobody .vmlab
	"$VMLAB" --uri test:///default up 2>err.txt
	check "another user's .vmlab/ is refused" grep -q "is owned by uid $(id -u nobody), not by you" err.txt
	check "nothing written in it" [ -z "$(ls -A .vmlab)" ]
	rm -rf .vmlab
fi
exit $fails
