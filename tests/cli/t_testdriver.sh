#!/usr/bin/env bash
# The lab commands against libvirt's in-process test:///default driver (as virsh's own
# tests do): status, snapshot list, ssh/halt/destroy on a lab that does not exist yet,
# gc, doctor, up --dry-run, exit codes, and the command table itself.
set -u
fails=0
check() { local what=$1; shift; if ! "$@"; then echo "not ok: $what"; fails=$((fails + 1)); fi; }
rc() { "$@" >/dev/null 2>&1; echo $?; }
V() { "$VMLAB" --uri test:///default "$@"; }

cd "$T" && mkdir lab && cd lab || exit 1
cat > vmlab.ini <<'INI'
[lab]
name = cli
[defaults]
image = debian-12
memory = 512M
[vm web]
count = 2
[vm db]
INI

out=$(V status --json)
check "status --json parses" jq -e . <<<"$out" >/dev/null
check "status: three VMs" [ "$(jq '.vms | length' <<<"$out")" = 3 ]
check "status: web-1 not created" [ "$(jq -r '.vms[0].name + " " + .vms[0].state' <<<"$out")" = "web-1 not created" ]
check "status: no IP before up" [ "$(jq -r '.vms[0].ip' <<<"$out")" = null ]
check "status: network not active" [ "$(jq -r '.network.active' <<<"$out")" = false ]
check "status table" sh -c '"$0" --uri test:///default status | grep -q "^db  *not created"' "$VMLAB"
check "st is status" [ "$(V st --json | jq -r .lab)" = cli ]

check "snapshot list: empty array" [ "$(V snapshot list --json)" = "[]" ]
check "rollback without snapshots fails (1)" [ "$(rc V rollback)" = 1 ]
V rollback 2>err.txt
check "rollback message" grep -q "has no snapshots" err.txt
check "snapshot save on missing VMs fails (1)" [ "$(rc V snapshot save s1)" = 1 ]
check "bad snapshot name is usage (2)" [ "$(rc V snapshot save 'a b')" = 2 ]
check "snapshot bad verb (2)" [ "$(rc V snapshot frobnicate x)" = 2 ]

check "ssh to a VM not created fails (1)" [ "$(rc V ssh web-1 -- true)" = 1 ]
V ssh web-1 -- true 2>err.txt
check "ssh says how to start it" grep -q "'vmlab up web-1' starts it" err.txt
check "ssh unknown VM is usage (2)" [ "$(rc V ssh nosuch -- true)" = 2 ]
V ssh nosuch 2>err.txt
check "ssh unknown VM message" grep -q "no VM 'nosuch' in lab cli" err.txt
check "halt of nothing succeeds" [ "$(rc V halt)" = 0 ]
check "halt unknown VM is usage (2)" [ "$(rc V halt nosuch)" = 2 ]
check "destroy of nothing succeeds" [ "$(rc V destroy --force)" = 0 ]
check "destroy selects web (count) without error" [ "$(rc V destroy --force web)" = 0 ]

out=$(V up --dry-run --json)
check "up --dry-run --json is the plan" [ "$(jq -r '.vms | map(.name) | join(",")' <<<"$out")" = "web-1,web-2,db" ]
check "gc: nothing to collect" sh -c '"$0" --uri test:///default gc --dry-run | grep -q "nothing to collect"' "$VMLAB"
check "doctor --json" sh -c '"$0" --uri test:///default --json doctor | jq -e "map(.check) | index(\"libvirt\")" >/dev/null' "$VMLAB"

check "libvirt unreachable exits 3" [ "$(rc "$VMLAB" --uri 'qemu+unix:///system?socket=/nonexistent' status)" = 3 ]
check "not yet available exits 1" [ "$(rc V forward web-1 80)" = 1 ]
check "exec on a VM that is not running exits 255" [ "$(rc V exec --all -- true)" = 255 ]
check "tui without a terminal exits 1" [ "$(rc V tui </dev/null)" = 1 ]
V tui </dev/null 2>err.txt
check "tui without a terminal: one line" [ "$(cat err.txt)" = "vmlab: tui: needs a terminal on stdin and stdout" ]
check "unknown command exits 2" [ "$(rc V stauts)" = 2 ]
V stauts 2>err.txt
check "did you mean status" grep -q "did you mean 'status'" err.txt
V s 2>err.txt
check "ambiguous prefix lists candidates" grep -q "'s' is ambiguous: status, ssh, sync, snapshot" err.txt
check "unknown option suggests" sh -c '"$0" destroy --forse 2>&1 | grep -q "did you mean .--force."' "$VMLAB"
check "help CMD" sh -c '"$0" help up | grep -q "^usage: vmlab up"' "$VMLAB"
check "--help lists commands" sh -c '"$0" --help | grep -q "snapshot"' "$VMLAB"
check "--version" sh -c '"$0" --version | grep -q "^vmlab [0-9]"' "$VMLAB"
check "completion names every command" sh -c '"$0" completion bash | grep -q "rollback"' "$VMLAB"
check "-C DIR" [ "$(cd / && "$VMLAB" --uri test:///default -C "$T/lab" status --json | jq -r .lab)" = cli ]
check "no .vmlab keys made by read-only commands" [ ! -e .vmlab/id_ed25519 ]
# every image a shipped profile names is in the shipped catalog
catalog=$("$VMLAB" image list --json | jq -r '.[].name')
for f in "$REPO"/profiles/*.ini; do
	for img in $(sed -n 's/^image *= *\([^ ;]*\).*/\1/p' "$f"); do
		check "$(basename "$f"): image $img is in the catalog" grep -qx "$img" <<<"$catalog"
	done
done
exit $fails
