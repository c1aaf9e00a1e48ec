# shellcheck shell=bash
# Chaos: SIGKILL at chosen points of up's phases (image fetch, base upload, network, volume,
# seed, define, start, the SSH wait; with the cloud-init image also the cloud-init wait and
# provisioning), then of snapshot save, rollback, destroy and class up. A point is a phase
# (the -v line that opens it) and a delay after it, so it lands inside that phase whatever
# the machine's speed. After each kill the command converges when run again, and destroy
# leaves no domain, volume, network, bridge, dnsmasq, held lock or stray key file. The
# table at the end: points tried, converged, left over. VL_CHAOS_FULL=1 tries more delays.
p=$E2E_TMP/chaos
ccache=$E2E_TMP/chaos-cache
cconf=$E2E_TMP/vmlab-chaos.conf
sed -e "s|^cache *=.*|cache = $ccache|" "$E2E_CONF" >"$cconf"
e2e_project "$p" <<'INI'
[lab]
name = chaos
[defaults]
image  = test-minimal
memory = 256M
[vm a]
INI
cid=$(lab_id "$p")
cv() { (cd "$1" && shift && vl_ns_exec env VMLAB_CONFIG="$cconf" HOME="$E2E_HOME" "$E2E_VMLAB" "$@"); }
declare -A ch_tried ch_conv ch_left
ch_phases=()
full=${VL_CHAOS_FULL:-0}

# chaos_kill DIR LOG MARKER DELAY_MS ARGS...: run vmlab -v ARGS in DIR, SIGKILL it DELAY_MS
# after MARKER shows in its output; returns 1 when the command ended before (point missed)
chaos_kill() {
	local d=$1 log=$2 marker=$3 delay=$4 pid i
	shift 4
	(cd "$d" && exec ip netns exec "$VL_NS" env VMLAB_CONFIG="$cconf" HOME="$E2E_HOME" \
		"$E2E_VMLAB" -v "$@" </dev/null >"$log" 2>&1) &
	pid=$!
	for ((i = 0; i < 30000; i++)); do
		[ -z "$marker" ] && break
		grep -qF -- "$marker" "$log" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	[ "$delay" -gt 0 ] && sleep "$(awk -v m="$delay" 'BEGIN { printf "%.3f", m / 1000 }')"
	if kill -9 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		[ -z "$marker" ] || grep -qF -- "$marker" "$log"
		return
	fi
	wait "$pid" 2>/dev/null
	return 1
}

# chaos_left DIR ID...: what destroy left of the labs ID... and in the project's .vmlab: a
# held lock, a temporary file (a seed under construction holds a host private key), a
# held session (the background SSH connection of forwards) still running
chaos_left() {
	local d=$1 id f
	shift
	for id in "$@"; do leftovers "$id"; done
	find "$d/.vmlab" -name '*.tmp*' 2>/dev/null | sed 's/^/tmpfile /'
	ps -eo pid,args | grep -F -- "-C $d held-session" | grep -v grep | sed 's/^/held session /'
	while IFS= read -r f; do
		flock -n "$f" true || echo "lock held $f"
	done < <(find "$d/.vmlab" -name lock 2>/dev/null)
	return 0
}

ch_count() { # PHASE CONVERGED(0|1) LEFT(0|1)
	[ -n "${ch_tried[$1]:-}" ] || { ch_phases+=("$1"); ch_tried[$1]=0 ch_conv[$1]=0 ch_left[$1]=0; }
	ch_tried[$1]=$((ch_tried[$1] + 1))
	ch_conv[$1]=$((ch_conv[$1] + $2))
	ch_left[$1]=$((ch_left[$1] + $3))
}

# the base volume of pool vmlab made from IMAGE's content (none once deleted)
base_of() { vl_virsh vol-list vmlab | awk '{ print $1 }' | grep '^vmlab-base-'; }
# volumes other than bases: another lab of this run still uses a base
others_use_bases() { vl_virsh vol-list vmlab | awk '{ print $1 }' | grep '^vmlab-' | grep -qv '^vmlab-base-'; }

# chaos_up_point DIR ID PHASE MARKER DELAY PREP: one point of up
chaos_up_point() {
	local d=$1 id=$2 phase=$3 marker=$4 delay=$5 prep=$6 log out rc conv=0 left b
	case "$prep" in
	nocache) rm -rf "$ccache" ;;
	nobase)
		if others_use_bases; then
			echo "   (skipped $phase +${delay}ms: another lab uses the base)"
			return 0
		fi
		for b in $(base_of); do vl_virsh vol-delete --pool vmlab "$b" >/dev/null; done ;;
	esac
	log=$E2E_TMP/chaos-$phase-$delay.log
	if ! chaos_kill "$d" "$log" "$marker" "$delay" up; then
		bad "chaos: up never reached '$marker' or ended first (+${delay}ms): $(tail -3 "$log")"
		ch_count "$phase" 0 0
		return 0
	fi
	out=$(cv "$d" up 2>&1); rc=$?
	if [ "$rc" = 0 ] && [ "$(cv "$d" ssh a -- echo ok 2>/dev/null)" = ok ]; then
		conv=1
	else
		bad "chaos: up after a kill in $phase (+${delay}ms) did not converge (exit $rc): $(tail -3 <<<"$out")"
	fi
	cv "$d" destroy --force >/dev/null 2>&1
	left=$(chaos_left "$d" "$id")
	[ -z "$left" ] || bad "chaos: destroy after a kill in $phase (+${delay}ms) left: $left"
	ch_count "$phase" "$conv" "$([ -z "$left" ] && echo 0 || echo 1)"
}

t0=$(now)
# phase             marker (-v)                      delays (ms)    before the run
pts="fetch|pulling |0 40|nocache
base-upload|uploading into pool|0 150|nobase
network|network vmlab-|0 250|
volume|a: volume vmlab-|0 10|
seed|a: seed vmlab-|0 30|
define|a: defining vmlab-|0 60|
start|a: starting (|0 150 400|
ssh-wait|waiting for ssh|300 1000 2000|"
[ "$full" = 1 ] && pts="fetch|pulling |0 20 40 80|nocache
base-upload|uploading into pool|0 50 150 300|nobase
network|network vmlab-|0 50 150 250 500|
volume|a: volume vmlab-|0 5 20|
seed|a: seed vmlab-|0 10 30 60|
define|a: defining vmlab-|0 20 60|
start|a: starting (|0 100 400 1000|
ssh-wait|waiting for ssh|300 1000 2000 4000|"
# (fd 3: vmlab ssh would read the list from stdin)
want=0
while IFS='|' read -r -u 3 phase marker delays prep; do
	for delay in $delays; do
		want=$((want + 1))
		chaos_up_point "$p" "$cid" "$phase" "$marker" "$delay" "$prep" </dev/null
	done
done 3<<<"$pts"
echo "   (up on the minimal image: $(elapsed "$t0") s)"

# the cloud-init image: the cloud-init wait, and a provisioner killed while it runs
if grep -q '^\[test-cloudinit\]' "$E2E_TMP/catalog.ini"; then
	pci=$E2E_TMP/chaos-ci
	e2e_project "$pci" <<'INI'
[lab]
name = chaosci
[defaults]
image  = test-cloudinit
memory = 640M
[vm a]
provision = prov.sh
INI
	printf '#!/bin/sh\necho provisioning\nsleep 4\necho done > "$HOME/provisioned"\n' >"$pci/prov.sh"
	ciid=$(lab_id "$pci")
	t0=$(now)
	# a boot of this image costs about a minute under TCG, so by default two points share
	# one: up killed in the cloud-init wait, the next up killed while it provisions (having
	# got through the waits: the first point converged that far), then an up that converges
	want=$((want + 2))
	ci1=0 ci2=0 left=
	if chaos_kill "$pci" "$E2E_TMP/chaos-ci1.log" "checking cloud-init" 1500 up &&
		chaos_kill "$pci" "$E2E_TMP/chaos-ci2.log" "provisioning 1/1" 1500 up; then
		ci1=1
		out=$(cv "$pci" up 2>&1); rc=$?
		if [ "$rc" = 0 ] && [ "$(cv "$pci" ssh a -- cat provisioned 2>/dev/null)" = done ]; then
			ci2=1
		else
			bad "chaos: up after a kill while provisioning did not converge (exit $rc): $(tail -3 <<<"$out")"
		fi
	else
		bad "chaos: the cloud-init wait or provisioning was not reached: $(tail -2 "$E2E_TMP"/chaos-ci?.log)"
	fi
	cv "$pci" destroy --force >/dev/null 2>&1 </dev/null
	left=$(chaos_left "$pci" "$ciid")
	[ -z "$left" ] || bad "chaos: destroy after the cloud-init kills left: $left"
	ch_count cloud-init-wait "$ci1" "$([ -z "$left" ] && echo 0 || echo 1)"
	ch_count provision "$ci2" "$([ -z "$left" ] && echo 0 || echo 1)"
	if [ "$full" = 1 ]; then
		for delay in 500 4000 8000; do
			want=$((want + 1))
			chaos_up_point "$pci" "$ciid" cloud-init-wait "checking cloud-init" "$delay" "" </dev/null
		done
		for delay in 200 3000; do
			want=$((want + 1))
			chaos_up_point "$pci" "$ciid" provision "provisioning 1/1" "$delay" "" </dev/null
		done
	fi
	echo "   (up on the cloud-init image: $(elapsed "$t0") s)"
else
	echo "   (no cloud-init image (VL_E2E_SKIP_CLOUDINIT=1): cloud-init wait and provisioning not tried)"
fi

# snapshot save, rollback and destroy of a running lab, each killed after it started
t0=$(now)
out=$(cv "$p" up 2>&1) || bad "chaos: up for the snapshot points: $(tail -3 <<<"$out")"
cv "$p" snapshot save base >/dev/null 2>&1 || bad "chaos: snapshot save base"
for delay in 0 150; do
	log=$E2E_TMP/chaos-save-$delay.log
	if chaos_kill "$p" "$log" "" "$delay" snapshot save s1; then
		conv=0
		# a VM paused for the snapshot is resumed by up; save again (or it is complete)
		if cv "$p" up >/dev/null 2>&1 && { cv "$p" snapshot delete s1 >/dev/null 2>&1; cv "$p" snapshot save s1 >/dev/null 2>&1; } &&
			[ "$(cv "$p" ssh a -- echo ok 2>/dev/null)" = ok ]; then
			conv=1
		else
			bad "chaos: snapshot save killed at +${delay}ms: up and save again failed"
		fi
		ch_count snapshot-save "$conv" 0
		cv "$p" snapshot delete s1 >/dev/null 2>&1
	else
		ok "chaos: snapshot save (+${delay}ms) ended before the kill"
	fi
done
for delay in 100 800; do
	cv "$p" ssh a -- touch /tmp/after-base >/dev/null 2>&1
	log=$E2E_TMP/chaos-rollback-$delay.log
	if chaos_kill "$p" "$log" "" "$delay" rollback base; then
		conv=0
		if cv "$p" up >/dev/null 2>&1 && cv "$p" rollback base >/dev/null 2>&1 &&
			[ "$(cv "$p" ssh a -- sh -c 'test -e /tmp/after-base && echo kept || echo gone' 2>/dev/null)" = gone ]; then
			conv=1
		else
			bad "chaos: rollback killed at +${delay}ms: up and rollback again failed"
		fi
		ch_count rollback "$conv" 0
	else
		ok "chaos: rollback (+${delay}ms) ended before the kill"
	fi
done
for delay in 0 600; do
	cv "$p" up >/dev/null 2>&1
	log=$E2E_TMP/chaos-destroy-$delay.log
	conv=0
	if chaos_kill "$p" "$log" "" "$delay" destroy --force; then
		cv "$p" destroy --force >/dev/null 2>&1 && conv=1 || bad "chaos: destroy again after a kill at +${delay}ms failed"
	else
		conv=1
	fi
	left=$(chaos_left "$p" "$cid")
	[ -z "$left" ] || bad "chaos: destroy killed at +${delay}ms left: $left"
	ch_count destroy "$conv" "$([ -z "$left" ] && echo 0 || echo 1)"
done
echo "   (snapshot, rollback, destroy: $(elapsed "$t0") s)"

# class up of two seats killed while the seats start, then class up again
t0=$(now)
pcl=$E2E_TMP/chaos-class
e2e_project "$pcl" <<'INI'
[lab]
name = chaoscls
[defaults]
image  = test-minimal
memory = 256M
[vm a]
[class]
seats = 2
INI
clids=$(cv "$pcl" class plan --json | jq -r '.seats[].lab_id')
for delay in 0 1500; do
	log=$E2E_TMP/chaos-class-$delay.log
	if ! chaos_kill "$pcl" "$log" "starting (" "$delay" class up; then
		bad "chaos: class up never reached 'starting' (+${delay}ms): $(tail -3 "$log")"
		ch_count class-up 0 0
		continue
	fi
	conv=0
	out=$(cv "$pcl" class up 2>&1); rc=$?
	st=$(cv "$pcl" class status --json 2>/dev/null)
	if [ "$rc" = 0 ] && [ "$(jq -r '"\(.totals.vms_up) \(.totals.ssh_ok)"' <<<"$st")" = "2 2" ]; then
		conv=1
	else
		bad "chaos: class up after a kill (+${delay}ms) did not converge (exit $rc): $(tail -3 <<<"$out")"
	fi
	cv "$pcl" class destroy --force >/dev/null 2>&1
	# shellcheck disable=SC2086
	left=$(chaos_left "$pcl" $clids)
	[ -z "$left" ] || bad "chaos: class destroy after a kill (+${delay}ms) left: $left"
	ch_count class-up "$conv" "$([ -z "$left" ] && echo 0 || echo 1)"
done
echo "   (class up: $(elapsed "$t0") s)"

# the table
tt=0 tc=0 tl=0
printf '   %-16s %6s %10s %10s\n' phase tried converged "left over"
for ph in "${ch_phases[@]}"; do
	printf '   %-16s %6s %10s %10s\n' "$ph" "${ch_tried[$ph]}" "${ch_conv[$ph]}" "${ch_left[$ph]}"
	tt=$((tt + ch_tried[$ph])) tc=$((tc + ch_conv[$ph])) tl=$((tl + ch_left[$ph]))
done
printf '   %-16s %6s %10s %10s\n' total "$tt" "$tc" "$tl"
up_tried=$tt
for ph in snapshot-save rollback destroy class-up; do up_tried=$((up_tried - ${ch_tried[$ph]:-0})); done
check_eq "chaos: every planned point of up was tried" "$want" "$up_tried"
check_eq "chaos: $tt kill points, every one converged" "$tt" "$tc"
check_eq "chaos: nothing left over after destroy" 0 "$tl"
