/* What a libvirt host holds, for placing class seats: its memory and CPUs,
 * what its defined domains commit, and the free space of a pool. */
#include "virt_priv.h"

#include <stdlib.h>

#include "util/mem.h"
#include "util/str.h"

int vl_virt_node_info(struct vl_virt *v, struct vl_virt_node *out, struct vl_err *err)
{
	virNodeInfo ni;

	if (virNodeGetInfo(v->conn, &ni) < 0)
		return virt_err(err, "host memory and CPUs");
	out->memory = (uint64_t)ni.memory * 1024;
	out->cpus = ni.cpus;
	return 0;
}

int vl_virt_node_free_memory(struct vl_virt *v, uint64_t *out, struct vl_err *err)
{
	unsigned long long f;

	virResetLastError();   /* 0 is also what a failure returns */
	f = virNodeGetFreeMemory(v->conn);
	if (!f && virGetLastError())
		return virt_err(err, "host free memory");
	*out = f;
	return 0;
}

int vl_virt_domain_usage(struct vl_virt *v, struct vl_virt_dom_use **out, size_t *n,
			 struct vl_err *err)
{
	virDomainPtr *doms = NULL;
	struct vl_virt_dom_use *list;
	int total = virConnectListAllDomains(v->conn, &doms, 0);
	size_t cnt = 0;

	*out = NULL;
	*n = 0;
	if (total < 0)
		return virt_err(err, "list domains");
	list = vl_calloc((size_t)total + 1, sizeof(*list));
	for (int i = 0; i < total; i++) {
		virDomainInfo di;
		const char *name = virDomainGetName(doms[i]);
		/* a domain undefined meanwhile is simply not counted */
		if (name && virDomainGetInfo(doms[i], &di) == 0) {
			list[cnt].name = vl_strdup(name);
			list[cnt].memory = (uint64_t)di.maxMem * 1024;
			list[cnt].vcpus = di.nrVirtCpu;
			cnt++;
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	*out = list;
	*n = cnt;
	return 0;
}

void vl_virt_dom_use_free(struct vl_virt_dom_use *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		free(list[i].name);
	free(list);
}

int vl_virt_pool_space(struct vl_virt *v, const char *pool, bool *exists, uint64_t *available,
		       struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = virStoragePoolLookupByName(v->conn, pool);
	virStoragePoolInfo pi;

	*exists = false;
	*available = 0;
	if (!p)
		return virt_last_is_missing() ? 0 : virt_err(err, "pool %s", pool);
	if (virStoragePoolGetInfo(p, &pi) < 0)
		return virt_err(err, "pool %s", pool);
	*exists = true;
	*available = pi.available;
	return 0;
}
