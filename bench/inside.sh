#!/usr/bin/env bash
# Benchmark: working inside labs against OpenSSH, in one run (issue 10's figures). Runs the
# benchmarks that measure it and prints their figures one after the other:
#   bench/cp.sh       cp of a 256 MiB file up and down vs scp; a 2,000-file tree vs scp -r and
#                     rsync (against a local OpenSSH: TCG would measure the emulated CPU)
#   bench/forward.sh  forward throughput and connection setup vs ssh -L; ssh VM -- true cold
#                     and warm (held session) vs OpenSSH cold and with ControlMaster
#   bench/exec.sh     exec --all -- true on 8 VMs vs one ssh VM -- true, warm and direct
#   bench/held.sh     cp of a small file up and down, exec VM -- true: warm vs direct
# Targets: cp and forward at least 0.8x, exec at most 1.5x, ssh cold at most 1.1x, warm at
# most 0.1 s. Figures only, never pass/fail.
#
# usage: bench/inside.sh [VMLAB]
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rc=0
for b in cp.sh forward.sh exec.sh held.sh; do
	echo "== bench/$b"
	bash "$here/$b" "$@" || rc=1
done
exit "$rc"
