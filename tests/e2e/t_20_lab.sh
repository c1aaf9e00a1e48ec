# shellcheck shell=bash
# The main path on a two-VM lab of the minimal image: up, names between VMs, ssh exit
# status and streams, a second up converges, a changed host key is refused, snapshot and
# rollback, halt then up keeps data and IPs, destroy leaves nothing.
p=$E2E_TMP/pair
e2e_project "$p" <<'INI'
[lab]
name = pair
[defaults]
image  = test-minimal
cpus   = 1
memory = 256M
disk   = 2G
[vm a]
provision = prov.sh
[vm b]
INI
cat > "$p/prov.sh" <<'SH'
#!/bin/sh
echo "provisioning on $(hostname)"
echo "to stderr" >&2
echo done > provisioned.txt
SH
id=$(lab_id "$p")
t0=$(now)
out=$(cd "$p" && vmlab up 2>&1); rc=$?
check_rc "up of a two-VM lab (${E2E_UP_SECS:=$(elapsed "$t0")} s)" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -20
check_contains "up streams the provisioner's output" "provisioning on a" "$out"
check_eq "the provisioner ran on a" done "$(cd "$p" && vmlab ssh a -- cat provisioned.txt)"
(cd "$p" && vmlab ssh b -- test -e provisioned.txt); rc=$?
check_rc "no provisioner on b" 1 "$rc"
st=$(cd "$p" && vmlab status --json)
check_eq "status: a running" running "$(jq -r '.vms[] | select(.name=="a") | .state' <<<"$st")"
check_eq "status: b running" running "$(jq -r '.vms[] | select(.name=="b") | .state' <<<"$st")"
ip_a=$(jq -r '.vms[] | select(.name=="a") | .ip' <<<"$st")
ip_b=$(jq -r '.vms[] | select(.name=="b") | .ip' <<<"$st")

out=$(cd "$p" && vmlab ssh a -- ping -c 1 -W 5 b 2>&1); rc=$?
check_rc "a reaches b by name" 0 "$rc"
check_contains "b resolves to its planned IP" "$ip_b" "$out"
out=$(cd "$p" && vmlab ssh b -- ping -c 1 -W 5 a.pair 2>&1); rc=$?
check_rc "b reaches a.pair by name" 0 "$rc"

(cd "$p" && vmlab ssh a -- sh -c 'echo out; echo err >&2; exit 7' >"$E2E_TMP/o" 2>"$E2E_TMP/e"); rc=$?
check_rc "ssh -- CMD returns the remote status" 7 "$rc"
check_eq "ssh: stdout alone on stdout" out "$(cat "$E2E_TMP/o")"
check_eq "ssh: stderr alone on stderr" err "$(cat "$E2E_TMP/e")"
out=$(cd "$p" && vmlab ssh a -- printf '%s|' 'a b' "c'd" '$HOME' '' 2>&1)
check_eq "ssh: argv kept word for word" "a b|c'd|\$HOME||" "$out"
out=$(cd "$p" && vmlab ssh a -- hostname)
check_eq "hostname from the seed" a "$out"

uuid1=$(vl_virsh domuuid "vmlab-$id-a")
out=$(cd "$p" && vmlab up 2>&1); rc=$?
check_rc "second up converges" 0 "$rc"
case "$out" in *starting*) bad "second up started something: $out" ;; *) ok "second up started nothing" ;; esac
case "$out" in *provisioning*) bad "second up provisioned again: $out" ;; *) ok "second up did not provision again" ;; esac
check_eq "second up kept the domain" "$uuid1" "$(vl_virsh domuuid "vmlab-$id-a")"

hk=$p/.vmlab/hostkeys/a_ed25519.pub
cp "$hk" "$E2E_TMP/hk.save"
ssh-keygen -q -t ed25519 -N '' -f "$E2E_TMP/otherkey" <<<y >/dev/null 2>&1
cp "$E2E_TMP/otherkey.pub" "$hk"
out=$(cd "$p" && vmlab ssh a -- touch should-not-exist 2>&1); rc=$?
check_rc "changed host key: refused" 1 "$rc"
check_contains "changed host key: says so" "does not match" "$out"
cp "$E2E_TMP/hk.save" "$hk"
out=$(cd "$p" && vmlab ssh a -- sh -c 'test -e should-not-exist && echo ran || echo not-run')
check_eq "changed host key: nothing ran" not-run "$out"

(cd "$p" && vmlab ssh a -- sh -c 'echo before > f') >/dev/null
t0=$(now)
out=$(cd "$p" && vmlab snapshot save s1 2>&1); rc=$?
check_rc "snapshot save (${E2E_SNAP_SECS:=$(elapsed "$t0")} s)" 0 "$rc"
(cd "$p" && vmlab ssh a -- sh -c 'echo after > f; echo new > g; sync') >/dev/null
(cd "$p" && vmlab ssh b -- sh -c 'echo new > g; sync') >/dev/null
out=$(cd "$p" && vmlab snapshot list --json)
check_eq "snapshot list: s1 on both VMs" "s1 2" "$(jq -r '.[] | "\(.name) \(.vms)"' <<<"$out")"
t0=$(now)
out=$(cd "$p" && vmlab rollback 2>&1); rc=$?
check_rc "rollback (${E2E_ROLLBACK_SECS:=$(elapsed "$t0")} s)" 0 "$rc"
check_eq "rollback: changed file is back" before "$(cd "$p" && vmlab ssh a -- cat f)"
(cd "$p" && vmlab ssh a -- test -e g); rc=$?
check_rc "rollback: new file on a is gone" 1 "$rc"
(cd "$p" && vmlab ssh b -- test -e g); rc=$?
check_rc "rollback: new file on b is gone" 1 "$rc"
out=$(cd "$p" && vmlab snapshot delete s1 2>&1); rc=$?
check_rc "snapshot delete" 0 "$rc"

(cd "$p" && vmlab ssh a -- sh -c 'echo keep > k; sync') >/dev/null
out=$(cd "$p" && vmlab halt 2>&1); rc=$?
check_rc "halt" 0 "$rc"
check_eq "halt: a shut off" "shut off" "$(cd "$p" && vmlab status --json | jq -r '.vms[] | select(.name=="a") | .state')"
out=$(cd "$p" && vmlab up 2>&1); rc=$?
check_rc "up after halt" 0 "$rc"
check_eq "halt + up: data kept" keep "$(cd "$p" && vmlab ssh a -- cat k)"
st=$(cd "$p" && vmlab status --json)
check_eq "halt + up: IP of a kept" "$ip_a" "$(jq -r '.vms[] | select(.name=="a") | .ip' <<<"$st")"
check_eq "halt + up: a really has it" "$ip_a" "$(cd "$p" && vmlab ssh b -- sh -c "ping -c1 -W5 a >/dev/null && echo $ip_a")"

t0=$(now)
out=$(cd "$p" && vmlab destroy --force 2>&1); rc=$?
check_rc "destroy (${E2E_DESTROY_SECS:=$(elapsed "$t0")} s)" 0 "$rc"
check_eq "destroy leaves no domain, volume, network, bridge or dnsmasq" "" "$(leftovers "$id")"
out=$(cd "$p" && vmlab destroy --force 2>&1); rc=$?
check_rc "destroy again is a no-op" 0 "$rc"
