/* The key table: every binding once (key, where it applies, action, help,
 * whether --readonly allows it). The footer, the `?` help screen and the
 * dispatcher all read it, and a conflict check rejects one key bound twice
 * where its contexts overlap. */
#ifndef UI_KEYS_H
#define UI_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

enum ui_key_ctx {
	UI_CTX_LAB = 1u << 0,       /* a lab row is selected */
	UI_CTX_VM = 1u << 1,        /* a VM row is selected */
	UI_CTX_JOB = 1u << 2,       /* the selection has a running job */
	UI_CTX_CLASS = 1u << 3,     /* a class row is selected */
	UI_CTX_SEAT = 1u << 4,      /* with LAB or VM: it is (in) a class seat */
	UI_CTX_ANY = UI_CTX_LAB | UI_CTX_VM | UI_CTX_JOB | UI_CTX_CLASS,
};

enum ui_action {
	UI_A_NONE,
	UI_A_UP_ROW, UI_A_DOWN_ROW, UI_A_PAGE_UP, UI_A_PAGE_DOWN, UI_A_COLLAPSE, UI_A_EXPAND,
	UI_A_SSH, UI_A_CONSOLE, UI_A_UP, UI_A_HALT, UI_A_SNAPSHOT, UI_A_ROLLBACK,
	UI_A_PROVISION, UI_A_DESTROY, UI_A_EDIT, UI_A_LOG, UI_A_MARK, UI_A_FILTER,
	UI_A_CLEAR, UI_A_HELP, UI_A_REDRAW, UI_A_QUIT, UI_A_CANCEL_JOB, UI_A_RESET,
};

struct ui_key {
	int key;                    /* a character or a curses KEY_* code */
	const char *label;          /* as shown: "Enter", "j/↓" */
	unsigned ctx;               /* enum ui_key_ctx bits */
	enum ui_action action;
	const char *help;           /* the help screen's line */
	const char *brief;          /* the footer's word; NULL: not in the footer */
	bool readonly_ok;           /* allowed with --readonly */
};

extern const struct ui_key ui_keys[];
extern const size_t ui_n_keys;

/* The context of a selected row: a class row, a lab row or a VM row, seat
 * telling whether that lab is a class seat. */
unsigned ui_key_row_ctx(bool class_row, bool lab_row, bool seat);
/* The action of key in ctx (UI_A_NONE: unbound there). */
enum ui_action ui_key_action(const struct ui_key *keys, size_t n, int key, unsigned ctx,
			     bool readonly);
/* Two bindings of one key whose contexts overlap: VL_E_USAGE naming both. */
int ui_keys_check(const struct ui_key *keys, size_t n, struct vl_err *err);
/* A byte range of a generated line. */
struct ui_range {
	size_t start, end;
};

/* "u up  h halt ..." for ctx (0: nothing selected; keys of any context
 * show), at most width columns (whole entries only). readonly leaves the
 * actions out. With off (the connection is lost) they stay, and off[] gets
 * the byte ranges they cover (adjacent ones merged, at most max_off), for
 * the footer to grey them out; *n_off says how many. */
void ui_keys_footer(const struct ui_key *keys, size_t n, unsigned ctx, bool readonly,
		    size_t width, struct vl_buf *out, struct ui_range *off, size_t max_off,
		    size_t *n_off);
/* The help screen, one binding a line ("  u        up: ..."), with --readonly
 * marking what is disabled. */
void ui_keys_help(const struct ui_key *keys, size_t n, bool readonly, struct vl_buf *out);

#endif
