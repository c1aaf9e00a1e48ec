#!/usr/bin/env bash
# vmlab class against libvirt's in-process test:///default driver: the plan (a refusal with
# the numbers: the test host has 3 GiB), usage errors before libvirt is asked, a profile
# without [class], roster problems as FILE:LINE, export with nothing made, and [hosts] with a
# host that is down.
set -u
fails=0
check() { local what=$1; shift; if ! "$@"; then echo "not ok: $what"; fails=$((fails + 1)); fi; }
rc() { "$@" >/dev/null 2>&1; echo $?; }
V() { "$VMLAB" --uri test:///default "$@"; }

cd "$T" && mkdir cls && cd cls || exit 1
cat > vmlab.ini <<'INI'
[lab]
name = cls
[defaults]
image = debian-12
memory = 512M
[vm web]
count = 2
[class]
roster = students.csv
INI
printf 'id,name,email\nann,Ann Lee,ann@example.org\nbob,"Smith, Bob"\n' > students.csv

out=$(V class plan --json 2>err.txt); code=$?
check "class plan: a class that does not fit fails (1)" [ "$code" = 1 ]
check "class plan --json still prints the plan" [ "$(jq -r '.seats | map(.id) | join(",")' <<<"$out")" = "ann,bob" ]
check "class plan --json: students" [ "$(jq -r '.seats[1].student' <<<"$out")" = "Smith, Bob" ]
check "class plan --json: refusal" [ "$(jq -r .fits <<<"$out")" = false ]
check "class plan: the refusal in one line with the numbers" grep -q "2 of 2 seats have no room" err.txt
check "class plan: one error line" [ "$(wc -l <err.txt)" = 1 ]
check "class plan --json: per seat 2 VMs, 1.25 GiB with overhead" \
	[ "$(jq -r '"\(.seat_needs.vms) \(.seat_needs.memory)"' <<<"$out")" = "2 1342177280" ]
check "class plan --json: seats get different subnets" \
	[ "$(jq -r '.seats | map(.subnet) | unique | length' <<<"$out")" = 2 ]
check "class plan: the capacity table" sh -c '"$0" --uri test:///default class plan 2>/dev/null | grep -q "^local  *up"' "$VMLAB"

check "class reset of an unknown seat is usage (2)" [ "$(rc V class reset carol)" = 2 ]
check "class ssh of an unknown seat is usage (2)" [ "$(rc V class ssh carol web-1)" = 2 ]
check "class exec without seats or --all is usage (2)" [ "$(rc V class exec -- true)" = 2 ]
check "class exec with seats and --all is usage (2)" [ "$(rc V class exec ann --all -- true)" = 2 ]
check "class exec without a command is usage (2)" [ "$(rc V class exec --all)" = 2 ]
check "class exec --vm of no VM is usage (2)" [ "$(rc V class exec --all --vm nosuch -- true)" = 2 ]
check "class up takes no -- CMD (2)" [ "$(rc V class up -- true)" = 2 ]
check "class destroy without a terminal or --force (2)" [ "$(rc V class destroy)" = 2 ]
check "class destroy --force of nothing (0)" [ "$(rc V class destroy --force)" = 0 ]
check "class reset of a seat not made fails (1)" [ "$(rc V class reset ann)" = 1 ]
V class reset ann 2>err.txt
check "class reset says how to make it" grep -q "'vmlab class up' makes it" err.txt
check "class status (0)" [ "$(rc V class status)" = 0 ]
check "class status --json: 2 seats, none made" \
	[ "$(V class status --json | jq -r '"\(.totals.seats) \(.totals.seats_made)"')" = "2 0" ]
check "class export with nothing made fails (1)" [ "$(rc V class export "$T/out")" = 1 ]
check "class export leaves nothing behind" [ ! -e "$T/out" ] && [ ! -e "$T/out.partial" ]
# a jump.HOST naming no host of the class: export and up stop at its line, nothing made
cp vmlab.ini vmlab.ini.keep
printf 'jump.nowhere = lab@lab2.example.org\n' >>vmlab.ini
check "class export with jump.HOST of no host: bad profile (2)" [ "$(rc V class export "$T/out")" = 2 ]
V class export "$T/out" 2>err.txt
check "class export names the line and the host" \
	grep -q "vmlab.ini:10: jump.nowhere: no host nowhere; the class uses one host, local" err.txt
check "class export: one error line" [ "$(wc -l <err.txt)" = 1 ]
check "class export with a stray jump leaves nothing behind" [ ! -e "$T/out" ] && [ ! -e "$T/out.partial" ]
check "class up with jump.HOST of no host: bad profile (2)" [ "$(rc V class up)" = 2 ]
mv vmlab.ini.keep vmlab.ini
check "class status: libvirt unreachable exits 3" \
	[ "$(rc "$VMLAB" --uri 'qemu+unix:///system?socket=/nonexistent' class status)" = 3 ]

printf 'ann,Ann\nann,Again\nBob,Bob\n' > students.csv
V class plan 2>err.txt; code=$?
check "roster problems are exit 2" [ "$code" = 2 ]
check "roster problems as students.csv:LINE" grep -q "^students.csv:2: seat id 'ann' is also on line 1" err.txt
check "roster: bad id" grep -q "^students.csv:3: seat id 'Bob'" err.txt

mkdir ../plain && cd ../plain && printf '[vm web]\n' > vmlab.ini
V class status 2>err.txt; code=$?
check "no [class]: usage (2)" [ "$code" = 2 ]
check "no [class]: says so" grep -q "has no \[class\] section" err.txt

# [hosts]: one up (test driver), one down
cd ../cls && printf 'ann,Ann\n' > students.csv
printf '[hosts]\na = test:///default\nb = qemu+unix:///system?socket=/nonexistent\n' > hosts.conf
out=$("$VMLAB" --config hosts.conf class plan --json 2>err.txt)
check "[hosts]: both hosts listed" [ "$(jq -r '.hosts | map(.name + "=" + (.up | tostring)) | join(",")' <<<"$out")" = "a=true,b=false" ]
check "[hosts]: the host that is down is reported" grep -q "host b is down" err.txt
printf '[hosts]\nb = qemu+unix:///system?socket=/nonexistent\n' > down.conf
check "[hosts]: no host answers exits 3" [ "$(rc "$VMLAB" --config down.conf class status)" = 3 ]
exit $fails
