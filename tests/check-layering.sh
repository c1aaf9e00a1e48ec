#!/usr/bin/env bash
# Layering rules of docs/design.md ("Layers"), checked by grep:
#  - ncurses only under ui/; src/ never includes curses
#  - libvirt only in src/virt.c, libssh only in src/ssh.c, libcurl only in src/image.c
#  - no system()/popen() anywhere in src/ or ui/ (profile values never reach a shell)
set -u
cd "$(dirname "$0")/.." || exit 1
bad=0
complain() { echo "check-layering: $*"; bad=1; }

while IFS= read -r hit; do complain "curses outside ui/: $hit"; done \
	< <(grep -rnE '#[[:space:]]*include[[:space:]]*[<"](n?cursesw?/)?n?curses(w)?\.h' src || true)
only_in() { # pattern allowed-file
	while IFS= read -r hit; do
		case "$hit" in "$2":*) ;; *) complain "$3 outside $2: $hit" ;; esac
	done < <(grep -rnE "#[[:space:]]*include[[:space:]]*[<\"]$1" src ui tests/fuzz 2>/dev/null || true)
}
only_in 'libvirt/' src/virt.c libvirt
only_in 'libssh/' src/ssh.c libssh
only_in 'curl/' src/image.c libcurl
while IFS= read -r hit; do complain "shell-out: $hit"; done \
	< <(grep -rnE '(^|[^a-z_.>])(system|popen)[[:space:]]*\(' src ui || true)
[ "$bad" -eq 0 ] && echo "check-layering: ok"
exit "$bad"
