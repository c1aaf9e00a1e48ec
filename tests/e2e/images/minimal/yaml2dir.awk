# yaml2dir.awk - flatten the small YAML subset used by cloud-init seeds into files.
#
# Runs inside the minimal test image under busybox awk (POSIX awk, no gawk extensions).
# Usage: awk -v out=DIR -f yaml2dir.awk FILE
#
# Every scalar becomes one file in DIR named by its path, components joined with '.':
#   users:                              ->  DIR/users.0         ("default")
#     - default                             DIR/users.1.name    ("dev")
#     - name: dev                           DIR/users.1.ssh_authorized_keys.0
#       ssh_authorized_keys:
#         - ssh-ed25519 AAAA... dev
# A file holds the value exactly (no trailing newline added; block scalars keep theirs).
# Nothing is ever evaluated: the caller reads files with cat.
#
# Supported subset (what vmlab and the tests write; anything else is skipped, not fatal):
#   - block mappings "key: value" nested by indentation (spaces only)
#   - block sequences "- value", "- key: value" (a mapping item), also at the parent key's indent
#   - plain, 'single-quoted' ('' escape) and "double-quoted" (\" \\ \n \t \r \xNN) scalars
#   - literal block scalars "|", "|-", "|+" (folded ">" is read as literal)
#   - flow sequences of scalars on one line: [a, 'b, c', "d"] (no nesting)
#   - full-line comments, and " #" comments after plain scalars
# Not supported: flow mappings {..}, anchors/aliases, multi-document streams, tabs, JSON.

function trim(s) { sub(/^[ ]+/, "", s); sub(/[ ]+$/, "", s); return s }

function hex(h,    i, n) {
	n = 0; h = tolower(h)
	for (i = 1; i <= length(h); i++) n = n * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
	return n
}

function safe(k) { gsub(/[^A-Za-z0-9_-]/, "_", k); return k }

# Turn the text after "key:" or "- " into a scalar value.
function scalar(v,    r, i, c) {
	v = trim(v)
	if (substr(v, 1, 1) == "'") {
		v = substr(v, 2); sub(/'[ ]*(#.*)?$/, "", v); gsub(/''/, "'", v); return v
	}
	if (substr(v, 1, 1) == "\"") {
		v = substr(v, 2); sub(/"[ ]*(#.*)?$/, "", v)
		r = ""
		for (i = 1; i <= length(v); i++) {
			c = substr(v, i, 1)
			if (c == "\\" && i < length(v)) {
				i++; c = substr(v, i, 1)
				if (c == "n") c = "\n"; else if (c == "t") c = "\t"; else if (c == "r") c = "\r"
				else if (c == "x" && substr(v, i + 1, 2) ~ /^[0-9A-Fa-f][0-9A-Fa-f]$/) {
					c = sprintf("%c", hex(substr(v, i + 1, 2))); i += 2
				}
			}
			r = r c
		}
		return r
	}
	sub(/[ ]+#.*$/, "", v)
	return v
}

function emit(path, value,    f) {
	f = out "/" path
	printf "%s", value > f
	close(f)
}

# Push a container frame: indent of the line that opened it, and its path.
function push(indent, path, kind) { sp++; fi[sp] = indent; fp[sp] = path; fk[sp] = kind }

function child(path, name) { return (path == "" ? name : path "." name) }

# Handle "key: value" whose key starts at column `indent`, below container `parent`.
function keyline(indent, text, parent,    k, v, p) {
	k = text; sub(/:.*/, "", k); k = trim(k)
	if (substr(k, 1, 1) == "\"" || substr(k, 1, 1) == "'") k = substr(k, 2, length(k) - 2)
	v = text; sub(/^[^:]*:/, "", v); v = trim(v)
	p = child(parent, safe(k))
	if (v == "" || substr(v, 1, 1) == "#") { push(indent, p, "map"); return }
	if (v ~ /^[|>][-+]?$/) { blk_start(indent, p, v); return }
	if (substr(v, 1, 1) == "[") { flow(p, v); return }
	if (substr(v, 1, 1) == "{") return  # flow mappings: not in the subset
	emit(p, scalar(v))
}

# A one-line flow sequence "[a, 'b, c', "d"]" -> path.0, path.1, ...; "[]" -> an empty file.
function flow(path, v,    i, c, q, tok, n, started) {
	sub(/^\[/, "", v); sub(/\][ ]*(#.*)?$/, "", v)
	if (trim(v) == "") { emit(path, ""); return }
	n = 0; q = ""; tok = ""
	for (i = 1; i <= length(v); i++) {
		c = substr(v, i, 1)
		if (q != "") {
			if (c == "\\" && q == "\"") { tok = tok c substr(v, i + 1, 1); i++; continue }
			if (c == q) q = ""
		} else if (c == "'" || c == "\"") q = c
		else if (c == ",") { emit(path "." n++, scalar(tok)); tok = ""; continue }
		tok = tok c
	}
	emit(path "." n, scalar(tok))
}

function blk_start(indent, path, style) {
	inblk = 1; blk_parent = indent; blk_path = path; blk_ind = -1; blk_txt = ""; blk_nl = 0
	blk_chomp = substr(style, 2, 1)
}

function blk_end(    t) {
	t = blk_txt
	if (blk_chomp == "+") { t = t "\n"; while (blk_nl-- > 0) t = t "\n" }
	else if (blk_chomp != "-" && t != "") t = t "\n"
	emit(blk_path, t)
	inblk = 0
}

BEGIN { sp = 0; inblk = 0 }

{
	line = $0
	sub(/\r$/, "", line)

	if (inblk) {
		if (line ~ /^[ ]*$/) { blk_nl++; next }
		match(line, /^[ ]*/); n = RLENGTH
		if (blk_ind < 0) {
			if (n <= blk_parent) blk_end()
			else blk_ind = n
		} else if (n < blk_ind) blk_end()
		if (inblk) {
			if (blk_txt != "" || blk_nl > 0) {
				if (blk_txt != "") blk_txt = blk_txt "\n"
				while (blk_nl-- > 0) blk_txt = blk_txt "\n"
			}
			blk_nl = 0
			blk_txt = blk_txt substr(line, blk_ind + 1)
			next
		}
	}

	if (line ~ /^[ ]*(#.*)?$/) next
	if (line ~ /^(---|\.\.\.)/) next
	match(line, /^[ ]*/); n = RLENGTH
	text = substr(line, n + 1)
	isdash = (text == "-" || substr(text, 1, 2) == "- ")

	# Close containers this line is not inside. A "- " line at the same indent as a key with
	# no value belongs to that key (YAML allows the sequence not to be indented).
	while (sp > 0 && fi[sp] >= n) {
		if (isdash && fk[sp] == "map" && fi[sp] == n) break
		sp--
	}
	parent = (sp > 0 ? fp[sp] : "")

	if (!isdash) { keyline(n, text, parent); next }

	idx = cnt[parent]++
	item = child(parent, idx)
	rest = substr(text, 2); m = match(rest, /[^ ]/)
	if (!m) { push(n, item, "item"); next }
	rest = substr(rest, m)
	if (rest ~ /^[A-Za-z0-9_"'-][^:]*:([ ]|$)/ && rest !~ /^["']/ || rest ~ /^["'][^"']*["']:([ ]|$)/) {
		# "- key: value": an item that is a mapping; its keys sit at the column after "- ".
		push(n, item, "item")
		keyline(n + m, rest, item)
		next
	}
	if (rest ~ /^[|>][-+]?$/) { blk_start(n, item, rest); next }
	if (substr(rest, 1, 1) == "[") { flow(item, rest); next }
	emit(item, scalar(rest))
}

END { if (inblk) blk_end() }
