/* The owner vmlab records on its libvirt objects (see owner.h). */
#include "owner.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/mem.h"
#include "util/str.h"

static char *first_line(const char *path)
{
	char buf[128];
	FILE *f = fopen(path, "re");
	char *out = NULL;

	if (!f)
		return NULL;
	if (fgets(buf, sizeof(buf), f)) {
		char *t = vl_str_trim(buf);
		if (*t)
			out = vl_strdup(t);
	}
	fclose(f);
	return out;
}

void vl_owner_self(char **machine, char **user)
{
	struct passwd pw, *res = NULL;
	char buf[4096], host[256];

	*machine = first_line("/etc/machine-id");
	if (!*machine)
		*machine = first_line("/var/lib/dbus/machine-id");
	if (!*machine) {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "unknown");
		host[sizeof(host) - 1] = '\0';
		*machine = vl_strdup(host);
	}
	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 && res) {
		*user = vl_strdup(res->pw_name);
	} else {
		snprintf(buf, sizeof(buf), "%ld", (long)geteuid());
		*user = vl_strdup(buf);
	}
}

bool vl_owner_other(const char *meta_machine, const char *meta_user, const char *machine,
		    const char *user)
{
	if (!meta_machine || !meta_user)
		return false;
	return !vl_streq(meta_machine, machine) || !vl_streq(meta_user, user);
}
