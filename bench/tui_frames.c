/* The TUI's drawing cost: 500 VMs in 50 labs rendered to a curses screen
 * whose terminal is a file, so the bytes a frame sends are counted. Prints
 * full-frame and incremental-frame times and bytes per idle tick. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/draw.h"
#include "ui/model.h"
#include "util/clock.h"

#define LABS 50
#define VMS 10
#define ROUNDS 200

static long out_bytes(FILE *f)
{
	fflush(f);
	return ftell(f);
}

int main(void)
{
	static struct vl_lab_summary labs[LABS];
	static struct vl_vm_summary vms[LABS][VMS];
	static char names[LABS][VMS][16], labnames[LABS][16], ips[LABS][VMS][16];
	struct ui_model m;
	struct ui_draw d;
	FILE *out = tmpfile(), *in = fopen("/dev/null", "r");
	SCREEN *s;
	double t0, full = 0, inc = 0;
	long b0, idle_bytes;

	for (int i = 0; i < LABS; i++) {
		snprintf(labnames[i], sizeof(labnames[i]), "lab-%d", i);
		labs[i].name = labs[i].id = labnames[i];
		labs[i].project = labnames[i];
		labs[i].vms = vms[i];
		labs[i].n_vms = VMS;
		labs[i].network_active = true;
		for (int j = 0; j < VMS; j++) {
			snprintf(names[i][j], sizeof(names[i][j]), "web-%d", j);
			snprintf(ips[i][j], sizeof(ips[i][j]), "10.77.%d.%d", i, 10 + j);
			vms[i][j] = (struct vl_vm_summary){ .name = names[i][j], .ip = ips[i][j],
							    .state = VL_VM_RUNNING, .cpus = 2,
							    .memory = 2ull << 30 };
		}
	}
	setenv("LINES", "60", 1);
	setenv("COLUMNS", "160", 1);
	s = newterm("xterm-256color", out, in);
	if (!s) {
		fprintf(stderr, "tui_frames: newterm failed\n");
		return 1;
	}
	ui_model_init(&m, NULL);
	ui_model_load(&m, labs, LABS, 1000);
	for (size_t i = 0; i < m.n_labs; i++)
		m.labs[i].expanded = true;
	ui_model_rows(&m);
	ui_draw_init(&d, true, true);
	ui_draw_colors(&d);
	struct ui_view v = { .m = &m, .uri = "qemu:///system", .accel = "kvm", .now_ms = 1000 };
	ui_draw_frame(&d, stdscr, &v);

	for (int r = 0; r < ROUNDS; r++) {    /* full: every line written */
		ui_draw_invalidate(&d);
		clearok(stdscr, TRUE);
		m.sel = (size_t)r % 40;
		t0 = vl_now_mono();
		ui_draw_frame(&d, stdscr, &v);
		full += vl_now_mono() - t0;
	}
	for (int r = 0; r < ROUNDS; r++) {    /* incremental: one VM's CPU changed */
		m.labs[0].vms[r % VMS].cpu = r;
		t0 = vl_now_mono();
		ui_draw_frame(&d, stdscr, &v);
		inc += vl_now_mono() - t0;
	}
	b0 = out_bytes(out);
	for (int r = 0; r < ROUNDS; r++)      /* idle: nothing changed */
		ui_draw_frame(&d, stdscr, &v);
	idle_bytes = out_bytes(out) - b0;
	printf("tui frames (500 VMs in 50 labs, 160x60): full %.3f ms, incremental %.3f ms, "
	       "idle frame %ld bytes\n", full / ROUNDS * 1e3, inc / ROUNDS * 1e3, idle_bytes / ROUNDS);
	endwin();
	delscreen(s);
	ui_draw_release(&d);
	ui_model_release(&m);
	return 0;
}
