/* libvirt adapter, storage: the pool, volumes (create, delete, list, facts),
 * and streaming a file into a volume or a volume out to a sink. */
#include "virt_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/mem.h"
#include "util/str.h"

static virStoragePoolPtr pool_get(struct vl_virt *v, const char *name, struct vl_err *err)
{
	virStoragePoolPtr p = virStoragePoolLookupByName(v->conn, name);

	if (!p) {
		if (virt_last_is_missing())
			vl_err_set(err, VL_E_NOTFOUND, "pool %s: not found", name);
		else
			virt_err(err, "pool %s", name);
	}
	return p;
}

/* A volume of pool; NULL with err set (VL_E_NOTFOUND for a missing one). */
static virStorageVolPtr vol_get(struct vl_virt *v, const char *pool, const char *name,
				struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = pool_get(v, pool, err);
	virStorageVolPtr vol;

	if (!p)
		return NULL;
	vol = virStorageVolLookupByName(p, name);
	if (!vol) {
		if (virt_last_is_missing())
			vl_err_set(err, VL_E_NOTFOUND, "volume %s in pool %s: not found", name, pool);
		else
			virt_err(err, "volume %s in pool %s", name, pool);
	}
	return vol;
}

/* Rescan the pool's directory. libvirt refuses while a volume of the pool is
 * being streamed (another vmlab uploading a base image): the pool already
 * knows every volume made through the API, so that is not an error, and the
 * rescan is left to the next call. */
static int pool_refresh(const struct vl_events *evs, virStoragePoolPtr p, const char *name,
			struct vl_err *err)
{
	const char *msg;

	if (virStoragePoolRefresh(p, 0) == 0)
		return 0;
	msg = virGetLastErrorMessage();
	if (msg && strstr(msg, "asynchronous jobs running")) {
		vl_event_debug(evs, NULL, "pool %s: not rescanned (%s)", name, msg);
		virResetLastError();
		return 0;
	}
	return virt_err(err, "pool %s: refresh", name);
}

int vl_virt_pool_ensure(struct vl_virt *v, const struct vl_events *evs,
			const char *name, const char *dir, struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = virStoragePoolLookupByName(v->conn, name);
	bool created = false;
	int active, autostart = 0;

	if (!p && !virt_last_is_missing())
		return virt_err(err, "pool %s", name);
	if (!p) {
		VL_AUTOFREE char *ename = virt_xml_escape(name);
		VL_AUTOFREE char *edir = virt_xml_escape(dir);
		VL_AUTOFREE char *xml = NULL;

		if (asprintf(&xml, "<pool type=\"dir\"><name>%s</name><target><path>%s</path>"
			     "</target></pool>", ename, edir) < 0)
			abort();
		p = virStoragePoolDefineXML(v->conn, xml, 0);
		if (!p)
			return virt_err(err, "pool %s: define (%s)", name, dir);
		created = true;
		vl_event_debug(evs, NULL, "pool %s defined at %s", name, dir);
	} else {
		VL_AUTOFREE char *xml = virStoragePoolGetXMLDesc(p, 0);
		VL_AUTO(xdoc) x = { 0 };
		VL_AUTOFREE char *path = NULL;

		if (!xml)
			return virt_err(err, "pool %s", name);
		if (virt_xdoc_parse(&x, xml) == 0)
			path = virt_xstr(&x, NULL, "/pool/target/path");
		if (path && !vl_streq(path, dir))
			vl_event_warn(evs, NULL, "pool %s already exists at %s (not %s); using it",
				      name, path, dir);
	}
	active = virStoragePoolIsActive(p);
	if (active < 0)
		goto fail_verr_state;
	if (!active) {
		/* Build makes the directory (and is harmless when it exists). */
		if (virStoragePoolBuild(p, 0) < 0) {
			virt_err(err, "pool %s: build %s", name, dir);
			goto fail;
		}
		if (virStoragePoolCreate(p, 0) < 0) {
			virt_err(err, "pool %s: start", name);
			goto fail;
		}
	} else if (pool_refresh(evs, p, name, err) < 0) {
		return -1;
	}
	if (virStoragePoolGetAutostart(p, &autostart) < 0)
		return virt_err(err, "pool %s", name);
	if (!autostart && virStoragePoolSetAutostart(p, 1) < 0)
		return virt_err(err, "pool %s: set autostart", name);
	return 0;
fail_verr_state:
	virt_err(err, "pool %s", name);
fail:
	/* Leave nothing half-made: a pool we just defined goes again. */
	if (created)
		virStoragePoolUndefine(p);
	return -1;
}

int vl_virt_pool_remove(struct vl_virt *v, const char *name, struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = virStoragePoolLookupByName(v->conn, name);
	int r;

	if (!p)
		return virt_last_is_missing() ? 0 : virt_err(err, "pool %s", name);
	r = virStoragePoolIsActive(p);
	if (r < 0)
		return virt_last_is_missing() ? 0 : virt_err(err, "pool %s", name);
	if (r > 0 && virStoragePoolDestroy(p) < 0 &&
	    virt_last_code() != VIR_ERR_OPERATION_INVALID && !virt_last_is_missing())
		return virt_err(err, "pool %s: stop", name);
	r = virStoragePoolIsPersistent(p);
	if (r < 0)
		return virt_last_is_missing() ? 0 : virt_err(err, "pool %s", name);
	if (r > 0 && virStoragePoolUndefine(p) < 0 && !virt_last_is_missing())
		return virt_err(err, "pool %s: undefine", name);
	return 0;
}

int vl_virt_pool_exists(struct vl_virt *v, const char *name, bool *out, struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = virStoragePoolLookupByName(v->conn, name);

	*out = p != NULL;
	if (!p && !virt_last_is_missing())
		return virt_err(err, "pool %s", name);
	return 0;
}

int vl_virt_pool_refresh(struct vl_virt *v, const struct vl_events *evs,
			const char *name, struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = pool_get(v, name, err);

	if (!p)
		return -1;
	return pool_refresh(evs, p, name, err);
}

int vl_virt_pool_room(struct vl_virt *v, const char *name, uint64_t *avail, char **dir,
		       struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = pool_get(v, name, err);
	VL_AUTOFREE char *xml = NULL;
	virStoragePoolInfo info;

	*dir = NULL;
	if (!p)
		return -1;
	virStoragePoolRefresh(p, 0);   /* stale figures are worse than none; best effort */
	if (virStoragePoolGetInfo(p, &info) < 0)
		return virt_err(err, "pool %s: info", name);
	*avail = info.available;
	xml = virStoragePoolGetXMLDesc(p, 0);
	if (xml)
		*dir = virt_xml_name(xml, "/pool/target/path");
	return 0;
}

int vl_virt_volume_exists(struct vl_virt *v, const char *pool, const char *name, bool *out,
			  struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = pool_get(v, pool, err);
	AUTO_LV(virStorageVolPtr) vol = NULL;

	*out = false;
	if (!p)
		return -1;
	vol = virStorageVolLookupByName(p, name);
	*out = vol != NULL;
	if (!vol && !virt_last_is_missing())
		return virt_err(err, "volume %s in pool %s", name, pool);
	return 0;
}

int vl_virt_volume_create_xml(struct vl_virt *v, const char *pool, const char *xml,
			      char **path_out, struct vl_err *err)
{
	VL_AUTOFREE char *name = virt_xml_name(xml, "/volume/name");
	AUTO_LV(virStoragePoolPtr) p = pool_get(v, pool, err);
	AUTO_LV(virStorageVolPtr) vol = NULL;

	if (path_out)
		*path_out = NULL;
	if (!p)
		return -1;
	vol = virStorageVolCreateXML(p, xml, 0);
	if (!vol)
		return virt_err(err, "volume %s in pool %s: create", name, pool);
	if (path_out) {
		*path_out = virStorageVolGetPath(vol);
		if (!*path_out)
			return virt_err(err, "volume %s in pool %s: path", name, pool);
	}
	return 0;
}

int vl_virt_volume_clone(struct vl_virt *v, const char *pool, const char *xml, const char *src,
			 struct vl_err *err)
{
	VL_AUTOFREE char *name = virt_xml_name(xml, "/volume/name");
	AUTO_LV(virStoragePoolPtr) p = pool_get(v, pool, err);
	AUTO_LV(virStorageVolPtr) from = NULL;
	AUTO_LV(virStorageVolPtr) vol = NULL;

	if (!p)
		return -1;
	from = virStorageVolLookupByName(p, src);
	if (!from)
		return virt_err(err, "volume %s in pool %s", src, pool);
	vol = virStorageVolCreateXMLFrom(p, xml, from, 0);
	if (!vol)
		return virt_err(err, "volume %s in pool %s: copy of %s", name, pool, src);
	return 0;
}

int vl_virt_volume_delete(struct vl_virt *v, const char *pool, const char *name, struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = virStoragePoolLookupByName(v->conn, pool);
	AUTO_LV(virStorageVolPtr) vol = NULL;

	if (!p) /* no pool, no volume: already gone */
		return virt_last_is_missing() ? 0 : virt_err(err, "pool %s", pool);
	vol = virStorageVolLookupByName(p, name);
	if (!vol)
		return virt_last_is_missing() ? 0 :
		       virt_err(err, "volume %s in pool %s", name, pool);
	if (virStorageVolDelete(vol, 0) < 0 && !virt_last_is_missing())
		return virt_err(err, "volume %s in pool %s: delete", name, pool);
	return 0;
}

static bool safe_vol_name(const char *s)
{
	if (!s || !*s || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* Finish (ok) or abort a volume stream, and free it. */
static int stream_end(virStreamPtr st, bool ok, const char *what, const char *verb,
		      struct vl_err *err)
{
	int rc = 0;

	if (!ok) {
		virStreamAbort(st);
		rc = -1;
	} else if (virStreamFinish(st) < 0) {
		rc = virt_err(err, "%s: %s", what, verb);
	}
	virStreamFree(st);
	return rc;
}

/* Stream fd (size bytes) into vol; the stream is finished or aborted. */
static int upload_stream(struct vl_virt *v, const struct vl_events *evs, virStorageVolPtr vol,
			 int fd, uint64_t size, const char *what, struct vl_err *err)
{
	virStreamPtr st = virStreamNew(v->conn, 0);
	static const size_t chunk = 256 * 1024;
	VL_AUTOFREE char *buf = vl_malloc(chunk);
	uint64_t done = 0;

	if (!st)
		return virt_err(err, "%s: upload", what);
	if (virStorageVolUpload(vol, st, 0, size, 0) < 0) {
		virt_err(err, "%s: upload", what);
		virStreamFree(st);
		return -1;
	}
	while (done < size) {
		if (vl_cancelled(evs)) {
			vl_err_set(err, VL_E_CANCELLED, "%s: upload cancelled", what);
			goto abort;
		}
		ssize_t r = read(fd, buf, chunk);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			vl_err_sys(err, VL_E_IO, r < 0 ? errno : EIO, "%s: upload: read", what);
			goto abort;
		}
		for (ssize_t off = 0; off < r;) {
			int s = virStreamSend(st, buf + off, (size_t)(r - off));

			if (s < 0) {
				virt_err(err, "%s: upload", what);
				goto abort;
			}
			off += s;
		}
		done += (uint64_t)r;
		/* a seed ISO takes a blink: progress only where someone waits */
		if (size >= (16u << 20))
			vl_event_progress(evs, what, "upload", done, size, 0);
	}
	return stream_end(st, true, what, "upload", err);
abort:
	return stream_end(st, false, what, "upload", err);
}

int vl_virt_volume_upload(struct vl_virt *v, const struct vl_events *evs,
			const char *pool, const char *name,
			  const char *local_path, struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = NULL;
	AUTO_LV(virStorageVolPtr) vol = NULL;
	VL_AUTOFREE char *xml = NULL;
	char what[300];
	struct stat st;
	int fd, r;

	if (!safe_vol_name(name))
		return vl_err_set(err, VL_E_FAIL, "volume %s in pool %s: bad name", name, pool);
	snprintf(what, sizeof(what), "volume %s in pool %s", name, pool);
	p = pool_get(v, pool, err);
	if (!p)
		return -1;
	fd = open(local_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vl_err_sys(err, VL_E_IO, errno, "%s: upload %s", what, local_path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = S_ISREG(st.st_mode) ? errno : EINVAL;
		close(fd);
		return vl_err_sys(err, VL_E_IO, r, "%s: upload %s", what, local_path);
	}
	if (vl_virt_volume_delete(v, pool, name, err) < 0)
		goto out_fd;
	if (asprintf(&xml, "<volume><name>%s</name><capacity unit=\"bytes\">%llu</capacity>"
		     "<allocation unit=\"bytes\">0</allocation>"
		     "<target><format type=\"raw\"/></target></volume>",
		     name, (unsigned long long)st.st_size) < 0)
		abort();
	vol = virStorageVolCreateXML(p, xml, 0);
	if (!vol) {
		virt_err(err, "%s: create", what);
		goto out_fd;
	}
	if (upload_stream(v, evs, vol, fd, (uint64_t)st.st_size, what, err) < 0) {
		/* A half-written seed is worse than none. */
		virStorageVolDelete(vol, 0);
		goto out_fd;
	}
	close(fd);
	return 0;
out_fd:
	close(fd);
	return -1;
}

int vl_virt_volume_download(struct vl_virt *v, const struct vl_events *evs,
			const char *pool, const char *name,
			    uint64_t offset, uint64_t length, vl_virt_sink_fn sink, void *ud,
			    struct vl_err *err)
{
	AUTO_LV(virStorageVolPtr) vol = vol_get(v, pool, name, err);
	static const size_t chunk = 256 * 1024;
	VL_AUTOFREE char *buf = vl_malloc(chunk);
	virStreamPtr st;
	char what[300];

	if (!vol)
		return -1;
	snprintf(what, sizeof(what), "volume %s in pool %s", name, pool);
	st = virStreamNew(v->conn, 0);
	if (!st)
		return virt_err(err, "%s: download", what);
	if (virStorageVolDownload(vol, st, offset, length, 0) < 0) {
		virt_err(err, "%s: download", what);
		virStreamFree(st);
		return -1;
	}
	for (;;) {
		if (vl_cancelled(evs)) {
			vl_err_set(err, VL_E_CANCELLED, "%s: download cancelled", what);
			goto abort;
		}
		int r = virStreamRecv(st, buf, chunk);

		if (r == 0)
			break;
		if (r < 0) {
			virt_err(err, "%s: download", what);
			goto abort;
		}
		if (sink(ud, buf, (size_t)r, err) < 0)
			goto abort;
	}
	return stream_end(st, true, what, "download", err);
abort:
	return stream_end(st, false, what, "download", err);
}

int vl_virt_volume_physical(struct vl_virt *v, const char *pool, const char *name,
			    uint64_t *physical, struct vl_err *err)
{
	AUTO_LV(virStorageVolPtr) vol = vol_get(v, pool, name, err);
	virStorageVolInfo info;

	if (!vol)
		return -1;
	if (virStorageVolGetInfoFlags(vol, &info, VIR_STORAGE_VOL_GET_PHYSICAL) < 0)
		return virt_err(err, "volume %s in pool %s: info", name, pool);
	*physical = info.allocation;   /* with GET_PHYSICAL: the file's size */
	return 0;
}

int vl_virt_volume_path(struct vl_virt *v, const char *pool, const char *name, char **out,
			struct vl_err *err)
{
	AUTO_LV(virStorageVolPtr) vol = vol_get(v, pool, name, err);

	*out = NULL;
	if (!vol)
		return -1;
	*out = virStorageVolGetPath(vol);
	if (!*out)
		return virt_err(err, "volume %s in pool %s: path", name, pool);
	return 0;
}

int vl_virt_volume_backing(struct vl_virt *v, const char *pool, const char *name, char **out,
			   struct vl_err *err)
{
	AUTO_LV(virStorageVolPtr) vol = vol_get(v, pool, name, err);
	VL_AUTOFREE char *xml = NULL;
	VL_AUTO(xdoc) x = { 0 };

	*out = NULL;
	if (!vol)
		return -1;
	xml = virStorageVolGetXMLDesc(vol, 0);
	if (!xml)
		return virt_err(err, "volume %s in pool %s: XML", name, pool);
	if (virt_xdoc_parse(&x, xml) < 0)
		return vl_err_set(err, VL_E_FAIL, "volume %s in pool %s: unparsable XML", name, pool);
	*out = virt_xstr(&x, NULL, "/volume/backingStore/path");
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vl_virt_volume_list(struct vl_virt *v, const char *pool, const char *prefix, char ***out,
			size_t *n, struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = pool_get(v, pool, err);
	virStorageVolPtr *vols = NULL;
	char **names;
	size_t cnt = 0;
	int total;

	*out = NULL;
	*n = 0;
	if (!p)
		return -1;
	total = virStoragePoolListAllVolumes(p, &vols, 0);
	if (total < 0)
		return virt_err(err, "pool %s: list volumes", pool);
	names = vl_calloc((size_t)total + 1, sizeof(*names));
	for (int i = 0; i < total; i++) {
		const char *name = virStorageVolGetName(vols[i]);

		if (name && (!prefix || vl_str_startswith(name, prefix)))
			names[cnt++] = vl_strdup(name);
		virStorageVolFree(vols[i]);
	}
	free(vols);
	qsort(names, cnt, sizeof(*names), cmp_str);
	*out = names;
	*n = cnt;
	return 0;
}

void vl_virt_name_list_free(char **list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

int vl_virt_volume_capacity(struct vl_virt *v, const char *pool, const char *name,
			    uint64_t *capacity, uint64_t *allocation, struct vl_err *err)
{
	AUTO_LV(virStorageVolPtr) vol = vol_get(v, pool, name, err);
	virStorageVolInfo info;

	if (!vol)
		return -1;
	if (virStorageVolGetInfo(vol, &info) < 0)
		return virt_err(err, "volume %s in pool %s: info", name, pool);
	if (capacity)
		*capacity = info.capacity;
	if (allocation)
		*allocation = info.allocation;
	return 0;
}
