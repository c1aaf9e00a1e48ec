/* Test helpers: a temporary directory per test and small files in it. */
#ifndef VL_TEST_FIXTURE_H
#define VL_TEST_FIXTURE_H

#include <stdbool.h>

/* mkdtemp under $TMPDIR (or /tmp); aborts the test binary on failure. */
char *vl_test_tmpdir(void);
/* Write text to dir/rel (creating parent directories); returns the path. */
char *vl_test_write(const char *dir, const char *rel, const char *text);
/* A fresh directory per test for cmocka_unit_test_setup_teardown: the setup
 * makes vl_test_tmp, the teardown removes it. */
extern char *vl_test_tmp;
int vl_test_tmp_setup(void **state);
int vl_test_tmp_teardown(void **state);
/* rm -r dir (no shell), then free it. */
void vl_test_rmdir(char *dir);
/* Run argv (execv, no shell) and return its stdout, with its stderr too when
 * with_stderr (caller frees); *status gets the exit status (255: killed). */
char *vl_test_run(char *const argv[], bool with_stderr, int *status);

#endif
