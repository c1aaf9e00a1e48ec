/* The key table and what is generated from it: the footer, the help screen
 * and the lookup the main loop dispatches with (htop's keys[] table). */
#include "keys.h"

#include <curses.h>
#include <string.h>

#include "util/str.h"

#define CTRL(c) ((c) & 0x1f)
#define ROW (UI_CTX_LAB | UI_CTX_VM)

const struct ui_key ui_keys[] = {
	{ KEY_UP, "Up", UI_CTX_ANY, UI_A_UP_ROW, "move up", NULL, true },
	{ 'k', "k", UI_CTX_ANY, UI_A_UP_ROW, "move up", NULL, true },
	{ KEY_DOWN, "Down", UI_CTX_ANY, UI_A_DOWN_ROW, "move down", NULL, true },
	{ 'j', "j", UI_CTX_ANY, UI_A_DOWN_ROW, "move down", NULL, true },
	{ KEY_PPAGE, "PgUp", UI_CTX_ANY, UI_A_PAGE_UP, "a page up", NULL, true },
	{ KEY_NPAGE, "PgDn", UI_CTX_ANY, UI_A_PAGE_DOWN, "a page down", NULL, true },
	{ KEY_LEFT, "Left", UI_CTX_ANY, UI_A_COLLAPSE, "collapse the lab", NULL, true },
	{ KEY_RIGHT, "Right", UI_CTX_ANY, UI_A_EXPAND, "expand the lab", NULL, true },
	{ '\n', "Enter", UI_CTX_VM, UI_A_SSH, "SSH shell on the VM (exit returns here)", "ssh",
	  false },
	{ KEY_ENTER, "Enter", UI_CTX_VM, UI_A_SSH, "SSH shell on the VM", NULL, false },
	{ '\n', "Enter", UI_CTX_LAB | UI_CTX_CLASS, UI_A_EXPAND, "expand or collapse the lab or class",
	  NULL, true },
	{ 'c', "c", UI_CTX_VM, UI_A_CONSOLE, "serial console of the VM (Ctrl-] returns)", "console",
	  false },
	{ 'R', "R", UI_CTX_CLASS | UI_CTX_SEAT, UI_A_RESET, "reset class seats to the baseline: the "
	  "marked seats, the seat, or on a class row all of them (asks first)", "reset", false },
	{ 'u', "u", ROW, UI_A_UP, "up: create or start the marked VMs, the VM or the lab", "up",
	  false },
	{ 'h', "h", ROW, UI_A_HALT, "halt the marked VMs, the VM or the lab", "halt", false },
	{ 's', "s", ROW, UI_A_SNAPSHOT, "snapshot save of the lab (asks a name)", "snap", false },
	{ 'r', "r", ROW, UI_A_ROLLBACK, "rollback the lab to a snapshot (newest first)", "rollback",
	  false },
	{ 'p', "p", ROW, UI_A_PROVISION, "provision: the provisioners not yet done (the VMs must run)", "prov", false },
	{ 'D', "D", ROW, UI_A_DESTROY, "destroy the marked VMs, the VM or the lab (asks first)",
	  "destroy", false },
	{ 'e', "e", ROW, UI_A_EDIT, "edit the lab's vmlab.ini in $EDITOR, then show the plan",
	  "edit", false },
	{ 'l', "l", ROW, UI_A_LOG, "log: the VM's console, cloud-init and provisioner logs, and "
	  "this session's jobs on the VM or lab", "log", true },
	{ ' ', "Space", ROW | UI_CTX_CLASS, UI_A_MARK, "mark the VM (on a lab or class: all its VMs)",
	  "mark", true },
	{ 'x', "x", UI_CTX_JOB, UI_A_CANCEL_JOB, "cancel the running job of the selection (on a "
	  "class row: its reset)",
	  "cancel", false },
	{ '/', "/", UI_CTX_ANY, UI_A_FILTER, "filter: text, state:running, lab:NAME", "filter",
	  true },
	{ 27, "Esc", UI_CTX_ANY, UI_A_CLEAR, "clear the filter and the marks", NULL, true },
	{ '?', "?", UI_CTX_ANY, UI_A_HELP, "this help", "help", true },
	{ CTRL('l'), "Ctrl-L", UI_CTX_ANY, UI_A_REDRAW, "redraw the screen", NULL, true },
	{ 'q', "q", UI_CTX_ANY, UI_A_QUIT, "quit", "quit", true },
};

const size_t ui_n_keys = sizeof(ui_keys) / sizeof(ui_keys[0]);

unsigned ui_key_row_ctx(bool class_row, bool lab_row, bool seat)
{
	if (class_row)
		return UI_CTX_CLASS;
	return (lab_row ? UI_CTX_LAB : UI_CTX_VM) | (seat ? UI_CTX_SEAT : 0);
}

enum ui_action ui_key_action(const struct ui_key *keys, size_t n, int key, unsigned ctx,
			     bool readonly)
{
	for (size_t i = 0; i < n; i++) {
		if (keys[i].key != key || !(keys[i].ctx & ctx))
			continue;
		if (readonly && !keys[i].readonly_ok)
			return UI_A_NONE;
		return keys[i].action;
	}
	return UI_A_NONE;
}

int ui_keys_check(const struct ui_key *keys, size_t n, struct vl_err *err)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			if (keys[i].key == keys[j].key && (keys[i].ctx & keys[j].ctx) &&
			    keys[i].action != keys[j].action)
				return vl_err_set(err, VL_E_USAGE, "key %s bound twice: '%s' and '%s'",
						  keys[i].label, keys[i].help, keys[j].help);
		}
	}
	return 0;
}

void ui_keys_footer(const struct ui_key *keys, size_t n, unsigned ctx, bool readonly,
		    size_t width, struct vl_buf *out, struct ui_range *off, size_t max_off,
		    size_t *n_off)
{
	size_t used = 0, k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct ui_key *key = &keys[i];
		size_t w, start;
		if (!key->brief || (!(key->ctx & ctx) && key->ctx != UI_CTX_ANY) ||
		    (readonly && !key->readonly_ok))
			continue;
		w = strlen(key->label) + 1 + strlen(key->brief) + (used ? 2 : 0);
		if (used + w > width)
			break;
		vl_buf_printf(out, "%s", used ? "  " : "");
		start = out->len;
		vl_buf_printf(out, "%s %s", key->label, key->brief);
		used += w;
		if (!off || key->readonly_ok)
			continue;
		if (k && off[k - 1].end + 2 == start)
			off[k - 1].end = out->len;
		else if (k < max_off)
			off[k++] = (struct ui_range){ start, out->len };
	}
	if (n_off)
		*n_off = k;
}

void ui_keys_help(const struct ui_key *keys, size_t n, bool readonly, struct vl_buf *out)
{
	for (size_t i = 0; i < n; i++) {
		const struct ui_key *k = &keys[i];
		bool dup = false;
		for (size_t j = 0; j < i; j++)  /* KEY_ENTER and '\n' are one line */
			dup = dup || (vl_streq(keys[j].label, k->label) && keys[j].action == k->action);
		if (dup)
			continue;
		vl_buf_printf(out, "  %-7s %s%s\n", k->label, k->help,
			      readonly && !k->readonly_ok ? " (off: --readonly)" : "");
	}
}
