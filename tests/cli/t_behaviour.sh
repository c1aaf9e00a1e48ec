#!/usr/bin/env bash
# What issue 13 found wrong, each with the test that would have caught it: usage
# before loading anything (exit 2), VM selection, unknown images, validate = plan,
# one JSON document per --json command, the destructive-command rule, prune
# without libvirt, completion from the tables, and the wording of usage messages.
set -u
fails=0 checks=0
check() { local what=$1; shift; checks=$((checks + 1)); if ! "$@"; then echo "not ok: $what"; fails=$((fails + 1)); fi; }
rc() { "$@" >/dev/null 2>&1 </dev/null; echo $?; }
V() { "$VMLAB" --uri test:///default "$@"; }
DOWN='qemu+unix:///system?socket=/nonexistent'
D() { "$VMLAB" --uri "$DOWN" "$@"; }
json1() { jq -e -s 'length == 1' >/dev/null; }   # stdin is exactly one JSON document

cd "$T" && mkdir lab && cd lab || exit 1
printf '[lab]\nname = beh\n[vm web]\ncount = 2\n[vm db]\n' >vmlab.ini

# --- usage first: exit 2 before the profile or libvirt ------------------------
check "snapshot save without NAME, libvirt down: 2" [ "$(rc D snapshot save)" = 2 ]
D snapshot save 2>err.txt
check "... says what is missing" grep -q "snapshot: missing argument; usage: vmlab snapshot save NAME" err.txt
check "snapshot without subcommand: 2" [ "$(rc D snapshot)" = 2 ]
check "snapshot bad name, libvirt down: 2" [ "$(rc D snapshot save 'a b')" = 2 ]
check "snapshot list extra, libvirt down: 2" [ "$(rc D snapshot list x)" = 2 ]
check "snapshot --vm with list: 2" [ "$(rc D snapshot list --vm web-1)" = 2 ]
check "snapshot aliases: ls" [ "$(V snapshot ls --json)" = "[]" ]
check "image pull without NAME: 2" [ "$(rc "$VMLAB" image pull)" = 2 ]
check "image bad subcommand: 2" [ "$(rc "$VMLAB" image frob)" = 2 ]
"$VMLAB" image frob 2>err.txt
check "... lists the subcommands" grep -q "use pull, list, rm, prune or save" err.txt
check "image list --sha256: 2" [ "$(rc "$VMLAB" image list --sha256 00)" = 2 ]
check "image ls is list" [ "$("$VMLAB" image ls --json | jq -r '.[0].name')" = "$("$VMLAB" image list --json | jq -r '.[0].name')" ]
D status extra 2>err.txt; r=$?
check "extra argument: 2" [ $r = 2 ]
check "extra argument is named" grep -q "status: unexpected argument 'extra'" err.txt
"$VMLAB" --uri 2>err.txt; r=$?
check "--uri without value: 2" [ $r = 2 ]
check "--uri without value names it" grep -q "option '--uri' needs a value (URI)" err.txt
"$VMLAB" plan -q 2>err.txt; r=$?
check "global option after the command: 2" [ $r = 2 ]
check "... says to put it first" grep -q "plan: '-q' is a global option; put it before the command: vmlab -q plan" err.txt
D up --strict --json --no-provision nosuch 2>/dev/null; check "up --strict --json: options accepted, unknown VM still 2" [ $? = 2 ]

# --- -n means --dry-run everywhere ---------------------------------------------
for c in up gc "image prune"; do
	check "$c -n is --dry-run" sh -c '"$0" help ${1%% *} | grep -q -- "-n, --dry-run"' "$VMLAB" "$c"
done
check "image --name has no short option" sh -c '"$0" help image | grep -q "^    --name NAME"' "$VMLAB"

# --- VM selection -----------------------------------------------------------------
out=$(V up web --dry-run --json)
check "up web --dry-run selects web-1, web-2" [ "$(jq -r '.vms | map(.name) | join(",")' <<<"$out")" = "web-1,web-2" ]
out=$(V -q up -n db)
check "up -n db shows db only" bash -c '! grep -q web <<<"$0" && grep -q "^db " <<<"$0"' "$out"
for c in "up --dry-run" halt "destroy --force" "ssh" "snapshot save s1 --vm"; do
	args=($c nosuch)
	check "${args[0]} nosuch: 2, libvirt down" [ "$(rc D "${args[@]}")" = 2 ]
done
D halt web-1 nosuch 2>err.txt
check "unknown VM names the lab's VMs" grep -q "no VM 'nosuch' in lab beh (its VMs: web-1, web-2, db)" err.txt

# --- images and addresses: validate, plan and up --dry-run agree -----------------
mkdir -p "$T/img" && cd "$T/img" || exit 1
printf '[lab]\nname = img\n[defaults]\nimage = debian-99\n[vm a]\n[vm b]\n' >vmlab.ini
for c in validate plan "up --dry-run"; do
	D $c >/dev/null 2>err.txt; r=$?
	check "image = debian-99: $c exits 2" [ $r = 2 ]
	check "image = debian-99: $c says FILE:LINE once" [ "$(grep -c "^$T/img/vmlab.ini:4: unknown image 'debian-99'; did you mean 'debian-12'" err.txt)" = 1 ]
done
check "validate --json lists it" [ "$("$VMLAB" validate --json 2>/dev/null | jq -r '.problems[0].line')" = 4 ]
printf '[lab]\nsubnet = 10.77.3.0/24\n[vm a]\nip = 10.77.3.5\n[vm b]\nip = 10.77.3.200\n' >vmlab.ini
for c in validate plan; do
	"$VMLAB" $c >/dev/null 2>err.txt; r=$?
	check "reserved and DHCP-range ips: $c exits 2" [ $r = 2 ]
done
"$VMLAB" validate 2>err.txt
check "validate: .5 is reserved" grep -q ":4: ip 10.77.3.5 is reserved" err.txt
check "validate: .200 is DHCP range" grep -q ":6: ip 10.77.3.200 is inside the dynamic DHCP range" err.txt
# subnet = auto: the size comes from vmlab.conf's lab_prefix
printf '[network]\nlab_prefix = 28\n' >small.conf
printf '[lab]\nname = img\n[vm a]\ncount = 7\n' >vmlab.ini
check "auto subnet, lab_prefix 28, 7 VMs: validate 2" [ "$(rc "$VMLAB" --config small.conf validate)" = 2 ]
check "... and plan 2" [ "$(rc "$VMLAB" --config small.conf plan)" = 2 ]
check "6 VMs fit" sh -c 'sed -i "s/count = 7/count = 6/" vmlab.ini && "$0" --config small.conf validate >/dev/null' "$VMLAB"
# a bad vmlab.conf: validate reports every problem, as plan does
{ printf '[libvirt]\n'; for i in $(seq 1 13); do printf 'bad%s = x\n' "$i"; done; } >bad.conf
"$VMLAB" --config bad.conf validate >/dev/null 2>err.txt; r=$?
check "bad vmlab.conf: validate exits 2" [ $r = 2 ]
check "bad vmlab.conf: validate reports all 13" [ "$(grep -c "bad.conf:[0-9]*: unknown key" err.txt)" = 13 ]
"$VMLAB" --config bad.conf plan >/dev/null 2>err2.txt
check "... the same as plan" diff <(grep unknown err.txt) <(grep unknown err2.txt)
printf '[images]\ncatalog = a.ini,,b.ini\n' >cat.conf
"$VMLAB" --config cat.conf validate 2>err.txt; r=$?
check "catalog = a.ini,,b.ini: exit 2 with FILE:LINE" sh -c '[ $0 = 2 ] && grep -q "cat.conf:2: empty entry in the catalog list" "$1"' $r err.txt
printf '[lab]\nname = img\n[vm a]\nmemory = 2048\n' >vmlab.ini
"$VMLAB" validate 2>err.txt
check "memory = 2048 suggests 2048M" grep -q "for example 2048M)" err.txt

# --- one JSON document per --json command -------------------------------------------
cd "$T/lab" || exit 1
for c in "validate" "plan" "up --dry-run" "status" "snapshot list" "doctor" "gc --dry-run" \
	 "image list" "image prune --dry-run" "image rm nosuch"; do
	V --json $c 2>/dev/null | json1; check "vmlab --json $c: one JSON document" [ "${PIPESTATUS[1]}" = 0 ]
done
V doctor --json 2>/dev/null | jq -e 'all(has("check") and has("ok") and has("fix"))' >/dev/null
check "doctor --json (the command's own option)" [ $? = 0 ]
check "gc --dry-run --json" [ "$(V gc --dry-run --json | jq -c '[.dry_run, .items]')" = '[true,[]]' ]
check "image prune --dry-run --json" [ "$(V image prune --dry-run --json 2>/dev/null | jq -c .)" = '{"dry_run":true,"removed":[],"base_volumes":[]}' ]
check "image rm --json of nothing: exit 1" [ "$(rc V image rm --json nosuch)" = 1 ]
check "image list --json: path null when not cached" [ "$("$VMLAB" image list --json | jq '[.[] | select(.cached == false) | .path] | all(. == null)')" = true ]

# --- image prune with libvirt unreachable ---------------------------------------------
D image prune 2>err.txt >/dev/null; r=$?
check "prune, libvirt down: exit 3 with a message" sh -c '[ $0 = 3 ] && [ -s "$1" ]' $r err.txt
D image prune --force 2>err.txt >out.txt; r=$?
check "prune --force, libvirt down: exit 0" [ $r = 0 ]
check "... with a warning that libvirt could not be asked" grep -q "warning: libvirt could not be asked" err.txt

# --- destructive commands: refuse without a terminal unless --force ---------------------
D destroy </dev/null 2>err.txt; r=$?
check "destroy without a terminal: 2, before libvirt" [ $r = 2 ]
check "... says --force" grep -q "destroy: not a terminal, nobody to ask; use --force" err.txt
D gc </dev/null 2>err.txt; r=$?
check "gc without a terminal: 2, before libvirt" [ $r = 2 ]
check "destroy --force goes ahead" [ "$(rc V destroy --force)" = 0 ]
check "destroy -y goes ahead" [ "$(rc V destroy -y web)" = 0 ]
check "gc -n lists" [ "$(rc V gc -n)" = 0 ]
check "gc --force goes ahead" [ "$(rc V gc --force)" = 0 ]

# --- completion: from the tables ----------------------------------------------------------
comp=$("$VMLAB" completion bash)
check "completion is valid bash" bash -n <<<"$comp"
# run it: what does bash offer after these words?
offer() { bash -c 'source /dev/stdin; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _vmlab; echo "${COMPREPLY[*]}"' _ "$@" <<<"$comp"; }
top=$(offer vmlab '')
for w in up snapshot image --quiet -q --verbose -v -h --help --uri --json; do
	check "completion offers $w" grep -qw -- "$w" <<<"$top"
done
for w in $("$VMLAB" help | awk '/^commands:/ { on = 1; next } /^$/ { on = 0 } on && /not available yet/ { print $1 }'); do
	check "completion leaves out $w (not available yet)" bash -c '! grep -qw -- "$1" <<<"$0"' "$top" "$w"
done
for w in $("$VMLAB" help | awk '/^commands:/ { on = 1; next } /^$/ { on = 0 } on && !/not available yet/ { print $1 }'); do
	check "completion offers command $w" grep -qw -- "$w" <<<"$top"
done
check "completion: snapshot subcommands" [ "$(offer vmlab snapshot '')" = "save create list ls restore revert delete rm" ]
check "completion: snap alias" [ "$(offer vmlab snap '')" = "save create list ls restore revert delete rm" ]
check "completion: image subcommands" [ "$(offer vmlab image '')" = "pull list ls rm prune save" ]
check "completion: options after the subcommand" grep -qw -- "--vm" <<<"$(offer vmlab snapshot save x --)"
check "completion: after a global option's value" grep -qw -- "--dry-run" <<<"$(offer vmlab -C /tmp up --)"
check "completion: short options" grep -qw -- "-n" <<<"$(offer vmlab gc -)"

# --- images vmlab cannot boot are refused up front (issue 7) ------------------
mkdir -p "$T/uefi" && cd "$T/uefi" || exit 1
cat >cat.ini <<'CAT'
[efi-only]
url = http://127.0.0.1:9/efi.qcow2
sha256 = 0000000000000000000000000000000000000000000000000000000000000000
boot = uefi
[no-ci]
url = http://127.0.0.1:9/noci.qcow2
sha256 = 0000000000000000000000000000000000000000000000000000000000000000
cloud_init = no
CAT
printf '[images]\ncatalog = %s/cat.ini\n' "$T/uefi" >vmlab.conf
printf '[vm a]\nimage = efi-only\n[vm b]\nimage = no-ci\n' >vmlab.ini
U() { VMLAB_CONFIG="$T/uefi/vmlab.conf" "$VMLAB" "$@"; }
U validate 2>err.txt; r=$?
check "validate refuses boot = uefi and cloud_init = no: 2" [ $r = 2 ]
check "... the UEFI image at its line" grep -q "vmlab.ini:2: image efi-only boots with UEFI (boot = uefi)" err.txt
check "... the image without cloud-init at its line" grep -q "vmlab.ini:4: image no-ci has no cloud-init (cloud_init = no)" err.txt
check "up refuses them too, before libvirt: 2" [ "$(U --uri "$DOWN" up; echo $?)" = 2 ]

echo "$checks checks, $fails failed"
exit $fails
