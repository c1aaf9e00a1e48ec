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
w0=$(awk '/^wchar/ { print $2 }' "/proc/$pid/io" 2>/dev/null)
sleep 3
w1=$(awk '/^wchar/ { print $2 }' "/proc/$pid/io" 2>/dev/null)
# RSS, PSS and private apart: RSS counts every page of the shared libraries the process
# touched (libvirt, gnutls, glib, libcrypto set up by libssh's constructor, libxml2...),
# which other processes share; PSS divides those among their users; private is vmlab's own
# (heap, thread stacks, the libraries' relocated data). The floor: `vmlab help`, which only
# loads them.
awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 } /^Private_(Clean|Dirty):/ { v += $2 }
     /^Anonymous:/ { a = $2 }
     END { printf "vmlab tui RSS %d KiB (%.1f MiB)  PSS %d KiB (%.1f MiB)  private %d KiB " \
	   "(%.1f MiB, of which anonymous %d KiB)\n", r, r / 1024, p, p / 1024, v, v / 1024, a }' \
	"/proc/$pid/smaps_rollup"
# the biggest mappings by resident pages, each with its PSS and private part
awk '$1 ~ /^[0-9a-f]+-[0-9a-f]+$/ { n = NF >= 6 ? $NF : "[anon]"; sub(".*/", "", n); next }
     /^Rss:/ { r[n] += $2 } /^Pss:/ { p[n] += $2 } /^Private_(Clean|Dirty):/ { v[n] += $2 }
     END { for (k in r) printf "%d %s %d %d\n", r[k], k, p[k], v[k] }' "/proc/$pid/smaps" |
	sort -rn | head -8 | awk '{ printf "  %-28s RSS %5d KiB  PSS %5d  private %5d\n", $2, $1, $3, $4 }'
floor=$( { /usr/bin/time -f %M "$vmlab" help >/dev/null; } 2>&1 ) &&
	echo "  floor: vmlab help peaks at $floor KiB (the libraries loaded, nothing run)"
[ -n "$w0" ] && echo "vmlab tui bytes written per idle second: $(((w1 - w0) / 3))"
tmux -S "$tmp/s" send-keys q
