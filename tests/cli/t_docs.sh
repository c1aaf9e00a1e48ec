#!/usr/bin/env bash
# The documentation and the binary agree: README.md's and vmlab.ini(5)'s example
# profiles validate verbatim; every option, alias and subcommand `vmlab help` lists
# is accepted (not a usage error) and documented in vmlab(1), and every command
# help lists is described there; the shipped catalog's names are vmlab.ini(5)'s.
set -u
fails=0
checks=0
check() { local what=$1; shift; checks=$((checks + 1)); if ! "$@"; then echo "not ok: $what"; fails=$((fails + 1)); fi; }
rc() { "$@" >/dev/null 2>&1; echo $?; }
V() { "$VMLAB" --uri test:///default "$@"; }
# man source as plain text: \- is -, font escapes dropped
plain() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(bu//g' "$1"; }

# --- README.md's example profile, extracted at test time ----------------------
mkdir -p "$T/readme/scripts" && cd "$T/readme" || exit 1
awk '/^A profile/ { want = 1 } want && /^```ini/ { on = 1; next } on && /^```/ { exit } on' \
	"$REPO/README.md" >vmlab.ini
check "README has an ini profile" grep -q '^\[vm db\]' vmlab.ini
printf '#!/bin/sh\n' >scripts/web.sh
mkdir -p conf site && echo x >conf/site.conf
"$VMLAB" validate >out.txt 2>err.txt
check "README profile validates" [ $? = 0 ]
cat err.txt
out=$("$VMLAB" plan --json)
check "README profile plans" [ "$(jq -r '.vms | map(.name + "=" + .ip) | join(",")' <<<"$out")" = \
	"web-1=10.77.3.10,web-2=10.77.3.11,db=10.77.3.20" ]
check "README profile: up --dry-run" [ "$(rc V up --dry-run)" = 0 ]

# --- vmlab.ini(5)'s EXAMPLE ----------------------------------------------------
mkdir -p "$T/man5/scripts" && cd "$T/man5" || exit 1
plain "$REPO/man/vmlab.ini.5" | awk '/^\.EX/ { on = 1; next } /^\.EE/ { exit } on' >vmlab.ini
printf '#!/bin/sh\n' >scripts/web.sh
mkdir -p conf site && echo x >conf/nginx.conf
printf '#cloud-config\n' >web.yaml
"$VMLAB" validate >/dev/null 2>err.txt
check "vmlab.ini(5) example validates" [ $? = 0 ]
cat err.txt

# --- vmlab.ini(5) numbers and names are the binary's -------------------------
man5=$(plain "$REPO/man/vmlab.ini.5" | tr '\n' ' ')
mkdir -p "$T/cap" && cd "$T/cap" || exit 1
lab() { # PREFIX VMS: a profile with VMS machines in 10.77.0.0/PREFIX
	local n=$2
	printf '[lab]\nsubnet = 10.77.0.0/%s\n' "$1"
	for v in a b c; do
		[ "$n" -gt 0 ] || break
		printf '[vm %s]\ncount = %s\n' $v $((n > 64 ? 64 : n)); n=$((n > 64 ? n - 64 : 0))
	done
}
# the capacities vmlab.ini(5) gives (ADDRESSES), checked against validate and plan
for pc in 24:118 25:54 26:22 27:14 28:6 29:5; do
	p=${pc%:*} c=${pc#*:}
	check "vmlab.ini(5): a /$p holds $c" grep -qE "/$p (holds )?$c\b" <<<"$man5"
	lab "$p" "$c" >vmlab.ini
	check "$c VMs fit a /$p (validate)" [ "$(rc "$VMLAB" validate)" = 0 ]
	check "$c VMs fit a /$p (plan)" [ "$(rc "$VMLAB" plan)" = 0 ]
	lab "$p" $((c + 1)) >vmlab.ini
	check "$((c + 1)) VMs do not fit a /$p (validate)" [ "$(rc "$VMLAB" validate)" = 2 ]
done
for name in $(sed -n 's/^\[\(.*\)\]$/\1/p' "$REPO/images/catalog.ini"); do
	check "vmlab.ini(5) names catalog image $name" grep -q -- "$name" <<<"$man5"
done
for name in $(grep -o '[a-z]*-[0-9][0-9.]*[0-9]' <<<"$man5" | sort -u); do
	case $name in debian-*|ubuntu-*|fedora-*|almalinux-*|rocky-*|alpine-*|leap-*)
		check "image $name of vmlab.ini(5) is in the catalog" \
			grep -q "^\[\(opensuse-\)\?$name\]" "$REPO/images/catalog.ini";;
	esac
done
check "vmlab.ini(5): user catalog follows XDG_CONFIG_HOME" grep -q 'XDG_CONFIG_HOME' <<<"$man5"

# --- every option of every command is accepted and documented -----------------
mkdir -p "$T/opts" && cd "$T/opts" || exit 1
printf '[lab]\nname = opts\n[vm web]\ncount = 2\n[class]\nseats = 1\n' >vmlab.ini
man1=$(plain "$REPO/man/vmlab.1")
cmds=$("$VMLAB" help | awk '/^commands:/ { on = 1; next } /^$/ { on = 0 } on && !/not available yet/ { print $1 }')
check "help lists commands" [ -n "$cmds" ]
# A safe base command line per command (and per subcommand an option goes with):
# nothing is downloaded, created or destroyed for real.
base() { # CMD SUB
	case $1/$2 in
	init/*) mkdir -p "$T/init"; echo "-C $T/init init --force" ;;
	up/*) echo "up --dry-run" ;;
	destroy/*) echo "destroy --force" ;;
	gc/*) echo "gc --dry-run" ;;
	image/pull) echo "image pull http://127.0.0.1:9/none.img" ;;  # refused at once
	image/prune) echo "image prune --dry-run" ;;
	image/*) echo "image list" ;;
	snapshot/save) echo "snapshot save s1" ;;
	snapshot/*) echo "snapshot list" ;;
	console/* | logs/*) echo "$1 web-1" ;;  # the VM is not created: refused, not a usage error
	exec/*) echo "exec --all" ;;   # the command after -- comes last (after)
	cp/*) echo "cp web-1:/none ." ;;
	class/exec) echo "class exec" ;;      # seats or --all, then -- CMD: see below
	class/destroy) echo "class destroy --force" ;;
	class/*) echo "class ${2:-status}" ;;
	*) echo "$1" ;;
	esac
}
after() { # CMD: words after the option under test
	case $1 in
	exec) echo "-- true" ;;
	esac
}
value() { # CMD METAVAR
	case $1/$2 in
	init/NAME) echo debian ;;
	*/NAME) echo mine ;;
	*/HEX) printf '%064d\n' 0 ;;
	*/VM*) echo web-1 ;;
	*) echo x ;;
	esac
}
for c in $cmds; do
	check "vmlab(1) describes $c" grep -qE "^\.(B|BI|BR|TP).*\b$c\b" <<<"$("sed" -n '/^\.SH COMMANDS/,/^\.SH IMAGES/p' "$REPO/man/vmlab.1")"
	help=$("$VMLAB" help "$c")
	alias=$(sed -n 's/^alias: //p' <<<"$help")
	if [ -n "$alias" ]; then
		check "$c's alias $alias is documented" grep -qw -- "$alias" <<<"$man1"
		check "$c's alias $alias works" [ "$("$VMLAB" help "$alias" | head -1)" = "$(head -1 <<<"$help")" ]
	fi
	# subcommands and their aliases
	while read -r _ sub rest; do
		[ -n "$sub" ] || continue
		check "vmlab(1) documents '$c $sub'" grep -qE "$c $sub\b" <<<"$man1"
		salias=$(sed -n 's/.*(alias: \(.*\))$/\1/p' <<<"$rest")
		[ -n "$salias" ] && check "vmlab(1) documents '$c' alias $salias" grep -qw -- "$salias" <<<"$man1"
	done < <(awk '/^subcommands:/ { on = 1; next } /^$/ { on = 0 } on' <<<"$help")
	# options: "  -f, --force   help" or "  --sha256 HEX   pull: help"
	while read -r line; do
		short=$(sed -n 's/^ *-\([a-zA-Z]\), --.*/\1/p' <<<"$line")
		long=$(sed -n 's/^ *\(-[a-zA-Z], \)\?--\([a-z0-9-]*\).*/\2/p' <<<"$line")
		meta=$(sed -n 's/^ *\(-[a-zA-Z], \)\?--[a-z0-9-]* \([A-Z][^ ]*\) .*/\2/p' <<<"$line")
		sub=$(sed -n 's/^.*  \([a-z]*\): .*/\1/p' <<<"$line")
		[ -n "$long" ] || continue
		check "vmlab(1) documents $c --$long" grep -q -- "--$long" <<<"$man1"
		for form in "--$long" ${short:+"-$short"}; do
			args=($(base "$c" "$sub") "$form")
			[ -n "$meta" ] && args+=("$(value "$c" "$meta")")
			args+=($(after "$c"))
			if [ "$c/$sub" = class/exec ]; then  # seat 1 is not made: refused, not usage
				case $form in --all|-a) ;; *) args+=(1) ;; esac
				args+=(-- true)
			fi
			# one SIGINT after 5 s ends what follows changes (status --watch) as Ctrl-C does
			# (--foreground: without it timeout signals its process group too, so vmlab
			# gets two, and the second ends it at once: a false leak under valgrind)
			r=$(timeout --foreground -s INT 5 "$VMLAB" --uri test:///default "${args[@]}" 2>&1 >/dev/null </dev/null); code=$?
			check "'vmlab ${args[*]}' is not a usage error (exit $code: $r)" [ "$code" != 2 ]
		done
		[ -n "$short" ] && check "vmlab(1) documents $c -$short" grep -qE -- "-$short\b" <<<"$man1"
	done < <(awk '/^options:/ { on = 1; next } /^$/ { on = 0 } on' <<<"$help")
done
# global options: --help and vmlab(1) say the same
while read -r line; do
	for opt in $(grep -o -- '--\?[a-zA-Z][a-z-]*' <<<"${line%%  *}"); do
		check "vmlab(1) documents global $opt" grep -qE -- "^\.(B|BI|BR).*$opt" <<<"$man1"
	done
done < <("$VMLAB" --help | awk '/^global options/ { on = 1; next } /^$/ { on = 0 } on')
quiet_help=$("$VMLAB" --help | sed -n 's/^ *-q, --quiet *//p')
check "-q: --help and vmlab(1) agree ($quiet_help)" grep -qF -- "$quiet_help" <<<"$man1"
# every --json schema is in vmlab(1)
for j in plan status "status --all" "status --watch" "snapshot list" doctor "image list" "image pull" "image rm" "image prune" \
	 validate gc "up --dry-run"; do
	check "vmlab(1) JSON OUTPUT has $j" grep -qx "\.B $j" <<<"$(sed -n '/^\.SH JSON OUTPUT/,/^\.SH EXIT/p' <<<"$man1")"
done
# every key of the TUI's key table (vmlab tui-keys prints what ? lists) is in
# vmlab-tui(1)'s KEYS, as the word a .TP item names
tuiman=$(plain "$REPO/man/vmlab-tui.1" | awk '/^\.SH KEYS/ { on = 1; next } /^\.SH/ { on = 0 }
	on && prev == ".TP" && /^\.BR? / { sub(/^\.BR? /, ""); gsub(/", "/, " "); gsub(/"/, ""); print }
	{ prev = $0 }' | tr -s ' ' '\n')
tuikeys=$("$VMLAB" tui-keys | awk '{ print $1 }' | sort -u)
check "tui-keys lists the key table" [ "$(wc -l <<<"$tuikeys")" -ge 20 ]
for k in $tuikeys; do
	check "vmlab-tui(1) documents the key $k" grep -qxF -- "$k" <<<"$tuiman"
done
echo "$checks checks, $fails failed"
exit $fails
