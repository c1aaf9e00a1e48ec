# shellcheck shell=bash
# The daemon goes away, and many commands at once. libvirtd is stopped and started again
# while up converges, while up waits for SSH, and under status, exec and a forward: each
# command ends with a clear line and exit 3, or carries on; the next up converges, nothing
# is defined twice, destroy leaves nothing (the TUI's banner and recovery: t_90_tui).
# Then 10 ups of one project started at once: one works, the others refuse with one line,
# one domain. (8 projects at once on one host, distinct subnets: t_35_parallel.)
pd=$E2E_TMP/daemon
e2e_project "$pd" <<'INI'
[lab]
name = daemon
[defaults]
image  = test-minimal
memory = 256M
[vm a]
INI
did=$(lab_id "$pd")
dv() { (cd "$pd" && vmlab "$@"); }
ndom() { vl_virsh list --all --name | grep -c "^vmlab-$did-"; }

daemon_stop() {
	local lpid i
	lpid=$(cat "$VL_E2E_STATE/libvirtd.pid")
	kill -TERM "$lpid"
	for ((i = 0; i < 200; i++)); do kill -0 "$lpid" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}
daemon_start() {
	local i
	nsenter -t "$(cat "$VL_E2E_STATE/virtlogd.pid")" -m -n \
		libvirtd -d -f "$VL_E2E_STATE/libvirtd.conf" -p "$VL_E2E_STATE/libvirtd.pid"
	for ((i = 0; i < 300; i++)); do vl_virsh version >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
# one_line_3 WHAT RC OUT: exit 3 with one line naming the lost connection, or carried on (0)
one_line_3() {
	if [ "$2" = 0 ]; then
		ok "$1: carried on (exit 0)"
	elif [ "$2" = 3 ] && [ "$(grep -c . <<<"$3")" = 1 ]; then
		ok "$1: one line, exit 3 ($3)"
	else
		bad "$1: exit $2: $(head -c 400 <<<"$3")"
	fi
}

# up while the daemon goes away: once while it creates the VM, once while it waits for SSH
for marker in "network vmlab-" "waiting for ssh"; do
	log=$E2E_TMP/daemon-up.log
	(cd "$pd" && exec ip netns exec "$VL_NS" env VMLAB_CONFIG="$E2E_CONF" HOME="$E2E_HOME" \
		"$E2E_VMLAB" up >"$log" 2>&1) &
	pid=$!
	for _ in $(seq 1 3000); do
		grep -qF "$marker" "$log" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	daemon_stop || bad "libvirtd did not stop within 20 s"
	sleep 1
	daemon_start || bad "libvirtd did not come back"
	wait "$pid"; rc=$?
	# the progress lines stand; the error is the last one
	one_line_3 "up while the daemon restarts (at '$marker')" "$rc" "$(tail -1 "$log")"
	[ "$rc" = 0 ] || check_contains "... the error names libvirt" "libvirt" "$(tail -1 "$log")"
	out=$(dv up 2>&1); rc=$?
	check_rc "up after the restart converges" 0 "$rc"
	[ "$rc" = 0 ] || tail -5 <<<"$out"
	check_eq "... one domain, defined once" 1 "$(ndom)"
	check_eq "... it answers SSH" ok "$(dv ssh a -- echo ok 2>/dev/null)"
	[ "$marker" = "waiting for ssh" ] || { dv destroy --force >/dev/null 2>&1;
		check_eq "... destroy leaves nothing" "" "$(leftovers "$did")"; }
done

# status, exec and a forward while the daemon is away
fport=18471
out=$(dv forward a "$fport:22" 2>&1); rc=$?
check_rc "forward a $fport:22" 0 "$rc"
banner() { vl_ns_exec timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$fport && head -c 4 <&3" 2>/dev/null; }
check_eq "the forward reaches sshd" "SSH-" "$(banner)"
daemon_stop || bad "libvirtd did not stop within 20 s"
out=$(dv status 2>&1); rc=$?
check_rc "status without the daemon: exit 3" 3 "$rc"
check_eq "... in one line" 1 "$(grep -c . <<<"$out")"
check_contains "... naming libvirt" "libvirt" "$out"
out=$(dv exec --all -- echo ok 2>&1); rc=$?
one_line_3 "exec without the daemon" "$rc" "$out"
check_eq "the forward carries on without the daemon" "SSH-" "$(banner)"
daemon_start || bad "libvirtd did not come back"
out=$(dv status --json 2>&1); rc=$?
check_rc "status after the restart" 0 "$rc"
check_eq "... the VM is running" running "$(jq -r '.vms[0].state' <<<"$out" 2>/dev/null)"
check_eq "exec after the restart" ok "$(dv exec --all -- echo ok 2>/dev/null | sed 's/^a: //')"
check_eq "the forward after the restart" "SSH-" "$(banner)"
out=$(dv up 2>&1); rc=$?
check_rc "up after the restart: nothing to do" 0 "$rc"
check_eq "... still one domain" 1 "$(ndom)"
dv destroy --force >/dev/null 2>&1
check_eq "destroy after the restarts leaves nothing" "" "$(leftovers "$did")"
check_eq "... and no forward listening" "" "$(banner)"

# 10 ups of one project at the same moment
pids=()
t0=$(now)
for i in $(seq 1 10); do
	(cd "$pd" && exec ip netns exec "$VL_NS" env VMLAB_CONFIG="$E2E_CONF" HOME="$E2E_HOME" \
		"$E2E_VMLAB" up >"$E2E_TMP/up10.$i" 2>&1) &
	pids+=($!)
done
okn=0 refused=0 other=0
for i in "${!pids[@]}"; do
	wait "${pids[$i]}"; rc=$?
	f=$E2E_TMP/up10.$((i + 1))
	if [ "$rc" = 0 ]; then
		okn=$((okn + 1))
	elif [ "$(grep -c . "$f")" = 1 ] && grep -q "another vmlab command .* is working on this lab" "$f"; then
		refused=$((refused + 1))
	else
		other=$((other + 1))
		echo "   up $((i + 1)): exit $rc: $(tail -3 "$f")"
	fi
done
echo "   10 ups at once: $okn worked, $refused refused in one line, $other otherwise ($(elapsed "$t0") s)"
check_eq "10 ups at once: one works" 1 "$okn"
check_eq "... the other 9 refuse in one line" 9 "$refused"
check_eq "... one domain" 1 "$(ndom)"
check_eq "... it answers SSH" ok "$(dv ssh a -- echo ok 2>/dev/null)"
dv destroy --force >/dev/null 2>&1
check_eq "destroy after 10 ups leaves nothing" "" "$(leftovers "$did")"
