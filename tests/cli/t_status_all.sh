#!/usr/bin/env bash
# vmlab status --all: every lab on the connection, from libvirt alone, with no vmlab.ini.
# Against test:///default (its own domain "test" has no vmlab metadata: no lab), then against
# the test driver loaded from a node file holding two labs written from `vmlab plan --json`
# (the names, ids, addresses and metadata fields vmlab's planner and renderer use), a domain
# named like ours without metadata, and another machine's lab whose network is gone.
set -u
fails=0
check() { local what=$1; shift; if ! "$@"; then echo "not ok: $what"; fails=$((fails + 1)); fi; }
rc() { "$@" >/dev/null 2>&1; echo $?; }

# --- test:///default: no labs, no vmlab.ini needed --------------------------------
mkdir -p "$T/empty" && cd "$T/empty" || exit 1
check "status without vmlab.ini still needs one (2)" [ "$(rc "$VMLAB" --uri test:///default status)" = 2 ]
check "status --all without vmlab.ini (0)" [ "$(rc "$VMLAB" --uri test:///default status --all)" = 0 ]
out=$("$VMLAB" --uri test:///default status --all --json)
check "status --all --json: no labs (the driver's domain 'test' is not one)" \
	[ "$(jq -c . <<<"$out")" = '{"labs":[]}' ]
check "global --json works too" [ "$("$VMLAB" --uri test:///default --json status --all | jq -c .labs)" = "[]" ]
check "status --all says there is none" \
	sh -c '"$0" --uri test:///default status --all | grep -q "^no vmlab labs"' "$VMLAB"
check "libvirt unreachable exits 3" \
	[ "$(rc "$VMLAB" --uri 'qemu+unix:///system?socket=/nonexistent' status --all)" = 3 ]

# --- a node file with two labs ------------------------------------------------------
mk() { # DIR INI
	mkdir -p "$1" && printf '%s' "$2" >"$1/vmlab.ini"
	"$VMLAB" --uri test:///default -C "$1" plan --json >"$1/plan.json"
}
mk "$T/alpha" $'[lab]\nname = alpha\n[defaults]\nimage = debian-12\nmemory = 512M\n[vm web]\ncount = 2\n[vm db]\ncpus = 2\n'
mk "$T/beta" $'[lab]\nname = beta\n[defaults]\nimage = debian-12\nmemory = 256M\n[vm box]\n'
# metadata as render.c writes it (w_metadata); OWNER: the owner fields, or ""
node_objects() { # PLAN OWNER-XML WITH-NETWORK
	jq -r --arg owner "$2" --arg net "$3" '
	def md(extra): "<metadata><vmlab:lab xmlns:vmlab=\"https://vmlab.dev/xmlns/1\">"
		+ "<vmlab:id>\(.lab.id)</vmlab:id><vmlab:name>\(.lab.name)</vmlab:name>"
		+ "<vmlab:project>\(.lab.project_dir)</vmlab:project><vmlab:user>\(.lab.user)</vmlab:user>"
		+ $owner + extra + "</vmlab:lab></metadata>";
	. as $p
	| (.vms[] | . as $vm
		| "<domain type=\"test\" xmlns:test=\"http://libvirt.org/schemas/domain/test/1.0\">"
		+ "<name>\(.domain)</name><memory unit=\"KiB\">\(.memory_bytes / 1024)</memory>"
		+ "<vcpu>\(.cpus)</vcpu><os><type>hvm</type></os>"
		+ ($p | md("<vmlab:vm>\($vm.name)</vmlab:vm><vmlab:spec>\($vm.spec)</vmlab:spec>"
			   + "<vmlab:ip>\($vm.ip)</vmlab:ip><vmlab:mac>\($vm.mac)</vmlab:mac>"))
		+ "<test:runstate>\(if .name == "web-1" then 1 else 5 end)</test:runstate></domain>"),
	  (if $net == "yes" then "<network><name>\(.network.name)</name>"
		+ md("<vmlab:subnet>\(.network.subnet)</vmlab:subnet>")
		+ "<bridge name=\"\(.network.bridge)\"/><ip address=\"\(.network.gateway)\" "
		+ "netmask=\"\(.network.netmask)\"/></network>" else empty end)' "$1"
}
{
	echo "<node>"
	node_objects "$T/alpha/plan.json" "" yes
	node_objects "$T/beta/plan.json" \
		"<vmlab:owner-machine>0123456789abcdef0123456789abcdef</vmlab:owner-machine><vmlab:owner-user>someone</vmlab:owner-user>" \
		no
	echo "<domain type='test'><name>vmlab-stranger-x</name><memory>65536</memory><os><type>hvm</type></os></domain>"
	echo "<domain type='test'><name>plain</name><memory>65536</memory><os><type>hvm</type></os></domain>"
	echo "</node>"
} >"$T/node.xml"
U="test://$T/node.xml"

cd "$T/empty" || exit 1
out=$("$VMLAB" --uri "$U" status --all --json)
check "two labs" [ "$(jq '.labs | length' <<<"$out")" = 2 ]
check "labs by name" [ "$(jq -r '.labs | map(.lab) | join(",")' <<<"$out")" = "alpha,beta" ]
A=$(jq '.labs[0]' <<<"$out")
B=$(jq '.labs[1]' <<<"$out")
check "alpha: id and project" [ "$(jq -r '.id + " " + .project' <<<"$A")" = \
	"$(jq -r '.lab.id + " " + .lab.project_dir' "$T/alpha/plan.json")" ]
check "alpha: no owner recorded, so mine" [ "$(jq -c '[.owner, .mine]' <<<"$A")" = '[null,true]' ]
check "alpha: network" [ "$(jq -c .network <<<"$A")" = \
	"$(jq -c '{name: .network.name, subnet: .network.subnet, exists: true, active: true}' "$T/alpha/plan.json")" ]
check "alpha: VMs by name" [ "$(jq -r '.vms | map(.name) | join(",")' <<<"$A")" = "db,web-1,web-2" ]
check "alpha: states" [ "$(jq -r '.vms | map(.state) | join(",")' <<<"$A")" = "shut off,running,shut off" ]
check "alpha: db cpus, memory, ip, mac, domain" [ "$(jq -c '.vms[0] | [.cpus, .memory_mib, .ip, .mac, .domain]' <<<"$A")" = \
	"$(jq -c '.vms[] | select(.name == "db") | [.cpus, 512, .ip, .mac, .domain]' "$T/alpha/plan.json")" ]
check "beta: another owner's" [ "$(jq -c '[.owner.user, .mine]' <<<"$B")" = '["someone",false]' ]
check "beta: network gone" [ "$(jq -c '.network | [.exists, .active, .subnet]' <<<"$B")" = '[false,false,null]' ]
check "beta: network named anyway" [ "$(jq -r .network.name <<<"$B")" = "$(jq -r .network.name "$T/beta/plan.json")" ]
check "beta: one VM" [ "$(jq -r '.vms | map(.name + " " + .state) | join(",")' <<<"$B")" = "box shut off" ]

table=$("$VMLAB" --uri "$U" status --all)
check "table: one block per lab" [ "$(grep -c '^lab ' <<<"$table")" = 2 ]
check "table: alpha block" grep -q "^lab alpha ($(jq -r .lab.id "$T/alpha/plan.json")), project $T/alpha\$" <<<"$table"
check "table: web-1 running" grep -qE '^web-1 +running +10\.' <<<"$table"
check "table: beta's owner" grep -q '^owner someone on machine 0123456789abcdef' <<<"$table"
check "table: beta's network not created" grep -q '(not created)$' <<<"$table"
check "table: totals" grep -q '^2 labs, 4 VMs, 1 running$' <<<"$table"
check "table: the stranger and 'plain' are not listed" [ -z "$(grep -e stranger -e plain <<<"$table")" ]
# inside a project, --all still lists every lab, and plain status is that project's
cd "$T/alpha" || exit 1
check "--all inside a project: every lab" [ "$("$VMLAB" --uri "$U" status --all --json | jq '.labs | length')" = 2 ]
check "plain status inside the project: its lab" [ "$("$VMLAB" --uri "$U" status --json | jq -r '.vms | map(.state) | join(",")')" = "running,shut off,shut off" ]
exit $fails
