/* Model to screen: header, lab and VM rows, jobs strip, footer, status line.
 * Each screen line is composed as text plus styled spans and compared with
 * what was drawn last: only changed lines are written, and nothing at all
 * (no refresh) when nothing changed. */
#ifndef UI_DRAW_H
#define UI_DRAW_H

#include <curses.h>
#include <stdbool.h>
#include <stdint.h>

#include "jobs.h"
#include "model.h"

#define UI_LINE_MAX 512
#define UI_SPANS 8

enum ui_style {
	UI_ST_NORMAL, UI_ST_HEADER, UI_ST_TITLE, UI_ST_LAB, UI_ST_SEL, UI_ST_RECENT,
	UI_ST_RUNNING, UI_ST_OFF, UI_ST_PAUSED, UI_ST_CRASHED, UI_ST_ERR, UI_ST_BANNER,
	UI_ST_DIM, UI_ST_N,
};

struct ui_span {
	unsigned short start, end;  /* bytes of text */
	unsigned char style;
};

struct ui_line {
	char text[UI_LINE_MAX];
	unsigned char base;         /* the whole line's style */
	unsigned char n_spans;
	struct ui_span spans[UI_SPANS];
};

struct ui_draw {
	bool color, utf8;
	int rows, cols;
	struct ui_line *cache;      /* what the screen shows, one per row */
	bool *valid;
	size_t top;                 /* first model row in the list area */
	unsigned long frames, lines_written;
};

struct ui_view {
	const struct ui_model *m;
	struct ui_jobs *jobs;       /* NULL: no jobs strip */
	const char *uri, *accel;
	uint64_t free_mem, mem_total;   /* the host's, bytes; 0: unknown */
	bool readonly;
	const char *status;         /* the status line; NULL: empty */
	bool status_err;
	const char *prompt;         /* non-NULL: the status line is this input */
	int64_t now_ms;
};

void ui_draw_init(struct ui_draw *d, bool color, bool utf8);
void ui_draw_release(struct ui_draw *d);
/* Start colours (after initscr) when d->color. */
void ui_draw_colors(struct ui_draw *d);
/* Forget what the screen shows: the next frame writes every line. */
void ui_draw_invalidate(struct ui_draw *d);
/* Draw a frame into w; returns the number of lines written (0: nothing
 * changed and nothing was sent to the terminal). */
int ui_draw_frame(struct ui_draw *d, WINDOW *w, const struct ui_view *v);
/* Lines of a full-screen text (help, log, dialogs) with a title; from
 * first_line; returns lines written. */
int ui_draw_text(struct ui_draw *d, WINDOW *w, const char *title, const char *text,
		 size_t first_line, const char *footer);
/* The list rows the screen has room for (page moves). */
int ui_draw_list_height(const struct ui_draw *d, const struct ui_view *v);

#endif
