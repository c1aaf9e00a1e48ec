/* The TUI's model: labs and VMs as the screen knows them, fed once from
 * vl_lab_list_all() and then from the watch's changes. Pure (no curses, no
 * libvirt, no clock: callers pass the time), so grouping, sorting, the
 * filter, marks and the selection are unit-tested. */
#ifndef UI_MODEL_H
#define UI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab.h"

#define UI_HIGHLIGHT_MS 1500    /* a changed row stays highlighted this long */

struct ui_vm {
	char *name, *domain, *ip;
	enum vl_vm_state state;
	unsigned cpus;
	uint64_t memory;            /* bytes */
	uint64_t mem_used;          /* bytes, from stats; 0 unknown */
	double cpu;                 /* percent; < 0 unknown */
	int64_t up_since_ms;        /* when it was seen starting; 0 unknown */
	int64_t changed_ms;         /* last state change, for the highlight */
	bool marked;
	/* changed since the newest snapshot: the record from the listing, the
	 * VM as the last listing or stats sample saw it, and the decision */
	struct vl_snapmark mark;
	struct vl_snapmark_now now;
	enum vl_changed dirty;
};

struct ui_lab {
	char *id, *name, *project, *network, *subnet;
	char *seat;                 /* a class seat: its id ("3" of instance seat-3); NULL: not */
	size_t cls;                 /* a seat: its class in the model's classes[] */
	bool net_active, mine;
	bool here;                  /* the current directory's lab */
	bool exists;                /* libvirt has something of it (false: only planned) */
	bool expanded;
	int n_snapshots;            /* -1 unknown */
	struct ui_vm *vms;          /* by name, web-2 before web-10 */
	size_t n_vms;
	int64_t changed_ms;
};

/* A class: the seats of one project's profile (same project and lab name),
 * shown as one group with its seats as sub-groups. */
struct ui_class {
	char *name, *project;
	bool expanded;
};

enum ui_row_kind { UI_ROW_CLASS, UI_ROW_LAB, UI_ROW_VM };

struct ui_row {
	enum ui_row_kind kind;
	size_t lab, vm;             /* indexes into labs[] and labs[lab].vms[]; a class row:
				       its first seat */
};

/* "web state:running lab:shop": every term must match. Text matches a VM's
 * name or IP, or its lab's name, as a substring. */
struct ui_filter {
	char *text;                 /* NULL: any */
	int state;                  /* enum vl_vm_state, -1: any */
	bool state_up;              /* state:up = running or paused */
	char *lab;                  /* lab name (exact), NULL: any */
};

/* A VM of the planned lab, as its profile describes it. */
struct ui_plan_vm {
	const char *name;
	unsigned cpus;
	uint64_t memory;            /* bytes */
};

struct ui_model {
	struct ui_lab *labs;        /* here first, then by name; a class's seats together,
				       after the project's own lab, seat 2 before seat 10 */
	size_t n_labs;
	struct ui_class *classes;
	size_t n_classes;
	char *here_project;         /* the current project directory, or NULL */
	struct ui_filter filter;
	char *filter_src;           /* what the user typed */
	struct ui_row *rows;        /* what is visible, in order */
	size_t n_rows, sel;
	/* the selection by identity, so it survives re-sorting and removals */
	char *sel_lab, *sel_vm;
	char *sel_class;            /* a class row: "project\nname" */
	bool connected;             /* the watch's connection is up */
	char *lost_reason;
	/* the current directory's lab as its profile plans it (plan_id NULL:
	 * none): shown before it exists, its VMs "not created" (VL_VM_MISSING) */
	char *plan_id, *plan_name;
	struct ui_plan_vm *plan_vms;  /* names owned */
	size_t n_plan_vms;
};

void ui_model_init(struct ui_model *m, const char *here_project);
void ui_model_release(struct ui_model *m);

/* "web-2" before "web-10": digits compare as numbers. */
int ui_natcmp(const char *a, const char *b);

/* Replace the labs with a fresh list (kept: expansion, marks, CPU figures and
 * times of VMs that are still there). The current directory's lab first
 * and expanded the first time it is seen. */
void ui_model_load(struct ui_model *m, const struct vl_lab_summary *labs, size_t n, int64_t now_ms);
/* The current directory's lab as planned (id NULL: none). It takes effect
 * with the next ui_model_load: the lab is there, first and expanded, whether
 * or not libvirt has it; a planned VM libvirt lacks is VL_VM_MISSING, and
 * it stays so when destroyed (so u can bring it up again). */
void ui_model_set_plan(struct ui_model *m, const char *id, const char *name,
		       const struct ui_plan_vm *vms, size_t n);
/* Apply one watch change. Returns true when the screen changed. Sets
 * *need_list when a lab or VM appeared that the model does not know enough
 * of (its name, IP): the caller lists the labs again. */
bool ui_model_apply(struct ui_model *m, const struct vl_watch_change *c, int64_t now_ms,
		    bool *need_list);

/* Parse a filter; an unknown key ("foo:bar") or a state that is no state
 * is an error (one line in err). */
int ui_filter_parse(struct ui_filter *f, const char *src, struct vl_err *err);
void ui_filter_release(struct ui_filter *f);
bool ui_filter_match(const struct ui_filter *f, const struct ui_lab *lab, const struct ui_vm *vm);
/* Set the filter (src NULL or "": none). On error the old one stays. */
int ui_model_set_filter(struct ui_model *m, const char *src, struct vl_err *err);

/* Rebuild rows after any change, keeping the selection on the same lab or
 * VM; if that is gone, on the row now at its place. */
void ui_model_rows(struct ui_model *m);
void ui_model_move(struct ui_model *m, int delta);
void ui_model_expand(struct ui_model *m, bool expand);
/* Space: toggle the mark of the selected VM, or of every VM of the selected
 * lab (all marked afterwards unless all were). */
void ui_model_toggle_mark(struct ui_model *m);
size_t ui_model_n_marked(const struct ui_model *m);

const struct ui_row *ui_model_selected(const struct ui_model *m);
struct ui_lab *ui_model_find_lab(const struct ui_model *m, const char *id);
struct ui_vm *ui_lab_find_vm(const struct ui_lab *lab, const char *name);
bool ui_vm_recent(const struct ui_vm *vm, int64_t now_ms);
/* The lab's VMs that are up (running or paused). */
size_t ui_lab_n_up(const struct ui_lab *lab);
size_t ui_model_n_running(const struct ui_model *m);

/* What an action applies to: the marked VMs (one target per lab), else the
 * selected VM, else the selected lab (n_vms 0: the whole lab). */
struct ui_target {
	size_t lab;
	char **vms;
	size_t n_vms;
};

size_t ui_model_targets(const struct ui_model *m, struct ui_target **out);
void ui_targets_free(struct ui_target *t, size_t n);

/* What a class reset applies to: the seats of one class (n_seats 0: all). */
struct ui_reset {
	size_t cls;
	char **seats;               /* seat ids */
	size_t n_seats;
};

/* The seats with marked VMs (all in one class), else the selected class
 * (all its seats), seat or VM of a seat. VL_E_USAGE with one line when the
 * marks or the selection are not class seats, or span classes. */
int ui_model_reset_target(const struct ui_model *m, struct ui_reset *out, struct vl_err *err);
void ui_reset_release(struct ui_reset *r);

#endif
