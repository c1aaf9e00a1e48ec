#!/usr/bin/env bash
# Download tests for `vmlab image`: the real binary against lighttpd on
# 127.0.0.1 (Range support, throttled paths) and tests/image/faulty_server.py
# (drops, stalls, lies, ignores Range, errors, redirects, HTTPS with a
# self-signed certificate), hostile images (xz bomb, qcow2 backing files) and
# a full cache (a small loop-mounted filesystem, when run as root). Every
# server is started here and stopped by PID at exit; the mount is undone at
# exit. usage: tests/image/run.sh VMLAB
set -u
VMLAB=$(realpath "${1:?usage: run.sh VMLAB}")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
T=$(mktemp -d /tmp/vmlab-image-test.XXXXXX)
PIDS=()
MNT=
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$MNT" ] && umount "$MNT" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; [ -s "$T/err" ] && sed 's/^/     | /' "$T/err" | tail -5; }

for tool in lighttpd python3 xz sha256sum qemu-img openssl; do
	command -v "$tool" >/dev/null || { echo "image tests: $tool not found (make deps)"; echo "0 passed, 1 failed"; exit 1; }
done

# --- test data --------------------------------------------------------------
D=$T/data; mkdir -p "$D" "$T/home"
head -c $((24 * 1024 * 1024)) /dev/urandom > "$D/disk.raw"
# a qcow2 by its header (magic, version 3, virtual size 10 GiB at bytes 24..31)
# (the rest of the 104-byte version 3 header zero: no backing file, no encryption)
{ printf 'QFI\xfb\x00\x00\x00\x03'; head -c 16 /dev/zero; printf '\x00\x00\x00\x02\x80\x00\x00\x00'
  head -c 80 /dev/zero; head -c $((8 * 1024 * 1024)) /dev/urandom; } > "$D/disk.qcow2"
{ head -c $((4 * 1024 * 1024)) /dev/urandom; head -c $((12 * 1024 * 1024)) /dev/zero; } > "$D/small.raw"
xz -0 -k -c "$D/small.raw" > "$D/small.raw.xz"
for f in slow par other; do cp "$D/disk.raw" "$D/$f.raw"; done
# hostile images: a backing file at a host path, a relative one, and an xz
# that expands 256 MiB of zeros from a few KiB
qemu-img create -q -f qcow2 -u -b /etc/shadow -F raw "$D/shadow.qcow2" 1G
qemu-img create -q -f qcow2 -u -b base.qcow2 -F qcow2 "$D/relback.qcow2" 1G
head -c $((256 * 1024 * 1024)) /dev/zero | xz -0 -T1 > "$D/bomb.raw.xz"
S_SHADOW=$(sha256sum "$D/shadow.qcow2" | cut -d' ' -f1)
S_REL=$(sha256sum "$D/relback.qcow2" | cut -d' ' -f1)
S_BOMB=$(sha256sum "$D/bomb.raw.xz" | cut -d' ' -f1)
# a self-signed certificate for 127.0.0.1
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$T/tls.key" -out "$T/tls.crt" 2>/dev/null
(cd "$D" && sha256sum disk.raw disk.qcow2 small.raw.xz > SHA256SUMS)
sha() { sha256sum "$1" | cut -d' ' -f1; }
S_RAW=$(sha "$D/disk.raw"); S_Q=$(sha "$D/disk.qcow2"); S_XZ=$(sha "$D/small.raw.xz")
S_SMALL=$(sha "$D/small.raw")
# BSD-format, PGP-clear-signed checksum file like Fedora's CHECKSUM
{ echo "-----BEGIN PGP SIGNED MESSAGE-----"; echo "Hash: SHA256"; echo
  echo "# disk.qcow2: $(stat -c %s "$D/disk.qcow2") bytes"
  echo "SHA256 (disk.qcow2) = $S_Q"; echo "SHA256 (disk.raw) = $S_RAW"
  echo "-----BEGIN PGP SIGNATURE-----"; echo; echo "iQIzBAEBCAAdFiEE"; echo "-----END PGP SIGNATURE-----"
} > "$D/CHECKSUM"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- lighttpd ---------------------------------------------------------------
LPORT=$(free_port)
cat > "$T/lighttpd.conf" <<CONF
server.document-root = "$D"
server.bind = "127.0.0.1"
server.port = $LPORT
server.modules = ( "mod_alias", "mod_accesslog" )
server.errorlog = "$T/lighttpd.err"
accesslog.filename = "$T/access.log"
accesslog.format = "%r %>s %{Range}i"
mimetype.assign = ( "" => "application/octet-stream" )
alias.url = ( "/slow/" => "$D/" )
\$HTTP["url"] =~ "^/slow/" { connection.kbytes-per-second = 6144 }
CONF
lighttpd -D -f "$T/lighttpd.conf" 2>"$T/lighttpd.out" &
PIDS+=($!)
# --- faulty server ----------------------------------------------------------
python3 "$HERE/faulty_server.py" "$D" "$T/fport" "$T/faulty.log" 150 &
PIDS+=($!)
python3 "$HERE/faulty_server.py" "$D" "$T/tport" "$T/tls.log" 150 "$T/tls.crt" "$T/tls.key" &
PIDS+=($!)
for _ in $(seq 50); do
	[ -s "$T/fport" ] && [ -s "$T/tport" ] && curl -s -o /dev/null "http://127.0.0.1:$LPORT/SHA256SUMS" && break
	sleep 0.1
done
FPORT=$(cat "$T/fport" 2>/dev/null) TPORT=$(cat "$T/tport" 2>/dev/null)
[ -n "$FPORT" ] && [ -n "$TPORT" ] || { echo "faulty server did not start"; echo "0 passed, 1 failed"; exit 1; }
L=http://127.0.0.1:$LPORT F=http://127.0.0.1:$FPORT TLS=https://127.0.0.1:$TPORT

# --- vmlab environment ------------------------------------------------------
C=$T/cache
cat > "$T/catalog.ini" <<CAT
[t-raw]
url = $L/disk.raw
checksum_url = $L/SHA256SUMS
format = raw
user = tester

[t-qcow2]
url = $L/disk.qcow2
checksum_url = $L/CHECKSUM
user = tester

[t-xz]
url = $L/small.raw.xz
sha256 = $S_XZ
format = raw

[t-badsum]
url = $L/disk.raw
sha256 = $(printf '0%.0s' $(seq 64))

[t-nosum]
url = $L/disk.raw
insecure = no
checksum_url = $L/nonexistent-SUMS

[t-slow]
url = $L/slow/slow.raw
sha256 = $S_RAW

[t-par]
url = $L/slow/par.raw
sha256 = $S_RAW

[t-flaky]
url = $F/flaky/disk.raw
sha256 = $S_RAW

[t-flaky-norange]
url = $F/flaky-norange/disk.raw
sha256 = $S_RAW
CAT
cat > "$T/vmlab.conf" <<CONF
[images]
cache = $C
catalog = $T/catalog.ini
stall_timeout = 2
max_image_size = 100M
CONF
export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_CACHE_HOME=$T/home/.cache
export VMLAB_IMAGES=$ROOT/images
unset VMLAB_CACHE VMLAB_CONFIG http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
vm() { "$VMLAB" --config "$T/vmlab.conf" "$@"; }

# The cache holds only finished images, their .meta, registered.ini and
# partial/ (lock files; .part + .part.meta only where a resume is intended).
cache_clean() { # [allowed-partial-name]
	local f base
	for f in "$C"/* "$C"/.[!.]*; do
		[ -e "$f" ] || continue
		base=${f##*/}
		case "$base" in
		partial|registered.ini|*.meta) ;;
		*.qcow2|*.raw) ;;
		*) echo "stray file $base"; return 1 ;;
		esac
	done
	for f in "$C"/partial/*; do
		[ -e "$f" ] || continue
		base=${f##*/}
		case "$base" in
		*.lock) ;;
		"$1".part|"$1".part.meta) [ -n "${1:-}" ] || { echo "stray $base"; return 1; } ;;
		*) echo "stray partial/$base"; return 1 ;;
		esac
	done
	for f in "$C"/*.qcow2 "$C"/*.raw; do
		[ -e "$f" ] || continue
		[ -e "${f%.*}.meta" ] || { echo "no meta for ${f##*/}"; return 1; }
	done
	return 0
}
one_line() { [ "$(grep -c '^vmlab: ' "$T/err")" -eq 1 ]; }
# expect_fail NAME EXIT PATTERN -- pull args...
expect_fail() {
	local name=$1 want=$2 pat=$3; shift 4
	vm -q image pull "$@" >"$T/out" 2>"$T/err"; local rc=$?
	if [ "$rc" -ne "$want" ]; then bad "$name: exit $rc, want $want"; return; fi
	if ! one_line; then bad "$name: not one error line"; return; fi
	if ! grep -q -- "$pat" "$T/err"; then bad "$name: message lacks '$pat'"; return; fi
	ok "$name"
}

# --- lighttpd: pull, checksum files, formats ---------------------------------
if vm image pull t-raw >"$T/out" 2>"$T/err" && cmp -s "$C/t-raw.raw" "$D/disk.raw" && cache_clean; then
	ok "pull raw, verified against a GNU SHA256SUMS"
else bad "pull raw"; fi
if vm image pull t-raw >"$T/out" 2>"$T/err" && ! grep -q pulling "$T/err"; then
	ok "second pull uses the cache"
else bad "second pull downloaded again"; fi
if vm image pull t-qcow2 >"$T/out" 2>"$T/err" && cmp -s "$C/t-qcow2.qcow2" "$D/disk.qcow2"; then
	ok "pull qcow2, verified against a PGP-signed BSD CHECKSUM"
else bad "pull qcow2"; fi
if vm --json image list >"$T/list.json" 2>"$T/err" &&
	python3 - "$T/list.json" <<'PY'
import json, sys
v = {i["name"]: i for i in json.load(open(sys.argv[1]))}
q = v["t-qcow2"]
assert q["cached"] and q["format"] == "qcow2" and q["virtual_size"] == 10 * 2**30, q
assert v["t-raw"]["format"] == "raw" and v["t-raw"]["size"] == 24 * 2**20
assert not v["t-xz"]["cached"] and "debian-12" in v and v["t-raw"]["user"] == "tester"
assert v["t-qcow2"]["pulled"] > 0
PY
then ok "image list --json: formats, qcow2 virtual size, shipped catalog"; else bad "image list --json"; fi
if vm image list >"$T/out" 2>"$T/err" && grep -q '^t-qcow2 .*qcow2.*10.0G' "$T/out"; then
	ok "image list table"; else bad "image list table"; cat "$T/out"; fi
if vm image pull t-xz >"$T/out" 2>"$T/err" && cmp -s "$C/t-xz.raw" "$D/small.raw" && cache_clean; then
	ok "xz image decompressed while downloading"
else bad "xz image"; fi
expect_fail "checksum mismatch names expected and found" 1 "expected sha256 0000.*got $S_RAW" -- t-badsum
grep -q "t-badsum ($L/disk.raw)" "$T/err" && cache_clean && [ ! -e "$C/t-badsum.raw" ] &&
	ok "mismatch: message names image and URL, cache clean" || bad "mismatch: cache or message"
expect_fail "--sha256 mismatch" 1 "expected sha256 $S_SMALL, got $S_RAW" -- "$L/other.raw" --sha256 "$S_SMALL"
expect_fail "URL without checksum is refused" 1 "no checksum source" -- "$L/other.raw"
expect_fail "checksum file missing (404)" 1 "checksum file.*HTTP 404" -- t-nosum
cache_clean && ok "cache clean after refusals" || bad "cache after refusals"
if vm -q image pull "$L/other.raw" --insecure --name mine >"$T/out" 2>"$T/err" && [ -e "$C/mine.raw" ] &&
	grep -q '^\[mine\]' "$C/registered.ini" && vm -q image pull mine >/dev/null 2>&1; then
	ok "--insecure URL with --name registers it"
else bad "--name registration"; fi
if vm -q image pull "$L/other.raw" --sha256 "$S_RAW" >"$T/out" 2>"$T/err" && ls "$C"/other-*.raw >/dev/null 2>&1; then
	ok "URL pull with --sha256 is cached under a derived name"
else bad "URL --sha256"; fi

# --- local files --------------------------------------------------------------
if vm -q image pull "file://$D/disk.qcow2" --name fromfile >"$T/out" 2>"$T/err" &&
	cmp -s "$C/fromfile.qcow2" "$D/disk.qcow2"; then ok "file:// import"; else bad "file:// import"; fi
if (cd "$D" && vm -q image pull ./small.raw.xz --name localxz >"$T/out" 2>"$T/err") &&
	cmp -s "$C/localxz.raw" "$D/small.raw" && cache_clean; then ok "local path import (xz)"; else bad "local path"; fi
expect_fail "missing local file" 1 "nope.qcow2" -- "$D/nope.qcow2"

# --- resume after kill -9 ----------------------------------------------------------
"$VMLAB" --config "$T/vmlab.conf" -q image pull t-slow >/dev/null 2>&1 &
kp=$!
sleep 1.5
kill -9 "$kp" 2>/dev/null; wait "$kp" 2>/dev/null
psize=$(stat -c %s "$C/partial/t-slow.part" 2>/dev/null || echo 0)
if [ "$psize" -gt 0 ] && [ "$psize" -lt $((24 * 1024 * 1024)) ] && [ ! -e "$C/t-slow.raw" ]; then
	ok "killed pull leaves only a .part ($psize bytes)"
else bad "after kill: part=$psize"; fi
sleep 0.5; if vm image pull t-slow >"$T/out" 2>"$T/err" && cmp -s "$C/t-slow.raw" "$D/disk.raw" &&
	grep -q "resuming at $psize bytes" "$T/err" && cache_clean; then
	ok "resume after kill -9 continues and verifies (Range checked at the end)"
else bad "resume after kill"; fi

# --- two processes, one image ---------------------------------------------------------
vm image pull t-par >"$T/out1" 2>"$T/err1" & p1=$!
sleep 0.3
vm image pull t-par >"$T/out2" 2>"$T/err2" & p2=$!
wait "$p1"; r1=$?; wait "$p2"; r2=$?
if [ "$r1" -eq 0 ] && [ "$r2" -eq 0 ] && cmp -s "$C/t-par.raw" "$D/disk.raw" &&
	grep -q "pulled by the other vmlab" "$T/err2"; then
	ok "parallel pulls of one image: both succeed, the second waited"
else bad "parallel pulls: rc $r1/$r2"; cat "$T/err1" "$T/err2"; fi

# several images at once in one process (curl multi)
vm image rm t-raw t-qcow2 >/dev/null 2>&1
if vm -q image pull t-raw t-qcow2 t-xz >"$T/out" 2>"$T/err" && [ -e "$C/t-raw.raw" ] && [ -e "$C/t-qcow2.qcow2" ]; then
	ok "several images in one pull"; else bad "several images"; fi

# --- faulty server ---------------------------------------------------------------
expect_fail "connection dropped half-way" 1 "short read" -- "$F/drop/disk.raw" --sha256 "$S_RAW"
N=$(ls "$C"/partial/*.part 2>/dev/null | head -1); N=${N##*/}; N=${N%.part}
cache_clean "$N" && [ -n "$N" ] && ok "drop: .part kept for resume, nothing else" || bad "drop: cache"
expect_fail "Content-Length lie (short body)" 1 "short read" -- "$F/short/disk.raw" --sha256 "$S_RAW"
start=$(date +%s)
expect_fail "stall fails after stall_timeout" 1 "stalled: no data for 2 seconds" -- "$F/stall/disk.raw" --sha256 "$S_RAW"
[ $(( $(date +%s) - start )) -lt 15 ] && ok "stall detected quickly" || bad "stall took too long"
expect_fail "HTTP 404" 1 "HTTP 404" -- "$F/status/404" --sha256 "$S_RAW"
grep -q "($F/status/404)" "$T/err" && ok "404 line names the URL" || bad "404 URL"
expect_fail "HTTP 500" 1 "HTTP 500" -- "$F/status/500" --sha256 "$S_RAW"
expect_fail "redirect loop" 1 "too many redirects" -- "$F/redirect-loop/x" --sha256 "$S_RAW"
expect_fail "DNS failure" 1 "cannot resolve host" -- "http://nonexistent.invalid/x.img" --sha256 "$S_RAW"
expect_fail "connection refused" 1 "cannot connect" -- "http://127.0.0.1:1/x.img" --sha256 "$S_RAW"
if vm -q image pull "$F/redirect/3/disk.raw" --sha256 "$S_RAW" --name redir >"$T/out" 2>"$T/err" &&
	cmp -s "$C/redir.raw" "$D/disk.raw"; then ok "redirect chain followed"; else bad "redirects"; fi
expect_fail "flaky: first try drops" 1 "short read" -- t-flaky
if vm -q image pull t-flaky >"$T/out" 2>"$T/err" && cmp -s "$C/t-flaky.raw" "$D/disk.raw" &&
	grep -q "GET /flaky/disk.raw bytes=.* 206" "$T/faulty.log"; then
	ok "flaky: resumed with Range and verified"; else bad "flaky resume"; fi
expect_fail "flaky xz: first try drops" 1 "short read" -- "$F/flaky/small.raw.xz" --sha256 "$S_XZ" --name fxz
if vm image pull "$F/flaky/small.raw.xz" --sha256 "$S_XZ" --name fxz >"$T/out" 2>"$T/err" &&
	cmp -s "$C/fxz.raw" "$D/small.raw" && grep -q "resuming at" "$T/err"; then
	ok "xz resume: prefix re-decompressed, rest streamed, verified"; else bad "xz resume"; fi
expect_fail "flaky-norange: first try drops" 1 "short read" -- t-flaky-norange
if vm image pull t-flaky-norange >"$T/out" 2>"$T/err" && cmp -s "$C/t-flaky-norange.raw" "$D/disk.raw" &&
	grep -q "starting over" "$T/err"; then
	ok "server ignoring Range: starts over cleanly and verifies"; else bad "norange"; fi

# --- hostile servers and images: refused or bounded, nothing cached -----------------
# gone NAME: neither the image, its metadata nor a partial download is in the cache
gone() {
	! ls "$C/$1".* "$C/partial/$1".part* "$C/partial/$1".img* >/dev/null 2>&1 &&
		! ls "$C"/*.tmp.* >/dev/null 2>&1
}
expect_fail "self-signed HTTPS is refused" 1 "TLS failure" -- "$TLS/file/disk.raw" --sha256 "$S_RAW" --name tls
gone tls && ok "self-signed: nothing cached" || bad "self-signed: cache"
sed "s|^\[images\]|[images]\nca_file = $T/tls.crt|" "$T/vmlab.conf" > "$T/ca.conf"
if "$VMLAB" --config "$T/ca.conf" -q image pull "$TLS/file/disk.raw" --sha256 "$S_RAW" --name tls \
	>"$T/out" 2>"$T/err" && cmp -s "$C/tls.raw" "$D/disk.raw"; then
	ok "HTTPS with [images] ca_file naming its certificate is accepted"; else bad "ca_file"; fi
printf '[images]\nca_file = %s/nonexistent.pem\n' "$T" > "$T/badca.conf"
"$VMLAB" --config "$T/badca.conf" image list >"$T/out" 2>"$T/err"
[ $? -eq 2 ] && grep -q "badca.conf:2: ca_file $T/nonexistent.pem: No such file" "$T/err" &&
	ok "unreadable ca_file: FILE:LINE, exit 2" || bad "bad ca_file"
for s in file ftp; do
	expect_fail "redirect to $s:// is refused" 1 "redirect to $s:// refused" -- \
		"$F/redirect-to/$s" --sha256 "$S_RAW" --name "r$s"
	gone "r$s" || bad "redirect to $s: cache"
done
expect_fail "Content-Length lie (long body): checksum decides" 1 "checksum mismatch" -- \
	"$F/long/disk.raw" --sha256 "$S_RAW" --name long
gone long && ok "long body: nothing cached" || bad "long body: cache"
expect_fail "endless body bounded by max_image_size" 1 "more than 100.0 MiB (\[images\] max_image_size)" -- \
	"$F/endless/x.raw" --sha256 "$S_RAW" --name endless
gone endless && ok "endless body: nothing cached" || bad "endless: cache"
sed "s|^max_image_size = .*|max_image_size = 10M|" "$T/vmlab.conf" > "$T/small.conf"
"$VMLAB" --config "$T/small.conf" -q image pull "$L/disk.raw" --sha256 "$S_RAW" --name big >"$T/out" 2>"$T/err"
[ $? -eq 1 ] && one_line && grep -q "announces 24.0 MiB, more than 10.0 MiB" "$T/err" && gone big &&
	ok "announced size over max_image_size: refused before a byte" || bad "announced size"
if vm -q image pull "$F/nolength/disk.raw" --sha256 "$S_RAW" --name nolen >"$T/out" 2>"$T/err" &&
	cmp -s "$C/nolen.raw" "$D/disk.raw"; then ok "body without Content-Length"; else bad "nolength"; fi
expect_fail "xz bomb bounded by max_image_size" 1 "decompresses to more than 100.0 MiB" -- \
	"$F/file/bomb.raw.xz" --sha256 "$S_BOMB" --name bomb
gone bomb && ok "xz bomb: nothing cached" || bad "xz bomb: cache"
# a resume the server answers with 206 and the wrong range: start over
"$VMLAB" --config "$T/vmlab.conf" -q image pull "$L/slow/other.raw" --sha256 "$S_RAW" --name badr >/dev/null 2>&1 &
kp=$!; sleep 1.5; kill -9 "$kp" 2>/dev/null; wait "$kp" 2>/dev/null
mv "$C/partial/badr.part.meta" "$T/badr.meta" 2>/dev/null &&
	sed "s|^url=.*|url=$F/badrange/disk.raw|" "$T/badr.meta" > "$C/partial/badr.part.meta"
if vm image pull "$F/badrange/disk.raw" --sha256 "$S_RAW" --name badr >"$T/out" 2>"$T/err" &&
	cmp -s "$C/badr.raw" "$D/disk.raw" && grep -q "starting over" "$T/err" &&
	! ls "$C/partial/badr".part* >/dev/null 2>&1; then
	ok "206 with the wrong Content-Range: starts over, verified"; else bad "badrange"; fi
expect_fail "qcow2 backing file at a host path is refused" 1 "backing file (/etc/shadow)" -- \
	"$L/shadow.qcow2" --sha256 "$S_SHADOW" --name shadow
gone shadow && ok "backing /etc/shadow: nothing cached" || bad "shadow: cache"
expect_fail "any backing file is refused" 1 "backing file (base.qcow2)" -- \
	"file://$D/relback.qcow2" --name relback
gone relback && ok "relative backing file: nothing cached" || bad "relback: cache"

# --- a full cache: a small loop-mounted filesystem (root only) -----------------------
if [ "$(id -u)" -eq 0 ] && command -v mkfs.ext4 >/dev/null; then
	MNT=$T/mnt; mkdir -p "$MNT"
	truncate -s 64M "$T/fs.img" && mkfs.ext4 -q -m 0 "$T/fs.img" && mount -o loop "$T/fs.img" "$MNT" ||
		{ bad "cannot loop-mount a filesystem"; MNT=; }
fi
if [ -n "$MNT" ]; then
	FC=$MNT/cache
	sed "s|^cache = .*|cache = $FC|" "$T/vmlab.conf" > "$T/full.conf"
	mkdir -p "$FC/partial"
	avail=$(df -B1 --output=avail "$MNT" | tail -1)
	fallocate -l $((avail - 10 * 1024 * 1024)) "$MNT/filler"
	fv() { "$VMLAB" --config "$T/full.conf" "$@"; }
	fgone() { ! ls "$FC/$1".* "$FC/partial/$1".part* "$FC/partial/$1".img* "$FC"/*.tmp.* >/dev/null 2>&1; }
	fv -q image pull "$L/disk.raw" --sha256 "$S_RAW" --name full1 >"$T/out" 2>"$T/err"
	[ $? -eq 1 ] && one_line && grep -q "not enough space in $FC: the image needs 24.0 MiB, [0-9.]* MiB free" "$T/err" &&
		fgone full1 && ok "full cache, size announced: refused up front with both figures, nothing cached" ||
		bad "full cache, announced"
	fv -q image pull "$F/nolength/disk.raw" --sha256 "$S_RAW" --name full2 >"$T/out" 2>"$T/err"
	[ $? -eq 1 ] && one_line && grep -q "no space left in $FC after [0-9.]* MiB of the image" "$T/err" &&
		fgone full2 && ok "full cache mid-download (no Content-Length): one line, no partial left" ||
		bad "full cache, mid-download"
	fv -q image pull "$L/small.raw.xz" --sha256 "$S_XZ" --name full3 >"$T/out" 2>"$T/err"
	[ $? -eq 1 ] && one_line && grep -q "no space left in $FC after [0-9.]* MiB of the image" "$T/err" &&
		fgone full3 && ok "full cache while decompressing xz: one line, no partial left" ||
		bad "full cache, xz"
	rm -f "$MNT/filler"
	if fv -q image pull "$L/disk.raw" --sha256 "$S_RAW" --name full1 >"$T/out" 2>"$T/err" &&
		fv -q image pull "$L/small.raw.xz" --sha256 "$S_XZ" --name full3 >>"$T/out" 2>"$T/err" &&
		cmp -s "$FC/full1.raw" "$D/disk.raw" && cmp -s "$FC/full3.raw" "$D/small.raw" &&
		[ -s "$FC/full1.meta" ] && [ -s "$FC/full3.meta" ]; then
		ok "space freed: the same pulls succeed"; else bad "pull after freeing space"; fi
	umount "$MNT" && MNT=
else
	echo "skip full-cache tests (need root and mkfs.ext4)"
fi

# --- rm, prune --------------------------------------------------------------------
if vm image rm mine >/dev/null 2>"$T/err" && [ ! -e "$C/mine.raw" ] && ! grep -q '^\[mine\]' "$C/registered.ini"; then
	ok "rm removes image and registration"; else bad "rm"; fi
vm image rm nothing >/dev/null 2>"$T/err"
[ $? -eq 1 ] && grep -q "nothing is not cached" "$T/err" && ok "rm unknown: exit 1" || bad "rm unknown"
mkdir -p "$T/proj" && printf '[lab]\nname = p\n[defaults]\nimage = t-xz\n[vm a]\n' > "$T/proj/vmlab.ini"
# an image registered from a file that is gone since (image save's templates): the only copy
cp "$D/disk.raw" "$T/gone.raw" && vm -q image pull "$T/gone.raw" --name onlycopy >/dev/null 2>&1 &&
	rm "$T/gone.raw"
# prune asks libvirt which images lab disks use: the in-process test driver has no vmlab pool
if vm --uri test:///default -C "$T/proj" image prune --dry-run >"$T/out" 2>"$T/err" &&
	grep -q "would remove t-raw" "$T/out" && ! grep -q "t-xz" "$T/out" && [ -e "$C/t-raw.raw" ]; then
	ok "prune --dry-run only lists"; else bad "prune list"; cat "$T/out" "$T/err"; fi
vm --uri 'qemu+unix:///system?socket=/nonexistent' -C "$T/proj" image prune >"$T/out" 2>"$T/err"
[ $? -eq 3 ] && [ -e "$C/t-raw.raw" ] && ok "prune with libvirt unreachable: removes nothing, exit 3" ||
	{ bad "prune unreachable"; cat "$T/err"; }
if vm --uri test:///default -C "$T/proj" image prune >"$T/out" 2>"$T/err" && [ ! -e "$C/t-raw.raw" ] &&
	[ -e "$C/t-xz.raw" ] && cache_clean; then
	ok "prune keeps the project's images, drops unused ones and stale partials"; else bad "prune"; fi
[ -e "$C/onlycopy.raw" ] && ! grep -q onlycopy "$T/out" &&
	ok "prune keeps an image whose registered source file is gone" || bad "prune removed the only copy"

# lighttpd writes its access log late: stop it, then read what the server saw
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null
grep -q "GET /slow/slow.raw .* 206 bytes=$psize-" "$T/access.log" &&
	ok "server log: the resume asked for bytes=$psize-" || bad "server log: no Range request for the resume"
[ "$(grep -c 'GET /slow/par.raw' "$T/access.log")" -eq 1 ] &&
	ok "server log: parallel pulls downloaded once" || bad "server log: par.raw downloaded more than once"
[ "$fail" -eq 0 ] || { echo "--- access.log"; cat "$T/access.log"; }
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
