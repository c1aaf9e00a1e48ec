/* Facts about the libvirt host for the TUI's header: memory free and in all,
 * and the accelerator in effect (what libvirt offers, not the config word). */
#include "host.h"
#include "lab_priv.h"

#include <string.h>

int vl_lab_host_facts(struct vl_ctx *ctx, struct vl_host_facts *out, struct vl_err *err)
{
	struct vl_virt_node node;
	bool kvm = false;

	memset(out, 0, sizeof(*out));
	if (vl_virt_node_free_memory(ctx->host->virt, &out->mem_free, err) < 0 ||
	    vl_virt_node_info(ctx->host->virt, &node, err) < 0)
		return -1;
	out->mem_total = node.memory;
	if (ctx->config.accel != VL_ACCEL_TCG && vl_host_kvm_offered(ctx->host, &kvm, err) < 0)
		return -1;
	out->accel = vl_accel_effective(ctx->config.accel, kvm);
	return 0;
}
