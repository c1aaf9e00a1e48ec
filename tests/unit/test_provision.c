/* Unit tests for src/provision (entries, hash, records, environment, the
 * remote command, run through a real /bin/sh with execv) and src/remote
 * (lines, exec's exit status). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "provision.h"
#include "remote.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/mem.h"

static void test_parse_script(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_prov p;
	(void)state;

	assert_int_equal(vl_prov_parse("scripts/web.sh", "/proj", &p, &err), 0);
	assert_int_equal(p.kind, VL_PROV_SCRIPT);
	assert_string_equal(p.src, "/proj/scripts/web.sh");
	assert_string_equal(p.spec, "scripts/web.sh");
	vl_prov_release(&p);
	assert_int_equal(vl_prov_parse("script:/abs/x.sh", "/proj", &p, &err), 0);
	assert_string_equal(p.src, "/abs/x.sh");
	vl_prov_release(&p);
	assert_int_equal(vl_prov_parse("script:", "/proj", &p, &err), -1);
	assert_int_equal(err.code, VL_E_PROFILE);
}

static void test_parse_file(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_prov p;
	(void)state;

	assert_int_equal(vl_prov_parse("file:conf/app.conf /etc/app.conf", "/proj", &p, &err), 0);
	assert_int_equal(p.kind, VL_PROV_FILE);
	assert_string_equal(p.src, "/proj/conf/app.conf");
	assert_string_equal(p.dest, "/etc/app.conf");
	assert_int_equal(p.mode, 0644);
	assert_null(p.owner);
	assert_null(p.group);
	vl_prov_release(&p);
	assert_int_equal(vl_prov_parse("file:a  /x/b mode=0600 owner=root:adm", "/p", &p, &err), 0);
	assert_int_equal(p.mode, 0600);
	assert_string_equal(p.owner, "root");
	assert_string_equal(p.group, "adm");
	vl_prov_release(&p);
	assert_int_equal(vl_prov_parse("file:a /x/b owner=www-data", "/p", &p, &err), 0);
	assert_string_equal(p.owner, "www-data");
	assert_null(p.group);
	vl_prov_release(&p);

	struct { const char *in, *msg; } bad[] = {
		{ "file:a", "a file entry is file:SRC DEST" },
		{ "file:", "a file entry is file:SRC DEST" },
		{ "file:a b", "the target 'b' must be an absolute path" },
		{ "file:a /b mode=999", "mode '999' is not octal" },
		{ "file:a /b mode=", "mode '' is not octal" },
		{ "file:a /b mode=17777", "mode '17777'" },
		{ "file:a /b owner=Root", "owner 'Root' is not USER or USER:GROUP" },
		{ "file:a /b owner=root:", "owner 'root:' is not" },
		{ "file:a /b colour=red", "unknown word 'colour=red'" },
	};
	for (size_t i = 0; i < VL_ARRAY_SIZE(bad); i++) {
		vl_err_clear(&err);
		assert_int_equal(vl_prov_parse(bad[i].in, "/p", &p, &err), -1);
		assert_int_equal(err.code, VL_E_PROFILE);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("%s: got '%s', wanted '%s'", bad[i].in, err.msg, bad[i].msg);
		assert_non_null(strstr(err.msg, bad[i].in));   /* the entry is named */
	}
}

static void test_hash(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_prov s, f1, f2;
	char a[65], b[65], c[65], d[65];
	(void)state;

	assert_int_equal(vl_prov_parse("x.sh", "/p", &s, &err), 0);
	assert_int_equal(vl_prov_parse("file:x.sh /etc/x", "/p", &f1, &err), 0);
	assert_int_equal(vl_prov_parse("file:x.sh /etc/x mode=0600", "/p", &f2, &err), 0);
	vl_prov_hash(&s, "echo 1\n", 7, a);
	vl_prov_hash(&s, "echo 2\n", 7, b);
	assert_int_equal(strlen(a), 64);
	assert_string_not_equal(a, b);          /* content changes it */
	vl_prov_hash(&f1, "echo 1\n", 7, c);
	assert_string_not_equal(a, c);          /* kind too */
	vl_prov_hash(&f2, "echo 1\n", 7, d);
	assert_string_not_equal(c, d);          /* and a file's mode */
	vl_prov_hash(&s, "echo 1\n", 7, b);
	assert_string_equal(a, b);              /* and nothing else */
	vl_prov_release(&s);
	vl_prov_release(&f1);
	vl_prov_release(&f2);
}

static void test_done(void **state)
{
	const char *rec = "1 aaa uuid-1\n2 bbb uuid-1\n3 ccc uuid-2\n";
	(void)state;

	assert_true(vl_prov_done(rec, 1, "aaa", "uuid-1"));
	assert_true(vl_prov_done(rec, 2, "bbb", "uuid-1"));
	assert_false(vl_prov_done(rec, 2, "bbx", "uuid-1"));   /* changed content */
	assert_false(vl_prov_done(rec, 3, "ccc", "uuid-1"));   /* another domain's disk */
	assert_false(vl_prov_done(rec, 4, "aaa", "uuid-1"));   /* never ran */
	assert_false(vl_prov_done(rec, 1, "aa", "uuid-1"));    /* whole words only */
	assert_false(vl_prov_done(NULL, 1, "aaa", "uuid-1"));
	assert_false(vl_prov_done("", 1, "aaa", "uuid-1"));
	assert_true(vl_prov_done("1 aaa uuid-1", 1, "aaa", "uuid-1"));   /* no final newline */
}

static const struct vl_prov_peer peers[] = {
	{ "db", "10.0.0.2" }, { "web-1", "10.0.0.3" }, { "web-2", "10.0.0.4" },
};

static const struct vl_prov_env env = {
	.vm = "web-2", .lab = "shop", .ip = "10.0.0.4", .user = "dev", .index = 2,
	.peers = peers, .n_peers = 3,
};

static void test_env(void **state)
{
	size_t n;
	char **w = vl_prov_env_words(&env, &n);
	const char *want[] = {
		"VMLAB_VM=web-2", "VMLAB_LAB=shop", "VMLAB_INDEX=2", "VMLAB_IP=10.0.0.4",
		"VMLAB_USER=dev", "VMLAB_VMS=db=10.0.0.2 web-1=10.0.0.3 web-2=10.0.0.4",
		"VMLAB_IP_DB=10.0.0.2", "VMLAB_IP_WEB_1=10.0.0.3", "VMLAB_IP_WEB_2=10.0.0.4",
	};
	(void)state;

	assert_int_equal(n, VL_ARRAY_SIZE(want));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(w[i], want[i]);
	assert_null(w[n]);
	vl_prov_argv_free(w);
}

/* Run argv with stdin from in_path and HOME=home; its stdout (caller frees). */
static char *run_with_stdin(char **argv, const char *in_path, const char *home, int *status)
{
	int out[2], ws;
	struct vl_buf b = VL_BUF_INIT;
	char chunk[512];
	ssize_t r;
	pid_t pid;

	assert_int_equal(pipe(out), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int in = open(in_path, O_RDONLY);
		if (in < 0 || dup2(in, 0) < 0 || dup2(out[1], 1) < 0 || setenv("HOME", home, 1))
			_exit(126);
		close(out[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	while ((r = read(out[0], chunk, sizeof(chunk))) > 0)
		vl_buf_appendn(&b, chunk, (size_t)r);
	close(out[0]);
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 255;
	return b.s ? vl_buf_steal(&b) : vl_strdup("");
}

static char *records_of(const char *home)
{
	VL_AUTOFREE char *path = NULL;
	char *text = NULL;
	size_t len;
	struct vl_buf b = VL_BUF_INIT;

	vl_buf_printf(&b, "%s/%s", home, VL_PROV_RECORDS);
	path = vl_buf_steal(&b);
	if (vl_file_read(path, 1 << 20, &text, &len, NULL) < 0)
		return NULL;
	return text;
}

/* The command a VM runs, run here by /bin/sh: the script sees the
 * environment and runs in the home; success appends the record, replacing
 * the index's old one; failure passes its status on and records nothing. */
static void test_command_runs(void **state)
{
	char *dir = vl_test_tmpdir();
	VL_AUTOFREE char *ok = vl_test_write(dir, "ok.sh", "#!/bin/sh\n"
					     "echo \"$VMLAB_VM $VMLAB_INDEX $VMLAB_IP_WEB_1 $(pwd)\"\n"
					     "read x && echo \"stdin: $x\"\n"
					     "exit 0\n");
	VL_AUTOFREE char *bad = vl_test_write(dir, "bad.sh", "echo failing\nexit 7\n");
	VL_AUTOFREE char *home = NULL;
	struct vl_buf hb = VL_BUF_INIT;
	struct vl_err err = VL_ERR_INIT;
	struct vl_prov p;
	size_t argc;
	int status;
	(void)state;

	vl_buf_printf(&hb, "%s/home", dir);
	home = vl_buf_steal(&hb);
	assert_int_equal(mkdir(home, 0700), 0);
	assert_int_equal(vl_prov_parse("ok.sh", dir, &p, &err), 0);

	char **argv = vl_prov_command(&p, 1, "h1", "u1", &env, &argc);
	assert_null(argv[argc]);
	assert_string_equal(argv[0], "env");
	VL_AUTOFREE char *out = run_with_stdin(argv, ok, home, &status);
	vl_prov_argv_free(argv);
	assert_int_equal(status, 0);
	VL_AUTOFREE char *want = NULL;
	struct vl_buf wb = VL_BUF_INIT;
	vl_buf_printf(&wb, "web-2 2 10.0.0.3 %s\n", home);   /* stdin is /dev/null: no read */
	want = vl_buf_steal(&wb);
	assert_string_equal(out, want);
	VL_AUTOFREE char *rec1 = records_of(home);
	assert_non_null(rec1);
	assert_string_equal(rec1, "1 h1 u1\n");

	/* entry 2 fails: status passed on, nothing recorded */
	argv = vl_prov_command(&p, 2, "h2", "u1", &env, &argc);
	VL_AUTOFREE char *out2 = run_with_stdin(argv, bad, home, &status);
	vl_prov_argv_free(argv);
	assert_int_equal(status, 7);
	assert_string_equal(out2, "failing\n");
	VL_AUTOFREE char *rec2 = records_of(home);
	assert_string_equal(rec2, "1 h1 u1\n");

	/* entry 1 again with new content: its record replaced, not added */
	argv = vl_prov_command(&p, 1, "h1b", "u1", &env, &argc);
	VL_AUTOFREE char *out3 = run_with_stdin(argv, ok, home, &status);
	vl_prov_argv_free(argv);
	assert_int_equal(status, 0);
	VL_AUTOFREE char *rec3 = records_of(home);
	assert_string_equal(rec3, "1 h1b u1\n");
	assert_true(vl_prov_done(rec3, 1, "h1b", "u1"));
	vl_prov_release(&p);
	vl_test_rmdir(dir);
}

static void test_file_command(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_prov p;
	size_t argc;
	(void)state;

	assert_int_equal(vl_prov_parse("file:a /etc/x mode=0600 owner=root", "/p", &p, &err), 0);
	char **argv = vl_prov_command(&p, 3, "h", "u", &env, &argc);
	/* after sh -c SCRIPT $0: index, hash, uuid, dest, mode, owner, group */
	assert_string_equal(argv[argc - 7], "3");
	assert_string_equal(argv[argc - 4], "/etc/x");
	assert_string_equal(argv[argc - 3], "0600");
	assert_string_equal(argv[argc - 2], "root");
	assert_string_equal(argv[argc - 1], "");
	assert_non_null(strstr(argv[argc - 9], "sudo sh -c"));
	vl_prov_argv_free(argv);
	vl_prov_release(&p);
	/* no owner: the lab user */
	assert_int_equal(vl_prov_parse("file:a /home/dev/x", "/p", &p, &err), 0);
	argv = vl_prov_command(&p, 1, "h", "u", &env, &argc);
	assert_string_equal(argv[argc - 2], "dev");
	assert_string_equal(argv[argc - 3], "0644");
	vl_prov_argv_free(argv);
	vl_prov_release(&p);
}

struct got {
	char lines[8][64];
	size_t n;
};

static void on_line(void *ud, const char *line, size_t len)
{
	struct got *g = ud;

	assert_true(g->n < 8);
	snprintf(g->lines[g->n++], 64, "%.*s", (int)len, line);
}

static void test_lines(void **state)
{
	struct vl_lines l;
	struct got g = { .n = 0 };
	(void)state;

	vl_lines_init(&l, on_line, &g);
	vl_lines_feed(&l, "one\ntw", 6);
	vl_lines_feed(&l, "o\nthr", 5);
	vl_lines_feed(&l, "ee\nfour\nfi", 10);
	vl_lines_flush(&l);
	vl_lines_flush(&l);   /* nothing left: nothing more */
	assert_int_equal(g.n, 5);
	assert_string_equal(g.lines[0], "one\n");
	assert_string_equal(g.lines[1], "two\n");
	assert_string_equal(g.lines[2], "three\n");
	assert_string_equal(g.lines[3], "four\n");
	assert_string_equal(g.lines[4], "fi");

	/* a partial line held back goes out when the buffer is full; the rest,
	 * ending in '\n', goes whole without a copy */
	VL_AUTOFREE char *big = vl_calloc(VL_LINE_MAX * 2 + 2, 1);
	struct got g2 = { .n = 0 };
	memset(big, 'x', VL_LINE_MAX * 2 + 1);
	big[VL_LINE_MAX * 2] = '\n';
	vl_lines_init(&l, on_line, &g2);
	vl_lines_feed(&l, "a", 1);
	vl_lines_feed(&l, big, VL_LINE_MAX * 2 + 1);
	vl_lines_flush(&l);
	assert_int_equal(g2.n, 2);
	assert_int_equal(strlen(g2.lines[0]), 63);   /* "a" then x..., cut by the test's copy */
}

static void test_exec_status(void **state)
{
	(void)state;
	assert_int_equal(vl_exec_exit_status((int[]){ 0, 0, 0 }, 3), 0);
	assert_int_equal(vl_exec_exit_status((int[]){ 0, 3, 1 }, 3), 3);
	assert_int_equal(vl_exec_exit_status((int[]){ 0, 255, 1 }, 3), 255);
	assert_int_equal(vl_exec_exit_status((int[]){ 200, -1 }, 2), 255);
	assert_int_equal(vl_exec_exit_status(NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_script),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_done),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_command_runs),
		cmocka_unit_test(test_file_command),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_exec_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
