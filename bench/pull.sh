#!/usr/bin/env bash
# Benchmark: `vmlab image pull` of a 1 GiB image from lighttpd on 127.0.0.1
# (verifying SHA-256 while it downloads) against `curl -o` alone and against
# `curl -o` followed by `sha256sum`. Prints per-tool medians and the ratios.
# The 1 GiB of random data is kept in /var/tmp/vmlab-bench between runs.
# usage: bench/pull.sh [VMLAB] [RUNS]
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VMLAB=$(realpath "${1:-$ROOT/build/rel/vmlab}")
RUNS=${2:-3}
DATA=/var/tmp/vmlab-bench
IMG=$DATA/img-1g.raw
mkdir -p "$DATA"
if [ ! -s "$IMG" ] || [ "$(stat -c %s "$IMG")" -ne $((1024 * 1024 * 1024)) ]; then
	echo "creating $IMG (1 GiB random)"
	head -c $((1024 * 1024 * 1024)) /dev/urandom > "$IMG.tmp" && mv "$IMG.tmp" "$IMG"
	rm -f "$IMG.sha256"
fi
[ -s "$IMG.sha256" ] || sha256sum "$IMG" | cut -d' ' -f1 > "$IMG.sha256"
SUM=$(cat "$IMG.sha256")

W=$(mktemp -d /var/tmp/vmlab-bench-run.XXXXXX)
LPID=
cleanup() { [ -n "$LPID" ] && kill "$LPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$W/lighttpd.conf" <<CONF
server.document-root = "$DATA"
server.bind = "127.0.0.1"
server.port = $PORT
server.errorlog = "$W/lighttpd.err"
mimetype.assign = ( "" => "application/octet-stream" )
CONF
lighttpd -D -f "$W/lighttpd.conf" &
LPID=$!
URL=http://127.0.0.1:$PORT/${IMG##*/}
for _ in $(seq 50); do curl -sf -o /dev/null -r 0-0 "$URL" && break; sleep 0.1; done
printf '[images]\ncache = %s/cache\n' "$W" > "$W/vmlab.conf"
export HOME=$W XDG_CONFIG_HOME=$W/.config

t() {
	local s e
	sync   # start each run without the previous run's writeback in flight
	s=$(date +%s.%N)
	"$@" || { echo "bench: failed: $*" >&2; exit 1; }
	e=$(date +%s.%N)
	echo "$e - $s" | bc
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run_vmlab() { rm -rf "$W/cache"; "$VMLAB" --config "$W/vmlab.conf" -q image pull "$URL" --sha256 "$SUM" >/dev/null; }
run_curl() { rm -f "$W/curl.out"; curl -s -o "$W/curl.out" "$URL"; }
run_curl_sha() { run_curl && [ "$(sha256sum "$W/curl.out" | cut -d' ' -f1)" = "$SUM" ]; }

run_curl   # warm the page cache of the source
V=() C=() CS=()
for i in $(seq "$RUNS"); do
	V+=("$(t run_vmlab)")
	C+=("$(t run_curl)")
	CS+=("$(t run_curl_sha)")
	echo "run $i: vmlab ${V[-1]}s  curl ${C[-1]}s  curl+sha256sum ${CS[-1]}s"
done
mv=$(median "${V[@]}")
mc=$(median "${C[@]}")
mcs=$(median "${CS[@]}")
echo "median of $RUNS, 1 GiB from lighttpd on 127.0.0.1:"
printf '  vmlab image pull (verifying):    %.3f s\n' "$mv"
printf '  curl -o:                         %.3f s\n' "$mc"
printf '  curl -o && sha256sum:            %.3f s\n' "$mcs"
printf '  ratio vmlab / curl:              %.3f (target <= 1.05)\n' "$(echo "$mv / $mc" | bc -l)"
printf '  ratio vmlab / (curl+sha256sum):  %.3f (target < 1)\n' "$(echo "$mv / $mcs" | bc -l)"
