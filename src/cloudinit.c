/* cloud-init NoCloud documents. Every value from a profile or a key file goes
 * through vl_yaml_quote / vl_yaml_block, so no value can change the YAML's
 * structure; the multipart boundary is chosen so it occurs in no part. */
#include "cloudinit.h"

#include <stdio.h>
#include <string.h>

#include "util/mem.h"
#include "util/str.h"

void vl_yaml_quote(struct vl_buf *b, const char *s)
{
	vl_buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"': vl_buf_append(b, "\\\""); break;
		case '\\': vl_buf_append(b, "\\\\"); break;
		case '\n': vl_buf_append(b, "\\n"); break;
		case '\t': vl_buf_append(b, "\\t"); break;
		case '\r': vl_buf_append(b, "\\r"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				vl_buf_printf(b, "\\x%02x", *p);
			else
				vl_buf_putc(b, (char)*p);
		}
	}
	vl_buf_putc(b, '"');
}

static bool block_ok(const char *s)
{
	if (!*s)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			return false;
	/* A first line starting with a space or tab would need an indentation
	 * indicator; a first line that is empty would too. Quote instead. */
	return s[0] != ' ' && s[0] != '\t' && s[0] != '\n';
}

void vl_yaml_block(struct vl_buf *b, const char *s, unsigned indent)
{
	size_t len = strlen(s ? s : ""), trailing = 0;

	if (!s || !block_ok(s)) {
		vl_yaml_quote(b, s);
		vl_buf_putc(b, '\n');
		return;
	}
	while (trailing < len && s[len - 1 - trailing] == '\n')
		trailing++;
	/* Chomping keeps the value exact: "|-" no final newline, "|" one,
	 * "|+" all of them. */
	vl_buf_append(b, trailing == 0 ? "|-\n" : trailing == 1 ? "|\n" : "|+\n");
	for (const char *line = s; line < s + len;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		if (n > 0)
			vl_buf_printf(b, "%*s", (int)indent, "");
		vl_buf_appendn(b, line, n);
		vl_buf_putc(b, '\n');
		line += n + 1;
	}
}

/* "key: <quoted>\n" at indent */
static void kv(struct vl_buf *b, unsigned indent, const char *key, const char *value)
{
	vl_buf_printf(b, "%*s%s: ", (int)indent, "", key);
	vl_yaml_quote(b, value);
	vl_buf_putc(b, '\n');
}

char *vl_cloudinit_meta_data(const struct vl_plan_vm *vm, const char *generation)
{
	struct vl_buf b = VL_BUF_INIT;
	struct vl_buf id = VL_BUF_INIT;

	vl_buf_append(&id, vm->domain);
	if (generation && *generation)
		vl_buf_printf(&id, "-%s", generation);
	kv(&b, 0, "instance-id", vl_buf_str(&id));
	kv(&b, 0, "local-hostname", vm->hostname);
	vl_buf_release(&id);
	return vl_buf_steal(&b);
}

static void our_cloud_config(struct vl_buf *b, const struct vl_plan *plan,
			     const struct vl_plan_vm *vm, const struct vl_ci_keys *keys)
{
	vl_buf_append(b, "#cloud-config\n");
	kv(b, 0, "hostname", vm->hostname);
	kv(b, 0, "fqdn", vm->fqdn);
	vl_buf_append(b, "manage_etc_hosts: true\n");
	vl_buf_append(b, "disable_root: true\n");
	vl_buf_append(b, "ssh_pwauth: false\n");
	/* No "default" entry: the image's stock user is not created. */
	vl_buf_append(b, "users:\n");
	kv(b, 2, "- name", plan->user);
	kv(b, 4, "sudo", "ALL=(ALL) NOPASSWD:ALL");
	kv(b, 4, "shell", "/bin/bash");
	vl_buf_append(b, "    lock_passwd: true\n");
	if (keys && keys->authorized_key) {
		vl_buf_append(b, "    ssh_authorized_keys:\n");
		vl_buf_append(b, "      - ");
		vl_yaml_quote(b, keys->authorized_key);
		vl_buf_putc(b, '\n');
	}
	if (keys && keys->host_private && keys->host_public) {
		/* The host key is ours, so the first SSH connection is already
		 * verified. The image's own keys are deleted; given ssh_keys,
		 * cloud-init generates none (an empty ssh_genkeytypes would only
		 * draw a schema warning from cloud-init 22.4). */
		vl_buf_append(b, "ssh_deletekeys: true\n");
		vl_buf_append(b, "ssh_keys:\n");
		vl_buf_append(b, "  ed25519_private: ");
		vl_yaml_block(b, keys->host_private, 4);
		kv(b, 2, "ed25519_public", keys->host_public);
	}
}

/* A boundary that occurs in none of the parts (RFC 2046 requires it). */
static void choose_boundary(char out[64], const char *a, const char *c)
{
	for (unsigned n = 0;; n++) {
		snprintf(out, 64, "==vmlab-part-boundary-%u==", n);
		if (!strstr(a, out) && !strstr(c, out))
			return;
	}
}

static void mime_part(struct vl_buf *b, const char *boundary, const char *type,
		      const char *filename, const char *merge, const char *body)
{
	vl_buf_printf(b, "--%s\n", boundary);
	vl_buf_printf(b, "Content-Type: %s; charset=\"utf-8\"\n", type);
	vl_buf_append(b, "MIME-Version: 1.0\n");
	vl_buf_printf(b, "Content-Disposition: attachment; filename=\"%s\"\n", filename);
	if (merge)
		vl_buf_printf(b, "Merge-Type: %s\n", merge);
	vl_buf_putc(b, '\n');
	vl_buf_append(b, body);
	if (!vl_str_endswith(body, "\n"))
		vl_buf_putc(b, '\n');
}

char *vl_cloudinit_user_data(const struct vl_plan *plan, const struct vl_plan_vm *vm,
			     const struct vl_ci_keys *keys, const char *extra, struct vl_err *err)
{
	struct vl_buf ours = VL_BUF_INIT, b = VL_BUF_INIT;
	const char *type, *file;
	char boundary[64];

	our_cloud_config(&ours, plan, vm, keys);
	if (!extra)
		return vl_buf_steal(&ours);
	if (vl_str_startswith(extra, "#cloud-config")) {
		type = "text/cloud-config";
		file = "user-data.cfg";
	} else if (vl_str_startswith(extra, "#!")) {
		type = "text/x-shellscript";
		file = "user-data.sh";
	} else {
		vl_buf_release(&ours);
		return vl_err_set(err, VL_E_PROFILE,
				  "user-data %s of %s must start with '#cloud-config' or '#!'",
				  vm->user_data ? vm->user_data : "(file)", vm->name), NULL;
	}
	choose_boundary(boundary, vl_buf_str(&ours), extra);
	vl_buf_printf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"\n", boundary);
	vl_buf_append(&b, "MIME-Version: 1.0\n\n");
	mime_part(&b, boundary, "text/cloud-config", "vmlab.cfg", NULL, vl_buf_str(&ours));
	mime_part(&b, boundary, type, file,
		  vl_streq(type, "text/cloud-config") ? VL_CI_MERGE_TYPE : NULL, extra);
	vl_buf_printf(&b, "--%s--\n", boundary);
	vl_buf_release(&ours);
	return vl_buf_steal(&b);
}

char *vl_cloudinit_network_config(const struct vl_plan_vm *vm)
{
	struct vl_buf b = VL_BUF_INIT;

	vl_buf_append(&b, "version: 2\nethernets:\n  lab0:\n    match:\n");
	kv(&b, 6, "macaddress", vm->mac);
	vl_buf_append(&b, "    dhcp4: true\n");
	/* systemd-networkd (netplan images) ignores the lease's domain unless
	 * told, and systemd-resolved sends no one-word name to DNS without a
	 * search domain; ifupdown's dhclient takes it anyway */
	vl_buf_append(&b, "    dhcp4-overrides:\n      use-domains: true\n");
	return vl_buf_steal(&b);
}
