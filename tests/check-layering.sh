#!/usr/bin/env bash
# Layering rules of docs/design.md ("Layers"), checked by grep:
#  - ncurses only under ui/; src/ never includes curses
#  - libvirt only in src/virt*.c, libssh only in src/ssh.c, libcurl only in src/image.c
#  - no system()/popen() anywhere in src/ or ui/ (profile values never reach a shell)
set -u
cd "$(dirname "$0")/.." || exit 1
bad=0
complain() { echo "check-layering: $*"; bad=1; }

while IFS= read -r hit; do complain "curses outside ui/: $hit"; done \
	< <(grep -rnE '#[[:space:]]*include[[:space:]]*[<"](n?cursesw?/)?n?curses(w)?\.h' src || true)
allowed() { # file glob... : is file matched by one of the globs?
	local f=$1 g
	shift
	for g in "$@"; do
		# shellcheck disable=SC2053 # $g is a glob on purpose
		[[ $f == $g ]] && return 0
	done
	return 1
}
only_in() { # pattern library allowed-glob...
	local pat=$1 lib=$2 hit
	shift 2
	while IFS= read -r hit; do
		allowed "${hit%%:*}" "$@" || complain "$lib outside $*: $hit"
	done < <(grep -rnE "#[[:space:]]*include[[:space:]]*[<\"]$pat" src ui tests/fuzz 2>/dev/null || true)
}
only_in 'libvirt/' libvirt 'src/virt*.c' src/virt_priv.h
only_in 'libssh/' libssh src/ssh.c
only_in 'curl/' libcurl src/image.c
while IFS= read -r hit; do complain "shell-out: $hit"; done \
	< <(grep -rnE '(^|[^a-z_.>])(system|popen)[[:space:]]*\(' src ui || true)
[ "$bad" -eq 0 ] && echo "check-layering: ok"
exit "$bad"
