/* sudo.c: a tiny setuid stand-in for sudo in the minimal test image (no sudoers, no password).
 * Members of group "sudo" (and root) may run a command as root or as -u USER.
 * Accepted: sudo [-n] [-E] [-H] [-S] [-i | -s] [-u USER] [--] [COMMAND [ARG...]]
 * -n, -E, -S, -H are accepted and ignored (the environment is kept; PATH is set to Debian's
 * secure_path and HOME/USER/LOGNAME to the target user's). */
#define _GNU_SOURCE
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int in_sudo_group(void)
{
	struct group *g = getgrnam("sudo");
	gid_t groups[256];
	int n, i;

	if (g == NULL)
		return 0;
	n = getgroups(256, groups);
	for (i = 0; i < n; i++)
		if (groups[i] == g->gr_gid)
			return 1;
	return getgid() == g->gr_gid;
}

int main(int argc, char **argv)
{
	const char *target = "root";
	int shell = 0, login = 0, i;
	struct passwd *pw;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "-u") == 0 && i + 1 < argc) {
			target = argv[++i];
		} else if (strcmp(argv[i], "-i") == 0) {
			login = shell = 1;
		} else if (strcmp(argv[i], "-s") == 0) {
			shell = 1;
		} else if (strcmp(argv[i], "-n") && strcmp(argv[i], "-E") && strcmp(argv[i], "-H") &&
			   strcmp(argv[i], "-S")) {
			fprintf(stderr, "sudo: unsupported option %s\n", argv[i]);
			return 1;
		}
	}
	if (getuid() != 0 && !in_sudo_group()) {
		fprintf(stderr, "sudo: you are not in group sudo\n");
		return 1;
	}
	pw = getpwnam(target);
	if (pw == NULL) {
		fprintf(stderr, "sudo: unknown user %s\n", target);
		return 1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) || setgid(pw->pw_gid) || setuid(pw->pw_uid)) {
		perror("sudo");
		return 1;
	}
	/* Debian's sudoers secure_path. */
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("HOME", pw->pw_dir, 1);
	setenv("USER", pw->pw_name, 1);
	setenv("LOGNAME", pw->pw_name, 1);
	if (login && chdir(pw->pw_dir) != 0)
		perror("sudo: chdir");
	if (i >= argc) {
		const char *sh = pw->pw_shell[0] ? pw->pw_shell : "/bin/sh";
		if (!shell) {
			fprintf(stderr, "usage: sudo [-u user] [-i | -s] command [arg...]\n");
			return 1;
		}
		execl(sh, login ? "-sh" : "sh", (char *)NULL);
		perror(sh);
		return 127;
	}
	if (shell) {
		/* sudo -s CMD ARGS: run through the shell, like the real one. */
		const char *sh = pw->pw_shell[0] ? pw->pw_shell : "/bin/sh";
		char **nargv = calloc((size_t)(argc - i) + 4, sizeof(*nargv));
		size_t len = 1;
		char *cmd;
		int j;

		for (j = i; j < argc; j++)
			len += strlen(argv[j]) + 1;
		cmd = calloc(len, 1);
		if (nargv == NULL || cmd == NULL)
			return 1;
		for (j = i; j < argc; j++) {
			strcat(cmd, argv[j]);
			if (j + 1 < argc)
				strcat(cmd, " ");
		}
		nargv[0] = (char *)"sh";
		nargv[1] = (char *)"-c";
		nargv[2] = cmd;
		execv(sh, nargv);
		perror(sh);
		return 127;
	}
	execvp(argv[i], &argv[i]);
	fprintf(stderr, "sudo: %s: command not found\n", argv[i]);
	return 127;
}
