# shellcheck shell=bash
# The TUI in a real terminal (tmux inside the netns) on one one-VM lab of the minimal
# image: the current directory's lab shown before it exists and made by u, the header's
# host facts, navigation, help, filter, marks, a VM stopped and started from outside with
# virsh shown without a key, resize to 80x24, NO_COLOR, the SSH round trip, the console,
# the log view, the 100 ms responsiveness during an up, h/u, the libvirt daemon stopped
# and started again (banner, actions greyed out and refused, reconnection), snapshot,
# rollback and destroy (cancelled, then confirmed: the lab stays, not created) from the
# keys, with the CHG column (a write in the guest after the snapshot, then the rollback). Every check polls capture-pane every 50 ms up to a limit.
p=$E2E_TMP/tuilab
e2e_project "$p" <<'INI'
[lab]
name = tui
[defaults]
image  = test-minimal
cpus   = 1
memory = 256M
disk   = 2G
[vm a]
INI
id=$(lab_id "$p")

sock=$E2E_TMP/tmux.sock
tx() { tmux -S "$sock" "$@"; }
scr() { tx capture-pane -p -t "$1" 2>/dev/null; }
# wait_for WHAT PANE REGEX [SECONDS]: poll the screen until REGEX matches
wait_for() {
	local what=$1 pane=$2 re=$3 lim=${4:-15} i=0
	while [ "$i" -lt $((lim * 20)) ]; do
		scr "$pane" | grep -qE -- "$re" && { ok "$what"; return 0; }
		sleep 0.05
		i=$((i + 1))
	done
	bad "$what (no /$re/ within $lim s)"
	scr "$pane" | sed 's/^/      | /'
	return 1
}
# tui_start NAME ENV...: vmlab tui in the lab's directory, in a 100x30 tmux window
tui_start() {
	local name=$1
	shift
	vl_ns_exec tmux -S "$sock" -f /dev/null new-session -d -s "$name" -x 100 -y 30 -c "$p" \
		env "$@" LANG=C.UTF-8 TERM=tmux-256color VMLAB_CONFIG="$E2E_CONF" HOME="$E2E_HOME" \
		"$E2E_VMLAB" tui
}
ip_re='[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+'

tui_start t
# the lab was never made: its profile's plan shows it, and u makes it
wait_for "tui: the lab not made yet shows, first and expanded" t "^. tui +0/1 up  not created  \(here\)"
wait_for "tui: ... its VM not created" t "^ +. a +not created"
wait_for "tui: the header has the host's memory and the accelerator in effect" t \
	"^ vmlab  running 0  free [0-9.]+[MG] of [0-9.]+[MG]  accel tcg  qemu:"
tx send-keys -t t j h
wait_for "tui: h on a VM not created is refused" t "a is not created yet \(u creates it\)"
tx send-keys -t t k u
wait_for "tui: u makes the lab" t "\[job\] up tui" 20
wait_for "tui: ... its VM running with its IP" t "^ +. a +running +$ip_re" 180
wait_for "tui: ... the up job ends" t "up tui: done" 180
wait_for "tui: the header counts the running VM" t "^ vmlab  running 1  free .* accel tcg"
scr t | grep -qE '^. tui .*1/1 up.*\(here\)' && ok "tui: lab row summary (1/1 up, here)" ||
	bad "tui: lab row summary: $(scr t | sed -n 3p)"
tx send-keys -t t j

# navigation: the footer follows the selection (lab row: no ssh; VM row: ssh)
tx send-keys -t t k
wait_for "tui: k selects the lab row (footer without ssh)" t "^u up  h halt"
tx send-keys -t t j
wait_for "tui: j selects the VM (footer offers ssh)" t "^Enter ssh  c console"
tx send-keys -t t '?'
wait_for "tui: ? shows the help" t "vmlab tui: help"
wait_for "tui: the help lists Ctrl-L" t "Ctrl-L +redraw"
tx send-keys -t t q
wait_for "tui: q leaves the help" t "^ +. a +running"

# filter: no match, then state:running, Esc clears
tx send-keys -t t / z z z Enter
wait_for "tui: a filter without match says so" t "nothing matches the filter"
tx send-keys -t t / C-u 'state:running' Enter
wait_for "tui: state:running shows the VM" t "^ +. a +running"
wait_for "tui: the filter shows in the status line" t "filter: state:running"
tx send-keys -t t / C-u 'state:bogus'
wait_for "tui: a bad filter is one line" t "filter: unknown state 'bogus'"
tx send-keys -t t Escape
wait_for "tui: Esc clears the filter" t "^Enter ssh"

# marks
tx send-keys -t t k Space
wait_for "tui: Space on the lab marks its VM" t "^ \+. a +running"
tx send-keys -t t Escape
wait_for "tui: Esc clears the marks" t "^  . a +running"
tx send-keys -t t j
wait_for "tui: j selects the VM again" t "^Enter ssh"

# from outside: virsh destroy and start, no key pressed
t0=$(now)
vl_virsh destroy "vmlab-$id-a" >/dev/null
wait_for "tui: a VM stopped with virsh shows shut off without a key" t "^ +. a +shut off" 10 &&
	echo "      (virsh destroy to screen: $(elapsed "$t0") s, destroy included)"
t0=$(now)
vl_virsh start "vmlab-$id-a" >/dev/null
wait_for "tui: started with virsh shows running without a key" t "^ +. a +running" 10 &&
	echo "      (virsh start to screen: $(elapsed "$t0") s)"

# colour on, and off with NO_COLOR
sgr_colour='\x1b\[([0-9;]*;)?(3[0-7]|9[0-7]|38)[;m]'
tx capture-pane -e -p -t t | grep -qP "$sgr_colour" && ok "tui: colours by default" ||
	bad "tui: no colour escape in capture-pane -e"
tui_start nc NO_COLOR=1
wait_for "tui NO_COLOR: started" nc "^ +. a +running"
if tx capture-pane -e -p -t nc | grep -qP "$sgr_colour"; then
	bad "tui NO_COLOR: colour escapes in capture-pane -e"
else
	ok "tui NO_COLOR: no colour escape in capture-pane -e"
fi
tx send-keys -t nc q

# resize to 80x24
tx resize-window -t t -x 80 -y 24
wait_for "tui: 80x24 keeps the VM row" t "^ +. a +running +$ip_re"
lines=$(scr t | wc -l); wide=$(scr t | perl -CS -ne 'chomp; $w = length if length > $w; END { print $w + 0 }')
check_eq "tui: 80x24: 24 lines" 24 "$lines"
[ "$wide" -le 80 ] && ok "tui: 80x24: no line wider than 80 ($wide)" || bad "tui: line of $wide columns"
wait_for "tui: 80x24: the footer is on line 23" t "^Enter ssh"
tx resize-window -t t -x 100 -y 30

# SSH round trip: Enter, a command, exit, the list is back with the VM selected
tx send-keys -t t Enter
wait_for "tui: Enter opens a shell with a banner" t "shell on a \(lab tui\); exit the shell"
wait_for "tui: the shell prompts" t '[$#] *$' 20
tx send-keys -t t 'echo TUI-$((6*7))' Enter
wait_for "tui: a command ran in the VM" t "^TUI-42"
tx send-keys -t t 'exit' Enter
wait_for "tui: after exit the list is back" t "back from tui/a"
wait_for "tui: ... with the VM still selected" t "^Enter ssh"

# console: c, the banner names the way back, Ctrl-] returns
tx send-keys -t t c
wait_for "tui: c opens the console with a banner" t "console of a \(lab tui\); Ctrl-\] returns"
tx send-keys -t t Enter
tx send-keys -t t 'C-]'
wait_for "tui: Ctrl-] returns from the console" t "back from the console of a"

# l: the VM's logs from the engine, then this session's jobs on it
tx send-keys -t t l
wait_for "tui: l shows the VM's console log" t "^== console" 30
wait_for "tui: ... and this session's up" t "^== up tui \(done\)"
tx send-keys -t t G
wait_for "tui: G shows the last page" t "^a: ready: ssh"
tx send-keys -t t q
wait_for "tui: q leaves the log" t "^Enter ssh"

# h, then u with the responsiveness probe: a key during the up gets a frame within 100 ms
tx send-keys -t t h
wait_for "tui: h halts the VM" t "^ +. a +shut off" 60
# the VM is off before the job has returned; one operation per lab at a time
wait_for "tui: the halt job ends" t "halt tui: done" 60
tx send-keys -t t u
wait_for "tui: the jobs strip shows the up" t "\[job\] up tui"
t0=$(date +%s%N)
tx send-keys -t t '?'
while ! scr t | grep -q "vmlab tui: help"; do
	[ $(($(date +%s%N) - t0)) -gt 3000000000 ] && break
done
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 100 ] && ok "tui: a key during up: new frame in $ms ms (< 100)" ||
	bad "tui: a key during up took $ms ms"
tx send-keys -t t q
wait_for "tui: u brings the halted VM up with its IP" t "^ +. a +running +$ip_re" 120
wait_for "tui: the up job ends" t "up tui: done" 120

# the daemon goes away and comes back: banner, actions greyed out and refused, resync
lpid=$(cat "$VL_E2E_STATE/libvirtd.pid")
kill -TERM "$lpid"
wait_for "tui: a lost connection shows the banner" t "libvirt connection lost \(.*\): reconnecting" 30
tx send-keys -t t h
wait_for "tui: ... an action is refused" t "^libvirt connection lost: actions are off until it is back"
foot=$(tx capture-pane -e -p -t t | sed -n 29p)
printf '%s' "$foot" | grep -qP '\x1b\[([0-9;]*;)?2(;[0-9;]*)?m[^\x1b]*h halt' &&
	ok "tui: ... the footer greys the actions out (dim)" || bad "tui: footer not dim: $foot"
wait_for "tui: ... the VM is still shown" t "^ +. a +running"
for _ in $(seq 1 100); do kill -0 "$lpid" 2>/dev/null || break; sleep 0.1; done
nsenter -t "$(cat "$VL_E2E_STATE/virtlogd.pid")" -m -n \
	libvirtd -d -f "$VL_E2E_STATE/libvirtd.conf" -p "$VL_E2E_STATE/libvirtd.pid"
wait_for "tui: the banner goes once reconnected" t "^    NAME +STATE" 60
wait_for "tui: ... resynced, the VM running with its IP" t "^ +. a +running +$ip_re" 30
foot=$(tx capture-pane -e -p -t t | sed -n 29p)
printf '%s' "$foot" | grep -qP '\x1b\[([0-9;]*;)?2(;[0-9;]*)?m' &&
	bad "tui: ... the footer is still dim: $foot" || ok "tui: ... the footer offers the actions again"

# snapshot, rollback (on the shared connection opened again)
tx send-keys -t t k s
wait_for "tui: s asks a name" t "snapshot name: _"
tx send-keys -t t 'bad name' Enter
wait_for "tui: a bad snapshot name is one line" t "snapshot name 'bad name': use letters"
# a guest booted moments ago still writes (journal commits, logs): CHG would rightly say
# "yes" at once, so the snapshot waits until its disk is quiet (write requests the same
# for 2 s, polled every 0.5 s, at most 60 s)
quiet_disk() {
	local last=-1 same=0 n
	(cd "$p" && vmlab ssh a -- sync) >/dev/null 2>&1
	for _ in $(seq 1 120); do
		n=$(vl_virsh domblkstat "vmlab-$id-a" vda 2>/dev/null | awk '$2 == "wr_req" { print $3 }')
		if [ -n "$n" ] && [ "$n" = "$last" ]; then same=$((same + 1)); else same=0; last=$n; fi
		[ "$same" -ge 4 ] && return 0
		sleep 0.5
	done
	return 1
}
quiet_disk && ok "tui: the guest's disk is quiet before the snapshot" ||
	bad "tui: the guest's disk never went quiet"
tx send-keys -t t C-u 'snap1' Enter
wait_for "tui: s saves the snapshot" t "snapshot tui: done" 60
wait_for "tui: the lab row counts it" t "snaps 1" 20
# CHG: unchanged since the snapshot, a write in the guest turns it on (stats,
# no key), the rollback turns it off again
chg_re="^ +. a +running +$ip_re .* %s( ◂)? *\$"
wait_for "tui: after the snapshot the VM is unchanged (CHG no)" t "$(printf "$chg_re" no)" 10
(cd "$p" && vmlab ssh a -- sh -c 'dd if=/dev/zero of=$HOME/chg bs=64k count=16 conv=fsync 2>/dev/null; sync')
wait_for "tui: a write in the guest shows CHG yes without a key" t "$(printf "$chg_re" yes)" 10
check_eq "tui: ... status --json says changed too" yes \
	"$(cd "$p" && vmlab status --json | jq -r '.vms[0].changed')"
tx send-keys -t t r
wait_for "tui: r lists the snapshots" t "> snap1 " 20
tx send-keys -t t Enter
wait_for "tui: Enter rolls back" t "rollback tui: done" 60
wait_for "tui: after the rollback CHG is no again" t "$(printf "$chg_re" no)" 10
check_eq "tui: ... status --json says unchanged" no \
	"$(cd "$p" && vmlab status --json | jq -r '.vms[0].changed')"
check_eq "tui: ... and the guest's file is gone" "gone" \
	"$(cd "$p" && vmlab ssh a -- sh -c 'test -e $HOME/chg && echo there || echo gone')"

# destroy: cancelled (Cancel focused), then confirmed
tx send-keys -t t D
wait_for "tui: D names the VM" t "VM a +\(domain vmlab-$id-a\)" 20
wait_for "tui: ... its disk" t "disk vmlab-$id-a.qcow2"
wait_for "tui: ... its snapshots" t "snapshots: snap1"
wait_for "tui: ... Cancel focused" t "\[ Cancel \] +Destroy"
tx send-keys -t t Enter
wait_for "tui: Enter on Cancel cancels" t "destroy: cancelled"
wait_for "tui: ... the VM is still there" t "^ +. a +running"
tx send-keys -t t D
wait_for "tui: D again" t "\[ Cancel \]" 20
tx send-keys -t t Tab
wait_for "tui: Tab focuses Destroy" t "Cancel +\[ Destroy \]"
tx send-keys -t t Enter
wait_for "tui: destroy confirmed: the lab stays, not created" t "^. tui +0/1 up  not created" 60
wait_for "tui: ... its VM not created" t "^ +. a +not created"
check_eq "tui: destroy left nothing" "" "$(leftovers "$id")"

tx send-keys -t t q
i=0
while tx has-session -t t 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
tx has-session -t t 2>/dev/null && bad "tui: q did not quit" || ok "tui: q quits"
tx kill-server 2>/dev/null
