#!/usr/bin/env bash
# Layering rules of docs/design.md ("Layers"), checked by grep:
#  - ncurses only under ui/; src/ never includes curses
#  - libvirt only in src/virt*.c, libssh only in src/ssh*.c, libcurl only in src/image_fetch.c,
#    libarchive only in src/ssh_copy.c (the tar streams of vmlab cp)
#  - no system()/popen() anywhere in src/ or ui/ (profile values never reach a shell)
# and an include matrix over the "#include" lines (path as written):
#  - a private header src/M_priv.h is included only by src/M*.c (virt_priv.h by
#    src/virt*.c, lab_priv.h by src/lab_*.c); so src/cmd/ reaches neither, and with
#    the rule above it includes no libvirt, libssh or libcurl header either
#  - ui/ includes only the engine's headers (lab.h, class.h, ctx.h, event.h, config.h,
#    profile.h, plan.h, host.h: the TUI's workers hold references on the shared host),
#    util/*.h, its own headers and system headers
#  - pure modules (plan, layout, render, cloudinit, ready, profile, config, catalog,
#    watch_sched, snapmark: .c and .h) include no adapter header (virt*.h, ssh*.h, image*.h)
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
only_in 'libssh/' libssh 'src/ssh*.c' src/ssh_priv.h
only_in 'curl/' libcurl src/image_fetch.c
only_in 'archive(_entry)?\.h' libarchive src/ssh_copy.c
while IFS= read -r hit; do complain "shell-out: $hit"; done \
	< <(grep -rnE '(^|[^a-z_.>])(system|popen)[[:space:]]*\(' src ui 2>/dev/null || true)

# "FILE:LINE:HEADER" for every quoted #include in the given files or directories.
quoted_includes() {
	grep -rnE --include='*.[ch]' --include='*.def' \
		'^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]+"' "$@" 2>/dev/null |
		sed -E 's/^([^:]+:[0-9]+):.*include[[:space:]]*"([^"]+)".*/\1:\2/'
}
while IFS=: read -r file line hdr; do
	mod=${hdr##*/}
	mod=${mod%_priv.h}
	# shellcheck disable=SC2053 # a glob on purpose
	[[ $file == src/$mod*.c ]] ||
		complain "$file:$line includes $hdr, private to src/$mod*.c"
done < <(quoted_includes src ui tests/fuzz | grep -E ':[^:]*_priv\.h$')
while IFS=: read -r file line hdr; do
	case "$hdr" in
	lab.h | class.h | ctx.h | event.h | config.h | profile.h | plan.h | host.h | util/*.h) ;;
	*) [ -f "ui/$hdr" ] || [ -f "${file%/*}/$hdr" ] ||
		complain "$file:$line includes $hdr: ui/ includes only the engine's headers, util/ and ui/ headers" ;;
	esac
done < <(quoted_includes ui)
pure=()
for m in plan layout render cloudinit ready profile config catalog watch_sched snapmark; do
	for f in "src/$m.c" "src/$m.h"; do [ -f "$f" ] && pure+=("$f"); done
done
while IFS=: read -r file line hdr; do
	case "${hdr##*/}" in
	virt*.h | ssh*.h | image*.h)
		complain "$file:$line includes $hdr: pure code includes no adapter header" ;;
	esac
done < <(quoted_includes "${pure[@]}")
[ "$bad" -eq 0 ] && echo "check-layering: ok"
exit "$bad"
