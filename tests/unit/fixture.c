/* Test helpers: temporary directories and files for tests that need the
 * file system (profile and config loading). Linked into every unit test. */
#include "fixture.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/mem.h"

char *vl_test_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	struct vl_buf b = VL_BUF_INIT;

	vl_buf_printf(&b, "%s/vmlab-test-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(b.s)) {
		perror("mkdtemp");
		abort();
	}
	return vl_buf_steal(&b);
}

char *vl_test_write(const char *dir, const char *rel, const char *text)
{
	struct vl_buf b = VL_BUF_INIT;
	FILE *f;

	vl_buf_printf(&b, "%s/%s", dir, rel);
	for (char *p = b.s + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(b.s, 0755);
		*p = '/';
	}
	f = fopen(b.s, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(b.s);
		abort();
	}
	return vl_buf_steal(&b);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

void vl_test_rmdir(char *dir)
{
	if (dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

char *vl_test_tmp;

int vl_test_tmp_setup(void **state)
{
	(void)state;
	vl_test_tmp = vl_test_tmpdir();
	return 0;
}

int vl_test_tmp_teardown(void **state)
{
	(void)state;
	vl_test_rmdir(vl_test_tmp);
	vl_test_tmp = NULL;
	return 0;
}

char *vl_test_run(char *const argv[], bool with_stderr, int *status)
{
	struct vl_buf out = VL_BUF_INIT;
	char chunk[4096];
	ssize_t n;
	int fds[2], st;
	pid_t pid;

	if (pipe(fds) < 0 || (pid = fork()) < 0) {
		perror("vl_test_run");
		abort();
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		if (with_stderr)
			dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("vl_test_run: read");
			abort();
		}
		vl_buf_appendn(&out, chunk, (size_t)n);
	}
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 255;
	vl_buf_append(&out, "");
	return vl_buf_steal(&out);
}
