#!/usr/bin/env bash
# cp.sh [VMLAB] - vmlab cp's transfers vs scp and rsync, against an OpenSSH sshd this script
# starts on 127.0.0.1 (as the unit tests do). A TCG guest would measure its emulated CPU
# (dropbear under TCG moves about 10 MB/s), not the copy; tests/e2e/t_55_inside_copy.sh
# times 48 MiB up and down against the guest. vmlab's side is bench/cp_tool (make bench-tools),
# which calls the same adapter functions `vmlab cp` does: a tar stream for uploads and trees
# (vl_ssh_put_tar), pipelined SFTP reads for a file (vl_ssh_get_sftp).
#   - one 256 MiB file up and down vs scp (SFTP protocol, OpenSSH 9.2's default)
#   - a tree of 2,000 small files up and down vs scp -r and rsync -a
# Figures are the median of BENCH_RUNS (default 3) runs; prints, never fails on a ratio.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
tool=$root/build/rel/bench/cp_tool
runs=${BENCH_RUNS:-3}
[ -x "$tool" ] || { echo "bench/cp.sh: build bench/cp_tool first (make bench-tools)" >&2; exit 1; }
for c in /usr/sbin/sshd scp rsync ssh-keygen; do
	command -v "$c" >/dev/null || { echo "bench/cp.sh: $c is not installed (bench/packages.txt)" >&2; exit 1; }
done

d=$(mktemp -d /var/tmp/vmlab-bench-cp.XXXXXX)
sshd_pid=
cleanup() {
	[ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null && wait "$sshd_pid" 2>/dev/null
	rm -rf "$d"
}
trap cleanup EXIT
ssh-keygen -q -t ed25519 -N '' -f "$d/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$d/id"
cp "$d/id.pub" "$d/authorized_keys"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$d/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $d/hostkey
AuthorizedKeysFile $d/authorized_keys
PidFile none
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
Subsystem sftp internal-sftp
CONF
mkdir -p /run/sshd
/usr/sbin/sshd -D -e -f "$d/sshd_config" 2>"$d/sshd.log" &
sshd_pid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$d/hostkey.pub")" >"$d/known_hosts"
sshopts=(-o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$d/known_hosts"
	-o IdentitiesOnly=yes -i "$d/id")
who=$(id -un)
vl() { "$tool" 127.0.0.1 "$port" "$who" "$d/id" "$d/hostkey.pub" "$@"; }

mkdir -p "$d/src" "$d/remote" "$d/down"
head -c $((256 << 20)) /dev/urandom >"$d/src/big.bin"
mkdir -p "$d/src/tree"
for i in $(seq 0 1999); do
	sub=$d/src/tree/d$((i % 40))
	[ -d "$sub" ] || mkdir "$sub"
	head -c $((100 + i * 37 % 4000)) /dev/urandom >"$sub/f$i.txt"
done

# median of the wall times of CMD over $runs runs; PREP runs before each (not timed)
timed() { # PREP CMD...
	local prep=$1 t0 t1 i times=()
	shift
	for i in $(seq "$runs"); do
		eval "$prep"
		t0=$(date +%s.%N)
		"$@" >/dev/null 2>"$d/last.err" || { echo "bench/cp.sh: failed: $* ($(head -1 "$d/last.err"))" >&2; exit 1; }
		t1=$(date +%s.%N)
		times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
	done
	printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
mbps() { awk -v s="$1" 'BEGIN { printf "%.0f MiB/s", 256 / s }'; }
row() { # what vmlab-seconds other-name other-seconds [throughput]
	awk -v w="$1" -v a="$2" -v n="$3" -v b="$4" -v m="${5:-}" 'BEGIN {
		printf "%-34s vmlab %7.2f s   %-9s %7.2f s   vmlab/%s speed %.2fx", w, a, n, b, n, b / a
		if (m != "") printf "   (256 MiB: vmlab %.0f MiB/s, %s %.0f MiB/s)", 256 / a, n, 256 / b
		printf "\n" }'
}

echo "bench/cp.sh: against OpenSSH $(ssh -V 2>&1 | cut -d, -f1) on 127.0.0.1, median of $runs runs"
clean_remote='rm -rf "$d/remote" && mkdir "$d/remote"'
clean_down='rm -rf "$d/down" && mkdir "$d/down"'
a=$(timed "$clean_remote" vl put "$d/src/big.bin" "$d/remote" big.bin)
b=$(timed "$clean_remote" scp -q -P "$port" "${sshopts[@]}" "$d/src/big.bin" "$who@127.0.0.1:$d/remote/big.bin")
row "256 MiB file up (tar stream)" "$a" scp "$b" mb
cmp "$d/src/big.bin" "$d/remote/big.bin"
a=$(timed "$clean_down" vl get "$d/remote/big.bin" "$d/down" big.bin)
b=$(timed "$clean_down" scp -q -P "$port" "${sshopts[@]}" "$who@127.0.0.1:$d/remote/big.bin" "$d/down/big.bin")
row "256 MiB file down (pipelined SFTP)" "$a" scp "$b" mb
cmp "$d/src/big.bin" "$d/down/big.bin"

rsh="ssh -p $port ${sshopts[*]}"
a=$(timed "$clean_remote" vl put "$d/src/tree" "$d/remote" tree)
b=$(timed "$clean_remote" scp -q -r -P "$port" "${sshopts[@]}" "$d/src/tree" "$who@127.0.0.1:$d/remote/tree")
c=$(timed "$clean_remote" rsync -a -e "$rsh" "$d/src/tree" "$who@127.0.0.1:$d/remote/")
row "2,000 files up (tar stream)" "$a" "scp -r" "$b"
row "2,000 files up (tar stream)" "$a" "rsync -a" "$c"
diff -r "$d/src/tree" "$d/remote/tree"
a=$(timed "$clean_down" vl gettar "$d/remote/tree" "$d/down" tree)
b=$(timed "$clean_down" scp -q -r -P "$port" "${sshopts[@]}" "$who@127.0.0.1:$d/remote/tree" "$d/down/tree")
c=$(timed "$clean_down" rsync -a -e "$rsh" "$who@127.0.0.1:$d/remote/tree" "$d/down/")
row "2,000 files down (tar stream)" "$a" "scp -r" "$b"
row "2,000 files down (tar stream)" "$a" "rsync -a" "$c"
diff -r "$d/src/tree" "$d/down/tree"
