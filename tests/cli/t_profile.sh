#!/usr/bin/env bash
# vmlab init and validate: profiles, overwrite protection, FILE:LINE errors
# with exit 2, -C DIR, walking up from a subdirectory, every shipped profile.
set -u
fails=0
check() { # description, then a command that must succeed
	local what=$1; shift
	if ! "$@"; then echo "not ok: $what"; fails=$((fails + 1)); fi
}
status() { "$@" >/dev/null 2>&1; echo $?; }

cd "$T" && mkdir proj && cd proj || exit 1

# init: default profile, refuse to overwrite, --force, --profile
check "init default" "$VMLAB" init
check "default profile is debian" grep -q 'image  = debian-12' vmlab.ini
check "refuses overwrite (exit 1)" [ "$(status "$VMLAB" init)" = 1 ]
"$VMLAB" init 2>err.txt
check "overwrite message" grep -q 'already exists; use --force' err.txt
check "still debian" grep -q debian-12 vmlab.ini
check "init --force --profile" "$VMLAB" init --force --profile cluster
check "cluster written" grep -q 'count = 3' vmlab.ini
check "no temp files left" [ "$(ls -A | grep -c tmp-)" = 0 ]
check "unknown profile exits 2" [ "$(status "$VMLAB" init -f -p ubunt)" = 2 ]
"$VMLAB" init -f -p ubunt 2>err.txt
check "did you mean" grep -q "unknown profile 'ubunt'; did you mean 'ubuntu'?" err.txt
check "path is not a profile" [ "$(status "$VMLAB" init -f -p ../etc/passwd)" = 2 ]
check "--list" sh -c '"$0" init --list | grep -q "^debian .*(default)"' "$VMLAB"
check "--list all" [ "$("$VMLAB" init --list | wc -l)" -ge 5 ]

# validate: ok, exit 0, from a subdirectory, with -C, --json
check "validate ok" sh -c '"$0" validate | grep -q "ok (lab .proj., 3 VMs)"' "$VMLAB"
mkdir -p sub/deeper
check "walks up" sh -c 'cd sub/deeper && "$0" validate' "$VMLAB"
check "-C DIR" sh -c 'cd / && "$0" -C "$1" validate' "$VMLAB" "$T/proj/sub"
check "--json" sh -c '"$0" validate --json | grep -q "\"valid\": true"' "$VMLAB"
check "no profile exits 2" [ "$(status "$VMLAB" -C "$T" validate)" = 2 ]
"$VMLAB" -C "$T" validate 2>err.txt
check "no profile message" grep -q "no vmlab.ini in $T or any parent directory; run 'vmlab init'" err.txt

# a bad profile: every problem as FILE:LINE on stderr, exit 2, nothing on stdout
mkdir "$T/bad" && cd "$T/bad" || exit 1
cat >vmlab.ini <<'INI'
[lab]
network = natt
[vm web]
memroy = 2G
cpus = 0
[vm Web]
INI
"$VMLAB" validate >out.txt 2>err.txt
rc=$?
check "bad profile exits 2" [ $rc = 2 ]
check "nothing on stdout" [ ! -s out.txt ]
check "line 2" grep -qF "$T/bad/vmlab.ini:2: network must be nat or isolated, not 'natt'" err.txt
check "line 4" grep -qF "$T/bad/vmlab.ini:4: unknown key 'memroy' in [vm web]; did you mean 'memory'?" err.txt
check "line 5" grep -qF "$T/bad/vmlab.ini:5: cpus must be a whole number" err.txt
check "line 6" grep -qF "$T/bad/vmlab.ini:6: VM name 'Web'" err.txt
check "summary" grep -qF "vmlab: 4 problems in $T/bad/vmlab.ini" err.txt
"$VMLAB" validate --json >out.txt 2>/dev/null
check "json problems" grep -q '"line": 4' out.txt
check "json invalid" grep -q '"valid": false' out.txt

# every shipped profile validates
for p in "$REPO"/profiles/*.ini; do
	name=$(basename "$p" .ini)
	d="$T/shipped/$name" && mkdir -p "$d"
	check "init -p $name" "$VMLAB" -q -C "$d" init -p "$name"
	check "validate $name" "$VMLAB" -q -C "$d" validate
done
[ $fails = 0 ]
