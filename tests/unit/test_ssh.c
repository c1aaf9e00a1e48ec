/* Integration tests for src/ssh against a real OpenSSH sshd on 127.0.0.1,
 * started here with host and client keys made by vl_ssh_keygen_ed25519 (which
 * proves sshd accepts our key format). Skipped when sshd is not installed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "ssh.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/str.h"

#define SSHD "/usr/sbin/sshd"

static char dir[] = "/tmp/vmlab-test-ssh-XXXXXX";
static char path_buf[8][512];
static pid_t sshd_pid = -1;
static unsigned sshd_port;

static const char *p(int slot, const char *name)
{
	snprintf(path_buf[slot], sizeof(path_buf[slot]), "%s/%s", dir, name);
	return path_buf[slot];
}

static char *slurp(const char *path)
{
	struct vl_buf b = VL_BUF_INIT;
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		vl_buf_appendn(&b, chunk, (size_t)n);
	close(fd);
	vl_buf_append(&b, "");
	return vl_buf_steal(&b);
}

static void spit(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static unsigned free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static int port_open(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* Write an sshd_config for port and start sshd -D after delay_ms (in the
 * child, so the caller can race it). Returns the pid. */
static pid_t start_sshd(unsigned port, unsigned delay_ms, int wait_listen)
{
	char conf[512], log[512];
	struct vl_buf c = VL_BUF_INIT;

	snprintf(conf, sizeof(conf), "%s/sshd_config.%u", dir, port);
	snprintf(log, sizeof(log), "%s/sshd.%u.log", dir, port);
	vl_buf_printf(&c,
		      "Port %u\nListenAddress 127.0.0.1\nHostKey %s/hostkey\n"
		      "AuthorizedKeysFile %s/authorized_keys\nPidFile none\nUsePAM no\n"
		      "StrictModes no\nAllowUsers root\nPermitRootLogin prohibit-password\n"
		      "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
		      "MaxStartups 100\nLogLevel VERBOSE\nSubsystem sftp internal-sftp\n",
		      port, dir, dir);
	spit(conf, c.s, c.len);
	vl_buf_release(&c);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 2);
		if (delay_ms) {
			struct timespec ts = { delay_ms / 1000, (long)(delay_ms % 1000) * 1000000 };
			nanosleep(&ts, NULL);
		}
		char *const argv[] = { (char *)SSHD, (char *)"-D", (char *)"-e", (char *)"-f", conf, NULL };
		execv(SSHD, argv);
		_exit(127);
	}
	for (int i = 0; wait_listen && i < 100 && !port_open(port); i++)
		usleep(50000);
	return pid;
}

static void stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

static int setup(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	(void)state;
	if (access(SSHD, X_OK) != 0)
		return 0; /* tests skip themselves */
	if (!mkdtemp(dir))
		return -1;
	mkdir("/run/sshd", 0755); /* sshd's privilege separation directory */
	if (vl_ssh_keygen_ed25519(p(0, "hostkey"), p(1, "hostkey.pub"), "host@test", &err) < 0 ||
	    vl_ssh_keygen_ed25519(p(0, "id"), p(1, "id.pub"), "vmlab@test", &err) < 0 ||
	    vl_ssh_keygen_ed25519(p(0, "other"), p(1, "other.pub"), NULL, &err) < 0) {
		fprintf(stderr, "keygen: %s\n", err.msg);
		return -1;
	}
	VL_AUTOFREE char *pub = slurp(p(0, "id.pub"));
	spit(p(0, "authorized_keys"), pub, strlen(pub));
	sshd_port = free_port();
	sshd_pid = start_sshd(sshd_port, 0, 1);
	return port_open(sshd_port) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (sshd_pid < 0)
		return 0;
	stop(sshd_pid);
	DIR *d = opendir(dir);
	struct dirent *e;
	char f[600];
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "%s/%s", dir, e->d_name);
		unlink(f);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	return 0;
}

#define SKIP_WITHOUT_SSHD() do { if (sshd_pid < 0) skip(); } while (0)

static struct vl_ssh_target target(void)
{
	return (struct vl_ssh_target){
		.host = "127.0.0.1", .port = sshd_port, .user = "root",
		.identity_path = p(6, "id"), .host_pubkey_path = p(7, "hostkey.pub"),
		.label = "web-1", .connect_timeout = 5,
	};
}

/* Run argv on the test sshd; stdout/stderr into files, returned in out and errout. */
static int run(const struct vl_ssh_target *t, const char *const *argv, size_t argc, int in_fd,
	       char **out, char **errout, struct vl_err *err)
{
	char fo[512], fe[512];
	int status = -1000;
	snprintf(fo, sizeof(fo), "%s/out", dir);
	snprintf(fe, sizeof(fe), "%s/err", dir);
	int ofd = open(fo, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int efd = open(fe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int rc = vl_ssh_exec(t, argv, argc, in_fd, ofd, efd, &status, err);
	close(ofd);
	close(efd);
	if (out)
		*out = slurp(fo);
	if (errout)
		*errout = slurp(fe);
	return rc < 0 ? -1000 : status;
}

/* Run a local program with execv; returns exit status, stdout and stderr in *out. */
static int run_local(char *const argv[], char **out)
{
	int status;

	*out = vl_test_run(argv, true, &status);
	return status;
}

static void test_keygen(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct stat st;
	(void)state;
	SKIP_WITHOUT_SSHD();

	assert_int_equal(stat(p(0, "id"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(p(0, "id.pub"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	VL_AUTOFREE char *priv = NULL;
	assert_int_equal(vl_ssh_private_key_text(p(0, "id"), &priv, &err), 0);
	assert_true(vl_str_startswith(priv, "-----BEGIN OPENSSH PRIVATE KEY-----\n"));
	assert_true(vl_str_endswith(priv, "-----END OPENSSH PRIVATE KEY-----\n"));

	VL_AUTOFREE char *line = NULL, *derived = NULL, *fp = NULL, *fp2 = NULL;
	assert_int_equal(vl_ssh_pubkey_line(p(0, "id.pub"), &line, &err), 0);
	assert_true(vl_str_startswith(line, "ssh-ed25519 AAAA"));
	assert_true(vl_str_endswith(line, " vmlab@test"));
	assert_int_equal(vl_ssh_pubkey_line(p(0, "id"), &derived, &err), 0);
	assert_true(vl_str_startswith(line, derived));
	assert_int_equal(vl_ssh_fingerprint(p(0, "id.pub"), &fp, &err), 0);
	assert_int_equal(vl_ssh_fingerprint(line, &fp2, &err), 0);
	assert_string_equal(fp, fp2);
	assert_true(vl_str_startswith(fp, "SHA256:"));

	/* OpenSSH agrees on the key and its fingerprint, from both files */
	VL_AUTOFREE char *out1 = NULL, *out2 = NULL;
	char *const kg1[] = { (char *)"/usr/bin/ssh-keygen", (char *)"-l", (char *)"-f",
			      (char *)p(1, "id"), NULL };
	assert_int_equal(run_local(kg1, &out1), 0);
	assert_non_null(strstr(out1, fp));
	assert_non_null(strstr(out1, "(ED25519)"));
	char *const kg2[] = { (char *)"/usr/bin/ssh-keygen", (char *)"-y", (char *)"-f",
			      (char *)p(1, "id"), NULL };
	assert_int_equal(run_local(kg2, &out2), 0);
	assert_true(vl_str_startswith(out2, derived));

	/* dropbear (the small test image's sshd) converts it */
	if (access("/usr/bin/dropbearconvert", X_OK) == 0) {
		VL_AUTOFREE char *out3 = NULL;
		char *const dc[] = { (char *)"/usr/bin/dropbearconvert", (char *)"openssh",
				     (char *)"dropbear", (char *)p(1, "hostkey"),
				     (char *)p(2, "hostkey.dropbear"), NULL };
		assert_int_equal(run_local(dc, &out3), 0);
		unlink(p(2, "hostkey.dropbear"));
	}

	/* never replaces a key; no temp file left behind */
	assert_int_equal(vl_ssh_keygen_ed25519(p(0, "id"), p(1, "id2.pub"), NULL, &err), -1);
	assert_int_equal(err.code, VL_E_EXISTS);
	assert_int_equal(access(p(1, "id2.pub"), F_OK), -1);
	DIR *d = opendir(dir);
	struct dirent *e;
	while ((e = readdir(d)))
		assert_null(strstr(e->d_name, ".tmp."));
	closedir(d);
}

static void test_exit_status(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_ssh_target t = target();
	const char *const argv[] = { "sh", "-c", "exit 3" };
	(void)state;
	SKIP_WITHOUT_SSHD();
	assert_int_equal(run(&t, argv, 3, -1, NULL, NULL, &err), 3);
	const char *const ok[] = { "true" };
	assert_int_equal(run(&t, ok, 1, -1, NULL, NULL, &err), 0);
	assert_int_equal(err.code, VL_OK);
}

static void test_signal_status(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_ssh_target t = target();
	const char *const argv[] = { "sh", "-c", "kill -TERM $$" };
	(void)state;
	SKIP_WITHOUT_SSHD();
	assert_int_equal(run(&t, argv, 3, -1, NULL, NULL, &err), 128 + SIGTERM);
	assert_int_equal(err.code, VL_E_REMOTE);
	assert_non_null(strstr(err.msg, "SIGTERM"));
}

static void test_separate_streams(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_ssh_target t = target();
	const char *const argv[] = { "sh", "-c", "echo out; echo err >&2; echo out2" };
	VL_AUTOFREE char *out = NULL, *eout = NULL;
	(void)state;
	SKIP_WITHOUT_SSHD();
	assert_int_equal(run(&t, argv, 3, -1, &out, &eout, &err), 0);
	assert_string_equal(out, "out\nout2\n");
	assert_string_equal(eout, "err\n");
}

static void test_argv_exact(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_ssh_target t = target();
	const char *const argv[] = { "printf", "%s\\n", "a b", "c'd", "$HOME", "", "x\ny",
				     "back\\slash", "*" };
	const char *const shc[] = { "sh", "-c", "echo one && echo two" };
	VL_AUTOFREE char *out = NULL, *out2 = NULL;
	(void)state;
	SKIP_WITHOUT_SSHD();
	assert_int_equal(run(&t, argv, VL_ARRAY_SIZE(argv), -1, &out, NULL, &err), 0);
	assert_string_equal(out, "a b\nc'd\n$HOME\n\nx\ny\nback\\slash\n*\n");
	assert_int_equal(run(&t, shc, 3, -1, &out2, NULL, &err), 0);
	assert_string_equal(out2, "one\ntwo\n");
}

static void test_large_output(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_ssh_target t = target();
	const char *const argv[] = { "seq", "1", "1500000" };
	VL_AUTOFREE char *out = NULL;
	struct vl_buf want = VL_BUF_INIT;
	(void)state;
	SKIP_WITHOUT_SSHD();
	assert_int_equal(run(&t, argv, 3, -1, &out, NULL, &err), 0);
	for (int i = 1; i <= 1500000; i++)
		vl_buf_printf(&want, "%d\n", i);
	assert_true(want.len > 10000000);
	assert_int_equal(strlen(out), want.len);
	assert_true(strcmp(out, want.s) == 0);
	vl_buf_release(&want);
}

static void test_stdin(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_ssh_target t = target();
	const char *const cat[] = { "cat" };
	const char *const script[] = { "sh", "-s", "--", "arg one" };
	VL_AUTOFREE char *out = NULL, *out2 = NULL, *eout = NULL;
	struct vl_buf data = VL_BUF_INIT;
	(void)state;
	SKIP_WITHOUT_SSHD();

	/* 6 MB each way at once: input flow-controlled by the window, no deadlock */
	for (int i = 0; data.len < 6000000; i++)
		vl_buf_printf(&data, "line %d of the input\n", i);
	spit(p(2, "in"), data.s, data.len);
	int in = open(p(2, "in"), O_RDONLY);
	assert_int_equal(run(&t, cat, 1, in, &out, NULL, &err), 0);
	close(in);
	assert_int_equal(strlen(out), data.len);
	assert_true(strcmp(out, data.s) == 0);
	vl_buf_release(&data);

	/* provisioning's way: a script through stdin to `sh -s` */
	const char sh[] = "echo \"got $1\"\necho warn >&2\nexit 7\n";
	spit(p(2, "script"), sh, strlen(sh));
	in = open(p(2, "script"), O_RDONLY);
	assert_int_equal(run(&t, script, 4, in, &out2, &eout, &err), 7);
	close(in);
	assert_string_equal(out2, "got arg one\n");
	assert_string_equal(eout, "warn\n");
}

static void test_session_reuse(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_ssh_target t = target();
	struct vl_ssh *s = NULL;
	int status = -1;
	const char *const a[] = { "sh", "-c", "exit 5" };
	const char *const b[] = { "true" };
	(void)state;
	SKIP_WITHOUT_SSHD();
	assert_int_equal(vl_ssh_connect(&t, &s, &err), 0);
	assert_int_equal(vl_ssh_run(s, a, 3, -1, -1, -1, &status, &err), 0);
	assert_int_equal(status, 5);
	assert_int_equal(vl_ssh_run(s, b, 1, -1, -1, -1, &status, &err), 0);
	assert_int_equal(status, 0);
	vl_ssh_free(s);

	/* the pinned key given as a line instead of a file */
	VL_AUTOFREE char *line = slurp(p(0, "hostkey.pub"));
	t.host_pubkey_path = NULL;
	t.host_pubkey = line;
	assert_int_equal(run(&t, b, 1, -1, NULL, NULL, &err), 0);
}

static void test_wrong_host_key(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_ssh_target t = target();
	VL_AUTOFREE char *want = NULL, *got = NULL;
	const char *const argv[] = { "touch", p(3, "ran") };
	(void)state;
	SKIP_WITHOUT_SSHD();

	t.host_pubkey_path = p(4, "other.pub");
	assert_int_equal(run(&t, argv, 2, -1, NULL, NULL, &err), -1000);
	assert_int_equal(err.code, VL_E_SSH);
	assert_int_equal(vl_ssh_fingerprint(p(4, "other.pub"), &want, &err), 0);
	assert_int_equal(vl_ssh_fingerprint(p(5, "hostkey.pub"), &got, &err), 0);
	char expect[600];
	snprintf(expect, sizeof(expect),
		 "host key for web-1 (127.0.0.1:%u) does not match the key vmlab injected: "
		 "expected %s, got %s; refusing to connect", sshd_port, want, got);
	struct vl_err err2 = VL_ERR_INIT;
	assert_int_equal(run(&t, argv, 2, -1, NULL, NULL, &err2), -1000);
	assert_string_equal(err2.msg, expect);
	assert_int_equal(access(p(3, "ran"), F_OK), -1);

	/* wait_ready does not retry a mismatch */
	double t0 = vl_now_mono();
	assert_int_equal(vl_ssh_wait_ready(&t, 20, NULL, &err), -1);
	assert_int_equal(err.code, VL_E_SSH);
	assert_true(vl_now_mono() - t0 < 3);

	/* nor an unknown client key: that one is retried (user not there yet) */
	t = target();
	t.identity_path = p(4, "other");
	assert_int_equal(vl_ssh_wait_ready(&t, 2, NULL, &err), -1);
	assert_int_equal(err.code, VL_E_TIMEOUT);
	assert_non_null(strstr(err.msg, "key not accepted"));
}

static size_t open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

/* A guest behind its libvirt host: the inner session rides a direct-tcpip
 * channel of a session to the host's sshd (here the same sshd), whose key
 * is looked up in a known_hosts file. */
static void test_jump(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_ssh_target t = target(), j = target();
	VL_AUTOFREE char *hostpub = slurp(p(0, "hostkey.pub"));
	VL_AUTOFREE char *otherpub = slurp(p(1, "other.pub"));
	VL_AUTOFREE char *out = NULL;
	struct vl_buf kh = VL_BUF_INIT;
	char khpath[512], cmd[128];
	size_t fds;
	(void)state;
	SKIP_WITHOUT_SSHD();

	snprintf(khpath, sizeof(khpath), "%s/known_hosts", dir);
	vl_buf_printf(&kh, "[127.0.0.1]:%u %s", sshd_port, hostpub);
	spit(khpath, kh.s, kh.len);
	j.host_pubkey_path = NULL;
	j.known_hosts_path = khpath;
	j.label = NULL;
	t.jump = &j;
	fds = open_fds();
	/* a megabyte each way through the pump */
	snprintf(cmd, sizeof(cmd), "wc -c; head -c 1048576 /dev/zero | wc -c");
	const char *const argv[] = { "sh", "-c", cmd };
	char inpath[512];
	snprintf(inpath, sizeof(inpath), "%s/mib", dir);
	VL_AUTOFREE char *mib = vl_calloc(1, 1048576);
	spit(inpath, mib, 1048576);
	int in = open(inpath, O_RDONLY);
	int jrc = run(&t, argv, 3, in, &out, NULL, &err);
	if (jrc != 0)
		fprintf(stderr, "jump: %s\n", err.msg);
	assert_int_equal(jrc, 0);
	close(in);
	assert_string_equal(out, "1048576\n1048576\n");
	const char *const ex[] = { "sh", "-c", "exit 7" };
	for (int i = 0; i < 3; i++)
		assert_int_equal(run(&t, ex, 3, -1, NULL, NULL, &err), 7);
	assert_int_equal(open_fds(), fds);

	/* the guest's port closed: the channel is refused, and retried */
	t.port = free_port();
	assert_int_equal(vl_ssh_wait_ready(&t, 1, NULL, &err), -1);
	assert_int_equal(err.code, VL_E_TIMEOUT);
	assert_non_null(strstr(err.msg, "did not open a channel"));
	t.port = sshd_port;

	/* the jump host missing from known_hosts, or with another key: refused
	 * at once, never added */
	spit(khpath, "", 0);
	double t0 = vl_now_mono();
	assert_int_equal(vl_ssh_wait_ready(&t, 20, NULL, &err), -1);
	assert_true(vl_now_mono() - t0 < 3);
	assert_non_null(strstr(err.msg, "is not in"));
	assert_non_null(strstr(err.msg, "refusing to connect"));
	VL_AUTOFREE char *still = slurp(khpath);
	assert_string_equal(still, "");
	vl_buf_truncate(&kh, 0);
	vl_buf_printf(&kh, "[127.0.0.1]:%u %s", sshd_port, otherpub);
	spit(khpath, kh.s, kh.len);
	assert_int_equal(vl_ssh_wait_ready(&t, 20, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "does not match"));
	vl_buf_release(&kh);
}

struct jump_job {
	struct vl_ssh_target t;
	int status;
};

static void *jump_worker(void *ud)
{
	struct jump_job *j = ud;
	struct vl_err err = VL_ERR_INIT;
	const char *const argv[] = { "sh", "-c", "head -c 300000 /dev/zero; exit 6" };

	for (int i = 0; i < 3; i++)
		if (vl_ssh_exec(&j->t, argv, 3, -1, -1, -1, &j->status, &err) < 0)
			j->status = -1;
	return NULL;
}

/* Sessions through jumps in several threads at once (class exec --all). */
static void test_jump_parallel(void **state)
{
	struct vl_ssh_target j = target();
	struct jump_job jobs[4];
	pthread_t th[4];
	char khpath[512];
	struct vl_buf kh = VL_BUF_INIT;
	VL_AUTOFREE char *hostpub = slurp(p(0, "hostkey.pub"));
	(void)state;
	SKIP_WITHOUT_SSHD();

	snprintf(khpath, sizeof(khpath), "%s/known_hosts", dir);
	vl_buf_printf(&kh, "[127.0.0.1]:%u %s", sshd_port, hostpub);
	spit(khpath, kh.s, kh.len);
	vl_buf_release(&kh);
	j.host_pubkey_path = NULL;
	j.known_hosts_path = khpath;
	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct jump_job){ .t = target(), .status = -2 };
		jobs[i].t.jump = &j;
		assert_int_equal(pthread_create(&th[i], NULL, jump_worker, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(jobs[i].status, 6);
	}
}

static void test_wait_ready(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_ssh_target t = target();
	(void)state;
	SKIP_WITHOUT_SSHD();

	/* nothing listens: times out within the given time */
	t.port = free_port();
	double t0 = vl_now_mono();
	assert_int_equal(vl_ssh_wait_ready(&t, 2, NULL, &err), -1);
	double took = vl_now_mono() - t0;
	assert_int_equal(err.code, VL_E_TIMEOUT);
	assert_true(took >= 1.9 && took < 3.0);

	/* sshd comes up 1.5 s later: ready soon after */
	pid_t late = start_sshd(t.port, 1500, 0);
	t0 = vl_now_mono();
	assert_int_equal(vl_ssh_wait_ready(&t, 15, NULL, &err), 0);
	took = vl_now_mono() - t0;
	stop(late);
	assert_true(took >= 1.4 && took < 5.0);
}

/* vmlab cp's transfers (ssh_copy.c) against sshd on this machine: the
 * "remote" side is a directory here, so both ends can be checked. */
static void mkfile(const char *path, size_t size, mode_t mode, time_t mtime)
{
	char *data = vl_malloc(size ? size : 1);
	for (size_t i = 0; i < size; i++)
		data[i] = (char)((i * 7919u) >> 3);
	spit(path, data, size);
	free(data);
	assert_int_equal(chmod(path, mode), 0);
	struct timespec ts[2] = { { .tv_sec = mtime }, { .tv_sec = mtime } };
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void same_file(const char *a, const char *b, mode_t mode, time_t mtime)
{
	struct stat sa, sb;
	char *const argv[] = { (char *)"/usr/bin/cmp", (char *)a, (char *)b, NULL };
	VL_AUTOFREE char *out = NULL;
	assert_int_equal(run_local(argv, &out), 0);
	assert_int_equal(stat(a, &sa), 0);
	assert_int_equal(stat(b, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, mode);
	assert_int_equal(sa.st_size, sb.st_size);
	assert_int_equal((long)sb.st_mtime, (long)mtime);
}

static bool has_temp(const char *d)
{
	DIR *dd = opendir(d);
	struct dirent *e;
	bool found = false;
	assert_non_null(dd);
	while ((e = readdir(dd)))
		if (strstr(e->d_name, "vmlab-cp"))
			found = true;
	closedir(dd);
	return found;
}

static void test_copy(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_ssh_target t = target();
	struct vl_ssh_xfer x = { .subject = "web-1" };
	struct vl_ssh *s = NULL;
	char top[512], src[600], rem[600], down[600], a[800], b[800], lnk[800];
	char kinds[3];
	bool tar = false;
	(void)state;
	SKIP_WITHOUT_SSHD();

	snprintf(top, sizeof(top), "%s/cp", dir);
	snprintf(src, sizeof(src), "%s/tree", top);
	snprintf(rem, sizeof(rem), "%s/remote", top);
	snprintf(down, sizeof(down), "%s/down", top);
	assert_int_equal(mkdir(top, 0700), 0);
	assert_int_equal(mkdir(src, 0750), 0);
	assert_int_equal(mkdir(rem, 0700), 0);
	assert_int_equal(mkdir(down, 0700), 0);
	snprintf(a, sizeof(a), "%s/sub", src);
	assert_int_equal(mkdir(a, 0711), 0);
	snprintf(a, sizeof(a), "%s/a.txt", src);
	mkfile(a, 5, 0640, 1000000000);
	/* over OpenSSH's 256 KiB message limit and not a multiple of a request */
	snprintf(a, sizeof(a), "%s/sub/big.bin", src);
	mkfile(a, 3 * 1024 * 1024 + 4321, 0755, 1100000000);
	snprintf(a, sizeof(a), "%s/sub/.hidden", src);
	mkfile(a, 0, 0600, 1200000000);
	snprintf(lnk, sizeof(lnk), "%s/link", src);
	assert_int_equal(symlink("a.txt", lnk), 0);

	assert_int_equal(vl_ssh_connect(&t, &s, &err), 0);
	snprintf(a, sizeof(a), "%s/tree", rem);
	const char *probe[] = { rem, a, lnk };
	unsigned long long sizes[3];
	assert_int_equal(vl_ssh_probe(s, &x, probe, 3, kinds, sizes, &tar, &err), 0);
	assert_memory_equal(kinds, "dnl", 3);
	assert_true(tar);

	/* upload a tree as one tar stream, then again (merged into itself) */
	struct vl_ssh_put_item item = { src, "tree" };
	for (int round = 0; round < 2; round++) {
		assert_int_equal(vl_ssh_put_tar(s, &x, rem, &item, 1, &err), 0);
		snprintf(a, sizeof(a), "%s/a.txt", src);
		snprintf(b, sizeof(b), "%s/tree/a.txt", rem);
		same_file(a, b, 0640, 1000000000);
		snprintf(a, sizeof(a), "%s/sub/big.bin", src);
		snprintf(b, sizeof(b), "%s/tree/sub/big.bin", rem);
		same_file(a, b, 0755, 1100000000);
		snprintf(b, sizeof(b), "%s/tree/link", rem);
		char target_buf[64] = "";
		assert_int_equal(readlink(b, target_buf, sizeof(target_buf) - 1), 5);
		assert_string_equal(target_buf, "a.txt");
		struct stat st;
		snprintf(b, sizeof(b), "%s/tree/sub", rem);
		assert_int_equal(stat(b, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0711);
		snprintf(b, sizeof(b), "%s/tree/sub/.hidden", rem);
		assert_int_equal(stat(b, &st), 0);
		assert_false(has_temp(rem));
		snprintf(b, sizeof(b), "%s/tree", rem);
		assert_false(has_temp(b));
	}

	/* a missing target directory: one line, nothing left */
	snprintf(b, sizeof(b), "%s/nowhere", rem);
	assert_int_equal(vl_ssh_put_tar(s, &x, b, &item, 1, &err), -1);
	assert_null(strchr(err.msg, '\n'));
	assert_non_null(strstr(err.msg, "nowhere"));

	/* pipelined SFTP read of the big file: into place, and to a pipe */
	snprintf(a, sizeof(a), "%s/sub/big.bin", src);
	snprintf(b, sizeof(b), "%s/tree/sub/big.bin", rem);
	assert_int_equal(vl_ssh_get_sftp(s, &x, b, -1, down, "big2", &err), 0);
	snprintf(lnk, sizeof(lnk), "%s/big2", down);
	same_file(a, lnk, 0755, 1100000000);
	snprintf(lnk, sizeof(lnk), "%s/big3", down);
	int fd = open(lnk, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_int_equal(vl_ssh_get_sftp(s, &x, b, fd, NULL, NULL, &err), 0);
	close(fd);
	struct timespec ts[2] = { { .tv_sec = 1100000000 }, { .tv_sec = 1100000000 } };
	utimensat(AT_FDCWD, lnk, ts, 0);
	same_file(a, lnk, 0755, 1100000000);
	snprintf(b, sizeof(b), "%s/tree/none", rem);
	assert_int_equal(vl_ssh_get_sftp(s, &x, b, -1, down, "none", &err), -1);
	assert_non_null(strstr(err.msg, "no such file"));
	assert_false(has_temp(down));

	/* the tree back through tar, under another name */
	snprintf(b, sizeof(b), "%s/tree", rem);
	assert_int_equal(vl_ssh_get_tar(s, &x, b, down, "tree2", &err), 0);
	snprintf(lnk, sizeof(lnk), "%s/tree2/sub/big.bin", down);
	same_file(a, lnk, 0755, 1100000000);
	snprintf(a, sizeof(a), "%s/a.txt", src);
	snprintf(lnk, sizeof(lnk), "%s/tree2/a.txt", down);
	same_file(a, lnk, 0640, 1000000000);
	snprintf(lnk, sizeof(lnk), "%s/tree2/link", down);
	char tb[64] = "";
	assert_int_equal(readlink(lnk, tb, sizeof(tb) - 1), 5);
	assert_false(has_temp(down));
	snprintf(b, sizeof(b), "%s/tree/none", rem);
	assert_int_equal(vl_ssh_get_tar(s, &x, b, down, "none", &err), -1);
	assert_null(strchr(err.msg, '\n'));
	assert_false(has_temp(down));

	/* the SFTP upload (guests without tar) */
	assert_int_equal(vl_ssh_put_sftp(s, &x, a, rem, "viasftp", &err), 0);
	snprintf(b, sizeof(b), "%s/viasftp", rem);
	same_file(a, b, 0640, 1000000000);
	assert_false(has_temp(rem));

	vl_ssh_free(s);
	char *const rm[] = { (char *)"/bin/rm", (char *)"-rf", top, NULL };
	VL_AUTOFREE char *out = NULL;
	assert_int_equal(run_local(rm, &out), 0);
}

/* cp through a runner (the held session's way in): every script goes by the
 * runner's fds, here a connection of its own per command. */
static int exec_runner(void *ud, const char *const *argv, size_t argc, int in_fd, int out_fd,
		       int err_fd, int *status, struct vl_err *err)
{
	return vl_ssh_exec(ud, argv, argc, in_fd, out_fd, err_fd, status, err);
}

static void test_copy_via(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_ssh_target t = target();
	struct vl_ssh_xfer x = { .subject = "web-1" };
	const struct vl_ssh_runner r = { exec_runner, &t };
	char top[512], src[600], rem[600], down[600], a[800], b[800], lnk[800];
	char kinds[2];
	bool tar = false;
	(void)state;
	SKIP_WITHOUT_SSHD();

	snprintf(top, sizeof(top), "%s/cpvia", dir);
	snprintf(src, sizeof(src), "%s/tree", top);
	snprintf(rem, sizeof(rem), "%s/remote", top);
	snprintf(down, sizeof(down), "%s/down", top);
	assert_int_equal(mkdir(top, 0700), 0);
	assert_int_equal(mkdir(src, 0750), 0);
	assert_int_equal(mkdir(rem, 0700), 0);
	assert_int_equal(mkdir(down, 0700), 0);
	snprintf(a, sizeof(a), "%s/a.txt", src);
	mkfile(a, 5, 0640, 1000000000);
	/* more than a pipe holds, so the stream waits on the runner */
	snprintf(a, sizeof(a), "%s/big.bin", src);
	mkfile(a, 1024 * 1024 + 77, 0755, 1100000000);
	snprintf(lnk, sizeof(lnk), "%s/link", src);
	assert_int_equal(symlink("a.txt", lnk), 0);

	struct vl_ssh *s = vl_ssh_via(&r, "web-1", NULL);
	assert_false(vl_ssh_has_sftp(s));
	snprintf(b, sizeof(b), "%s/tree", rem);
	const char *probe[] = { rem, b };
	assert_int_equal(vl_ssh_probe(s, &x, probe, 2, kinds, NULL, &tar, &err), 0);
	assert_memory_equal(kinds, "dn", 2);
	assert_true(tar);

	struct vl_ssh_put_item item = { src, "tree" };
	assert_int_equal(vl_ssh_put_tar(s, &x, rem, &item, 1, &err), 0);
	snprintf(b, sizeof(b), "%s/tree/big.bin", rem);
	same_file(a, b, 0755, 1100000000);
	snprintf(b, sizeof(b), "%s/tree/link", rem);
	char tb[64] = "";
	assert_int_equal(readlink(b, tb, sizeof(tb) - 1), 5);
	assert_false(has_temp(rem));

	/* the remote side's reason, one line, nothing left */
	snprintf(b, sizeof(b), "%s/nowhere", rem);
	assert_int_equal(vl_ssh_put_tar(s, &x, b, &item, 1, &err), -1);
	assert_null(strchr(err.msg, '\n'));
	assert_non_null(strstr(err.msg, "nowhere"));

	snprintf(b, sizeof(b), "%s/tree", rem);
	assert_int_equal(vl_ssh_get_tar(s, &x, b, down, "tree2", &err), 0);
	snprintf(lnk, sizeof(lnk), "%s/tree2/big.bin", down);
	same_file(a, lnk, 0755, 1100000000);
	assert_false(has_temp(down));
	snprintf(b, sizeof(b), "%s/tree/none", rem);
	assert_int_equal(vl_ssh_get_tar(s, &x, b, down, "none", &err), -1);
	assert_null(strchr(err.msg, '\n'));
	assert_false(has_temp(down));

	/* cat to a file, and no SFTP without a session */
	snprintf(b, sizeof(b), "%s/tree/big.bin", rem);
	snprintf(lnk, sizeof(lnk), "%s/big3", down);
	int fd = open(lnk, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_int_equal(vl_ssh_get_cat(s, &x, b, fd, &err), 0);
	close(fd);
	struct timespec ts[2] = { { .tv_sec = 1100000000 }, { .tv_sec = 1100000000 } };
	utimensat(AT_FDCWD, lnk, ts, 0);
	same_file(a, lnk, 0755, 1100000000);
	/* a regular file with its mode and mtime, unseen until complete */
	assert_int_equal(vl_ssh_get_file(s, &x, b, 0, down, "big4", &err), 0);
	snprintf(lnk, sizeof(lnk), "%s/big4", down);
	same_file(a, lnk, 0755, 1100000000);
	snprintf(b, sizeof(b), "%s/tree/none", rem);
	assert_int_equal(vl_ssh_get_file(s, &x, b, 0, down, "none", &err), -1);
	assert_null(strchr(err.msg, '\n'));
	assert_non_null(strstr(err.msg, "none"));
	snprintf(lnk, sizeof(lnk), "%s/none", down);
	assert_int_equal(access(lnk, F_OK), -1);
	assert_false(has_temp(down));
	assert_int_equal(vl_ssh_put_sftp(s, &x, a, rem, "viasftp", &err), -1);
	assert_non_null(strstr(err.msg, "SFTP"));

	vl_ssh_free(s);
	char *const rm[] = { (char *)"/bin/rm", (char *)"-rf", top, NULL };
	VL_AUTOFREE char *out = NULL;
	assert_int_equal(run_local(rm, &out), 0);
}

/* Hubs: many channels on one session --------------------------------------- */

/* An echo server on 127.0.0.1 for direct-tcpip: each connection gets back
 * what it sent, then EOF. */
struct echo {
	int fd;
	unsigned port;
	pthread_t th;
};

static void *echo_conn(void *arg)
{
	int c = (int)(intptr_t)arg;
	char buf[16384];
	ssize_t n;

	while ((n = read(c, buf, sizeof(buf))) > 0)
		if (write(c, buf, (size_t)n) != n)
			break;
	close(c);
	return NULL;
}

static void *echo_main(void *arg)
{
	struct echo *e = arg;
	int c;

	while ((c = accept(e->fd, NULL, NULL)) >= 0) {
		pthread_t t;
		pthread_create(&t, NULL, echo_conn, (void *)(intptr_t)c);
		pthread_detach(t);
	}
	return NULL;
}

static void echo_start(struct echo *e)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	e->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(e->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(e->fd, 128), 0);
	getsockname(e->fd, (struct sockaddr *)&sa, &len);
	e->port = ntohs(sa.sin_port);
	pthread_create(&e->th, NULL, echo_main, e);
}

static void echo_stop(struct echo *e)
{
	shutdown(e->fd, SHUT_RDWR);
	pthread_join(e->th, NULL);
	close(e->fd);
}

/* Drive the hub until cond(ud) or 20 s; also pump the test's ends. */
static void hub_run(struct vl_ssh_hub *h, bool (*cond)(void *), void *ud)
{
	int64_t deadline = vl_now_mono_ms() + 20000;
	struct pollfd pfd[256];

	while (!cond(ud)) {
		struct vl_err err = VL_ERR_INIT;
		assert_true(vl_now_mono_ms() < deadline);
		size_t n = vl_ssh_hub_pollfds(h, pfd, 256);
		poll(pfd, n, 20);
		assert_true(vl_ssh_hub_step(h, pfd, n, &err) >= 0);
	}
}

static bool no_channels(void *ud)
{
	return vl_ssh_hub_channels(ud) == 0;
}

struct done_info {
	bool done;
	int status;
	char msg[1100];
};

static void on_done(void *ud, int status, const struct vl_err *e)
{
	struct done_info *d = ud;

	d->done = true;
	d->status = status;
	snprintf(d->msg, sizeof(d->msg), "%s", e ? e->msg : "");
}

static bool is_done(void *ud)
{
	return ((struct done_info *)ud)->done;
}

static void test_hub_forwards(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_ssh_target t = target();
	struct vl_ssh *s = NULL;
	struct vl_ssh_hub *h;
	struct echo e;
	int ends[20];
	(void)state;
	SKIP_WITHOUT_SSHD();
	echo_start(&e);
	assert_int_equal(vl_ssh_connect(&t, &s, &err), 0);
	h = vl_ssh_hub_new(s);
	/* 20 connections at once, each its own words back */
	for (int i = 0; i < 20; i++) {
		int sp[2];
		char msg[32];
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
		assert_int_equal(vl_ssh_hub_forward(h, sp[0], e.port, &err), 0);
		snprintf(msg, sizeof(msg), "hello %d\n", i);
		assert_int_equal(write(sp[1], msg, strlen(msg)), (ssize_t)strlen(msg));
		shutdown(sp[1], SHUT_WR);
		ends[i] = sp[1];
	}
	assert_int_equal(vl_ssh_hub_channels(h), 20);
	hub_run(h, no_channels, h);
	for (int i = 0; i < 20; i++) {
		char got[64] = "", want[32];
		ssize_t n = read(ends[i], got, sizeof(got) - 1);
		snprintf(want, sizeof(want), "hello %d\n", i);
		assert_true(n > 0);
		assert_string_equal(got, want);
		assert_int_equal(read(ends[i], got, sizeof(got)), 0);   /* then EOF */
		close(ends[i]);
	}

	/* 4 MiB both ways through one connection: the window, not memory, paces it */
	int sp[2];
	size_t total = 4u << 20, sent = 0, got = 0;
	static char chunk[65536], back[65536];
	memset(chunk, 'x', sizeof(chunk));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(vl_ssh_hub_forward(h, sp[0], e.port, &err), 0);
	int64_t deadline = vl_now_mono_ms() + 30000;
	while (got < total) {
		struct pollfd pfd[256];
		assert_true(vl_now_mono_ms() < deadline);
		size_t n = vl_ssh_hub_pollfds(h, pfd, 254);
		pfd[n++] = (struct pollfd){ .fd = sp[1], .events = POLLIN | (sent < total ? POLLOUT : 0) };
		poll(pfd, n, 20);
		assert_true(vl_ssh_hub_step(h, pfd, n - 1, &err) >= 0);
		if (sent < total) {
			ssize_t w = send(sp[1], chunk, total - sent < sizeof(chunk) ? total - sent :
					 sizeof(chunk), MSG_DONTWAIT);
			if (w > 0 && (sent += (size_t)w) == total)
				shutdown(sp[1], SHUT_WR);
		}
		ssize_t r = recv(sp[1], back, sizeof(back), MSG_DONTWAIT);
		if (r > 0)
			got += (size_t)r;
	}
	assert_int_equal(got, total);
	close(sp[1]);
	hub_run(h, no_channels, h);

	/* nothing listens there: the open fails, the caller keeps the socket */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(vl_ssh_hub_forward(h, sp[0], free_port(), &err), -1);
	assert_non_null(strstr(err.msg, "forwarding to port"));
	assert_int_equal(err.code, VL_E_FAIL);   /* refused: the session is fine */
	assert_int_equal(fcntl(sp[0], F_GETFD), FD_CLOEXEC);   /* still open */
	close(sp[0]);
	close(sp[1]);
	/* ... and still carries connections */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(vl_ssh_hub_forward(h, sp[0], e.port, &err), 0);
	assert_int_equal(write(sp[1], "again\n", 6), 6);
	shutdown(sp[1], SHUT_WR);
	hub_run(h, no_channels, h);
	char again[16] = "";
	assert_int_equal(read(sp[1], again, sizeof(again)), 6);
	assert_string_equal(again, "again\n");
	close(sp[1]);
	vl_ssh_hub_free(h);
	echo_stop(&e);
}

static void test_hub_exec(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_ssh_target t = target();
	struct vl_ssh *s = NULL;
	struct vl_ssh_hub *h;
	struct done_info d = { 0 }, d2 = { 0 };
	const char *const a[] = { "sh", "-c", "echo out; echo err >&2; exit 3" };
	const char *const b[] = { "sh", "-c", "kill -TERM $$" };
	int po[2], pe[2];
	char buf[64] = "";
	(void)state;
	SKIP_WITHOUT_SSHD();
	assert_int_equal(vl_ssh_connect(&t, &s, &err), 0);
	h = vl_ssh_hub_new(s);
	assert_int_equal(pipe(po), 0);
	assert_int_equal(pipe(pe), 0);
	assert_int_equal(vl_ssh_hub_exec(h, a, 3, -1, po[1], pe[1], -1, on_done, &d, &err), 0);
	hub_run(h, is_done, &d);
	assert_int_equal(d.status, 3);
	assert_string_equal(d.msg, "");
	assert_int_equal(read(po[0], buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "out\n", 4);
	assert_int_equal(read(pe[0], buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "err\n", 4);
	/* output closed long before the exit status (as dropbear orders it) */
	struct done_info d4 = { 0 };
	const char *const e4[] = { "sh", "-c", "exec >&- 2>&-; sleep 0.5; exit 4" };
	assert_int_equal(vl_ssh_hub_exec(h, e4, 3, -1, -1, -1, -1, on_done, &d4, &err), 0);
	hub_run(h, is_done, &d4);
	assert_int_equal(d4.status, 4);
	/* killed by a signal: 128+N and a message naming it */
	assert_int_equal(vl_ssh_hub_exec(h, b, 3, -1, -1, -1, -1, on_done, &d2, &err), 0);
	hub_run(h, is_done, &d2);
	assert_int_equal(d2.status, 128 + SIGTERM);
	assert_non_null(strstr(d2.msg, "SIGTERM"));
	/* a command still running when the hub ends is reported, not lost */
	struct done_info d3 = { 0 };
	const char *const c[] = { "sleep", "30" };
	assert_int_equal(vl_ssh_hub_exec(h, c, 2, -1, -1, -1, -1, on_done, &d3, &err), 0);
	vl_ssh_hub_free(h);
	assert_true(d3.done);
	assert_non_null(strstr(d3.msg, "the session ended"));
	for (int i = 0; i < 2; i++) {
		close(po[i]);
		close(pe[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keygen),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_signal_status),
		cmocka_unit_test(test_separate_streams),
		cmocka_unit_test(test_argv_exact),
		cmocka_unit_test(test_large_output),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_session_reuse),
		cmocka_unit_test(test_wrong_host_key),
		cmocka_unit_test(test_wait_ready),
		cmocka_unit_test(test_jump),
		cmocka_unit_test(test_jump_parallel),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_copy_via),
		cmocka_unit_test(test_hub_forwards),
		cmocka_unit_test(test_hub_exec),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
