#!/usr/bin/env bash
# bench/tui.sh VMLAB: the TUI's drawing cost and footprint (figures, no pass/fail).
#  - full and incremental frame time with 500 VMs in 50 labs, and the bytes an idle frame
#    sends (bench/tui_frames.c: the real drawing code on a curses screen whose terminal is
#    a file)
#  - the resident memory of `vmlab tui` (split into anonymous and file pages, PSS and
#    private, and the floor of the libraries alone) and the bytes it writes per idle second,
#    in tmux on libvirt's test driver (no daemon needed; its one "test" domain is not a
#    vmlab lab; the driver runs inside the process, which a remote connection does not)
set -u
[ $# -eq 1 ] || { echo "usage: $0 VMLAB" >&2; exit 2; }
vmlab=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
frames=$(dirname "$vmlab")/bench/tui_frames
[ -x "$frames" ] || { echo "tui.sh: build $frames first (make bench-tools)" >&2; exit 1; }
"$frames"

command -v tmux >/dev/null || { echo "tui.sh: tmux not found; RSS not measured"; exit 0; }
tmp=$(mktemp -d)
trap 'tmux -S "$tmp/s" kill-server 2>/dev/null; rm -rf "$tmp"' EXIT
tmux -S "$tmp/s" -f /dev/null new-session -d -x 120 -y 40 \
	"$vmlab --uri test:///default tui"
for _ in $(seq 100); do
	tmux -S "$tmp/s" capture-pane -p | grep -q "vmlab" && break
	sleep 0.05
done
pid=$(tmux -S "$tmp/s" list-panes -F '#{pane_pid}')
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
w0=$(awk '/^wchar/ { print $2 }' "/proc/$pid/io" 2>/dev/null)
sleep 3
w1=$(awk '/^wchar/ { print $2 }' "/proc/$pid/io" 2>/dev/null)
echo "vmlab tui RSS: $((rss / 1024)) MiB ($rss KiB)"
# where it goes: RSS counts every page of the shared libraries the process touched (libvirt,
# gnutls, glib, libcrypto set up by libssh's constructor, libxml2...), which other processes
# share; the private part is vmlab's own. The floor: `vmlab help`, which only loads them.
awk '/^RssAnon|^RssFile/ { printf "  %s %d KiB", $1, $2 } END { print "" }' "/proc/$pid/status"
awk '/^Pss:|^Private_(Clean|Dirty)/ { printf "  %s %d KiB", $1, $2 } END { print "" }' \
	"/proc/$pid/smaps_rollup" 2>/dev/null
floor=$( { /usr/bin/time -f %M "$vmlab" help >/dev/null; } 2>&1 ) &&
	echo "  floor: vmlab help peaks at $floor KiB (the libraries loaded, nothing run)"
[ -n "$w0" ] && echo "vmlab tui bytes written per idle second: $(((w1 - w0) / 3))"
tmux -S "$tmp/s" send-keys q
