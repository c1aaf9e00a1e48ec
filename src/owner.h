/* Who this vmlab is, as recorded in the metadata of what it creates: the
 * machine (its machine-id) and the user. gc leaves other owners' labs on a
 * shared libvirt host alone. */
#ifndef VL_OWNER_H
#define VL_OWNER_H

#include <stdbool.h>

/* *machine: /etc/machine-id (or D-Bus's copy, or the host name); *user: the
 * effective user's name (or its uid). Caller frees both; never fails. */
void vl_owner_self(char **machine, char **user);
/* Whether metadata owner fields name someone else. Objects without an
 * owner (made by an older vmlab) count as this owner's. */
bool vl_owner_other(const char *meta_machine, const char *meta_user, const char *machine,
		    const char *user);

#endif
