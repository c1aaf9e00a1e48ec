/* Downloads: the only file that includes libcurl. Jobs run in parallel on
 * one curl multi handle, each under a per-image lock; the checksum file
 * first, then the image with a Range request to resume, and progress events. */
#include "image_priv.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/size.h"
#include "util/str.h"

#define CHECKSUM_FILE_MAX (8u << 20)

_Static_assert(sizeof(((struct image_job *)0)->curl_err) >= CURL_ERROR_SIZE,
	       "image_job.curl_err holds a libcurl error buffer");

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void image_fetch_init(void)
{
	pthread_once(&curl_once, curl_init_once);
}

void image_job_release(struct image_job *j)
{
	image_job_close_files(j);
	if (j->h)
		curl_easy_cleanup(j->h);
	if (j->lock_fd >= 0)
		close(j->lock_fd);
	free(j->expect);
	free(j->part);
	free(j->part_meta);
	free(j->img_part);
	free(j->lzbuf);
	for (int i = 0; i < IMAGE_RING_N; i++)
		free(j->v.buf[i]);
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
	struct image_job *j = ud;
	size_t n = size * nitems;
	unsigned long long a;

	if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0)
		j->range_start = -1;   /* a new response (after a redirect) */
	else if (n > 20 && strncasecmp(buf, "content-range: bytes ", 21) == 0 &&
		 sscanf(buf + 21, "%llu-", &a) == 1)
		j->range_start = (long)a;
	return n;
}

/* What the server says it will send, checked before a byte is stored:
 * not over [images] max_image_size, and room for it in the cache. */
static int body_check_size(struct image_job *j, long code)
{
	curl_off_t cl = -1;
	char need[32], have[32];
	uint64_t total, free_b;

	curl_easy_getinfo(j->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	if (cl < 0)
		return 0;
	total = (uint64_t)cl + (code == 206 ? j->offset : 0);
	j->expect_total = total;
	if (total > j->max_size) {
		vl_human_bytes(need, sizeof(need), (double)total, VL_SIZE_IEC);
		vl_human_bytes(have, sizeof(have), (double)j->max_size, VL_SIZE_IEC);
		return image_job_fail(j, VL_E_FAIL, "the server announces %s, more than %s "
				      "([images] max_image_size): refused", need, have);
	}
	free_b = image_free_bytes(j->cache);
	if (free_b != UINT64_MAX && total - (code == 206 ? j->offset : 0) > free_b) {
		vl_human_bytes(need, sizeof(need), (double)(total - (code == 206 ? j->offset : 0)),
			       VL_SIZE_IEC);
		vl_human_bytes(have, sizeof(have), (double)free_b, VL_SIZE_IEC);
		return image_job_fail(j, VL_E_IO, "not enough space in %s: the image needs %s, "
				      "%s free; nothing was cached", j->cache, need, have);
	}
	return 0;
}

/* First body bytes: decide between append (206), start over (200 to a Range
 * request) and failure (HTTP errors carry no image). */
static int body_start(struct image_job *j)
{
	long code = 0;
	char *scheme = NULL;

	j->body_started = true;
	curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(j->h, CURLINFO_SCHEME, &scheme);
	if (scheme && strcasecmp(scheme, "file") == 0)
		return body_check_size(j, 200);
	if (code >= 300)
		return -1;   /* reported at the end, from the status */
	if (body_check_size(j, code) < 0)
		return -1;
	if (j->offset > 0 && (code != 206 || j->range_start != (long)j->offset)) {
		vl_event_info(j->evs, j->info->name, "server ignored the range request; starting over");
		j->v.fill = 0;
		if (image_verify_drain(j) < 0)
			return -1;
		if (ftruncate(j->fd, 0) < 0 || lseek(j->fd, 0, SEEK_SET) < 0)
			return image_job_fail(j, VL_E_IO, "cannot truncate %s: %s", j->part, strerror(errno));
		j->offset = 0;
		j->v.woff = 0;
		return image_job_reset_stream(j);
	}
	return 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct image_job *j = ud;
	size_t n = size * nmemb;

	if (!j->body_started && body_start(j) < 0)
		return 0;
	/* a server that sends more than it announced, or without end */
	if (j->written + n > j->max_size) {
		char lim[32];
		vl_human_bytes(lim, sizeof(lim), (double)j->max_size, VL_SIZE_IEC);
		image_job_fail(j, VL_E_FAIL, "more than %s ([images] max_image_size): refused", lim);
		return 0;
	}
	if (image_verify_put(j, (const unsigned char *)p, n) < 0)
		return 0;
	j->written += n;
	return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct image_job *j = ud;
	double t = vl_now_mono();

	(void)ultotal;
	(void)ulnow;
	if (t - j->last_ev < 0.25)
		return 0;
	j->last_ev = t;
	double rate = t > j->t0 ? (double)dlnow / (t - j->t0) : 0;
	vl_event_progress(j->evs, j->info->name, "download", j->offset + (uint64_t)dlnow,
			  dltotal > 0 ? j->offset + (uint64_t)dltotal : 0, rate);
	return 0;
}

static CURL *easy_new(struct image_job *j, const char *url)
{
	CURL *h = curl_easy_init();

	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR,
			 strncasecmp(url, "https://", 8) == 0 ? "https" : "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	/* no total timeout for multi-GiB files; a stall fails instead */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)j->stall);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "vmlab/" VL_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, j->curl_err);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* TLS verification is libcurl's default and is never switched off;
	 * proxies come from the environment (http_proxy, https_proxy, no_proxy) */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (j->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, j->ca_file);
	return h;
}

/* One clear line for a transfer that did not complete. */
static void describe_curl_failure(struct image_job *j, CURL *h, CURLcode rc, const char *what)
{
	const char *detail = j->curl_err[0] ? j->curl_err : curl_easy_strerror(rc);
	char *to = NULL;

	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		image_job_fail(j, VL_E_NET, "cannot resolve host: %s", detail);
		break;
	case CURLE_COULDNT_CONNECT:
		image_job_fail(j, VL_E_NET, "cannot connect: %s", detail);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		image_job_fail(j, VL_E_NET, "TLS failure: %s", detail);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		image_job_fail(j, VL_E_TIMEOUT, "%s stalled: no data for %u seconds (after %llu bytes)",
			 what, j->stall, (unsigned long long)j->written);
		break;
	case CURLE_PARTIAL_FILE:
		image_job_fail(j, VL_E_NET, "connection closed early: short read after %llu bytes",
			 (unsigned long long)j->written);
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		/* a server must not send us to file:// (a host file into the
		 * cache), ftp:// or from https down to http */
		curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &to);
		if (!to)
			curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &to);
		if (to && strstr(to, "://"))
			image_job_fail(j, VL_E_NET, "redirect to %.*s:// refused (%s): redirects are "
				       "followed to http and https only, and from https to https only",
				       (int)(strstr(to, "://") - to), to, to);
		else
			image_job_fail(j, VL_E_NET, "%s failed: %s", what, detail);
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		image_job_fail(j, VL_E_NET, "too many redirects");
		break;
	case CURLE_FILE_COULDNT_READ_FILE:
		image_job_fail(j, VL_E_NOTFOUND, "cannot read file: %s", detail);
		break;
	default:
		image_job_fail(j, VL_E_NET, "%s failed: %s", what, detail);
		break;
	}
}

/* The distribution's checksum file, small, fetched before the image. */
struct membuf {
	struct vl_buf b;
	bool too_big;
};

static size_t on_mem(char *p, size_t size, size_t nmemb, void *ud)
{
	struct membuf *m = ud;
	size_t n = size * nmemb;

	if (m->b.len + n > CHECKSUM_FILE_MAX) {
		m->too_big = true;
		return 0;
	}
	vl_buf_appendn(&m->b, p, n);
	return n;
}

static int fetch_expected(struct image_job *j)
{
	const struct vl_catalog_entry *e = &j->info->entry;
	struct membuf m = { VL_BUF_INIT, false };
	VL_AUTOFREE char *entry = NULL;
	long code = 0;
	CURLcode rc;
	CURL *h = easy_new(j, e->checksum_url);

	if (!h)
		return image_job_fail(j, VL_E_FAIL, "cannot create a curl handle");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_mem);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &m);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK || code >= 400) {
		if (rc == CURLE_OK || rc == CURLE_WRITE_ERROR)
			image_job_fail(j, VL_E_NET, "checksum file %s: %s", e->checksum_url,
				 m.too_big ? "too large" : "HTTP error");
		if (code >= 400) {
			j->err = (struct vl_err)VL_ERR_INIT;
			image_job_fail(j, VL_E_NET, "checksum file %s: HTTP %ld", e->checksum_url, code);
		} else {
			describe_curl_failure(j, h, rc, "checksum file download");
		}
		curl_easy_cleanup(h);
		vl_buf_release(&m.b);
		return -1;
	}
	curl_easy_cleanup(h);
	entry = e->checksum_entry ? vl_strdup(e->checksum_entry) : vl_url_basename(e->url);
	j->expect = vl_checksum_find(vl_buf_str(&m.b), entry, e->hash);
	vl_buf_release(&m.b);
	if (!j->expect)
		return image_job_fail(j, VL_E_CHECKSUM, "no %s for '%s' in %s", vl_hash_name(e->hash), entry,
				e->checksum_url);
	return 0;
}

/* Expected digest: --sha256, the catalog's pinned one, or its checksum file. */
static int job_expected(struct image_job *j, const struct vl_image_pull_opts *opts)
{
	const struct vl_catalog_entry *e = &j->info->entry;

	j->hash = e->hash ? e->hash : VL_HASH_SHA256;
	if (opts && opts->sha256) {
		j->hash = VL_HASH_SHA256;
		j->expect = vl_hex_normalize(opts->sha256, 64);
		if (!j->expect)
			return image_job_fail(j, VL_E_USAGE, "--sha256 needs 64 hex digits");
		return 0;
	}
	if (e->digest) {
		j->expect = vl_strdup(e->digest);
		return 0;
	}
	if (e->checksum_url)
		return fetch_expected(j);
	if (e->insecure || (opts && opts->insecure))
		return 0;
	return image_job_fail(j, VL_E_CHECKSUM, "no checksum source; give --sha256 HEX, or --insecure "
			"to accept it unverified");
}

/* The sidecar says which download a .part belongs to; a resume after a kill
 * continues only the same URL with the same expected digest. */
static char *part_meta_text(struct image_job *j)
{
	return vl_strfmt("url=%s\nhash=%s\ndigest=%s\n", j->info->url, vl_hash_name(j->hash),
			j->expect ? j->expect : "");
}

static int job_open_partial(struct image_job *j)
{
	VL_AUTOFREE char *want = part_meta_text(j);
	VL_AUTOFREE char *have = image_read_small(j->part_meta);
	struct stat st;

	j->offset = 0;
	if (have && vl_streq(have, want) && stat(j->part, &st) == 0 && st.st_size > 0)
		j->offset = (uint64_t)st.st_size;
	else
		image_job_remove_partial(j);
	if (!have || !vl_streq(have, want)) {
		struct vl_err e = VL_ERR_INIT;
		if (image_write_atomic(j->part_meta, want, &e) < 0)
			return image_job_fail(j, e.code, "%s", e.msg);
	}
	j->fd = open(j->part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (j->fd < 0)
		return image_job_fail(j, VL_E_IO, "cannot open %s: %s", j->part, strerror(errno));
	/* resume from a slot boundary, so O_DIRECT writes stay aligned */
	j->offset -= j->offset % IMAGE_IO_BUF;
	/* (truncating an empty file would make ext4 flush it on close) */
	if (fstat(j->fd, &st) == 0 && (uint64_t)st.st_size != j->offset &&
	    ftruncate(j->fd, (off_t)j->offset) < 0)
		return image_job_fail(j, VL_E_IO, "cannot truncate %s: %s", j->part, strerror(errno));
	j->v.dfd = open(j->part, O_WRONLY | O_DIRECT | O_CLOEXEC);
	j->v.woff = j->offset;
	if (image_job_reset_stream(j) < 0 || image_verify_start(j) < 0)
		return -1;
	if (j->offset == 0)
		return 0;

	/* resume: the hash (and the xz decoder) must cover the bytes already
	 * on disk, so read the prefix once */
	vl_event_info(j->evs, j->info->name, "resuming at %llu bytes",
		      (unsigned long long)j->offset);
	uint64_t left = j->offset;
	while (left > 0) {
		unsigned char *slot = j->v.buf[j->v.produced % IMAGE_RING_N];
		ssize_t r = read(j->fd, slot, left < IMAGE_IO_BUF ? left : IMAGE_IO_BUF);
		if (r <= 0)
			return image_job_fail(j, VL_E_IO, "cannot read %s", j->part);
		j->v.fill = (size_t)r;
		if (image_verify_submit(j, false) < 0)
			return -1;
		left -= (uint64_t)r;
	}
	j->written = j->offset;
	return image_verify_drain(j);
}

int image_job_lock_open(struct image_job *j)
{
	VL_AUTOFREE char *p = vl_strfmt("%s/" IMAGE_PARTIAL_DIR "/%s.lock", j->cache, j->info->name);

	j->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (j->lock_fd < 0)
		return image_job_fail(j, VL_E_IO, "cannot open lock %s: %s", p, strerror(errno));
	return 0;
}

/* Try the lock; when held by another process the job keeps waiting. The
 * holder either finished (we find the image) or failed (we download). */
static void job_try_start(struct image_job *j, CURLM *multi, const struct vl_image_pull_opts *opts)
{
	if (flock(j->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			image_job_fail(j, VL_E_IO, "cannot lock: %s", strerror(errno));
			j->state = IMAGE_JOB_FAIL;
		} else if (!j->told_wait) {
			vl_event_info(j->evs, j->info->name, "another vmlab is pulling it; waiting");
			j->told_wait = true;
		}
		return;
	}
	image_cache_lookup(j->cache, j->info);
	if (j->info->cached) {
		if (j->told_wait)
			vl_event_info(j->evs, j->info->name, "pulled by the other vmlab");
		j->state = IMAGE_JOB_DONE;
		return;
	}
	j->state = IMAGE_JOB_FAIL;
	if (job_expected(j, opts) < 0)
		return;
	j->part = vl_strfmt("%s/" IMAGE_PARTIAL_DIR "/%s.part", j->cache, j->info->name);
	j->part_meta = vl_strfmt("%s/" IMAGE_PARTIAL_DIR "/%s.part.meta", j->cache, j->info->name);
	j->img_part = vl_strfmt("%s/" IMAGE_PARTIAL_DIR "/%s.img.part", j->cache, j->info->name);
	if (job_open_partial(j) < 0)
		return;
	j->h = easy_new(j, j->info->url);
	if (!j->h) {
		image_job_fail(j, VL_E_FAIL, "cannot create a curl handle");
		return;
	}
	curl_easy_setopt(j->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(j->h, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(j->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(j->h, CURLOPT_HEADERDATA, j);
	curl_easy_setopt(j->h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(j->h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(j->h, CURLOPT_XFERINFODATA, j);
	curl_easy_setopt(j->h, CURLOPT_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(j->h, CURLOPT_PRIVATE, j);
	/* a plain Range header rather than CURLOPT_RESUME_FROM: libcurl fails a
	 * 200 answer to that itself, and we want to start over cleanly instead */
	if (j->offset) {
		char range[48];
		snprintf(range, sizeof(range), "%llu-", (unsigned long long)j->offset);
		curl_easy_setopt(j->h, CURLOPT_RANGE, range);
	}
	j->range_start = -1;
	j->t0 = vl_now_mono();
	vl_event_info(j->evs, j->info->name, "pulling %s", j->info->url);
	if (curl_multi_add_handle(multi, j->h) != CURLM_OK) {
		image_job_fail(j, VL_E_FAIL, "cannot start the transfer");
		return;
	}
	j->state = IMAGE_JOB_RUN;
}

static void job_done(struct image_job *j, CURLcode rc)
{
	long code = 0;
	char *scheme = NULL;

	curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(j->h, CURLINFO_SCHEME, &scheme);
	bool is_file = scheme && strcasecmp(scheme, "file") == 0;
	j->state = IMAGE_JOB_FAIL;
	/* what arrived goes to disk (for the hash, or for a resume) */
	if (j->v.running && (image_verify_submit(j, true) < 0 || image_verify_drain(j) < 0))
		rc = rc == CURLE_OK ? CURLE_WRITE_ERROR : rc;
	if (!is_file && code >= 400) {
		image_job_fail(j, VL_E_NET, "HTTP %ld", code);
	} else if (!is_file && code >= 300 && rc == CURLE_OK) {
		image_job_fail(j, VL_E_NET, "HTTP %ld redirect without a usable Location", code);
	} else if (rc != CURLE_OK) {
		/* data that arrived stays for a resume; a write failure of ours does not */
		if (j->err.code == VL_OK) {
			describe_curl_failure(j, j->h, rc, "download");
			j->keep_part = j->written > 0 &&
				       (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR ||
					rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_GOT_NOTHING ||
					rc == CURLE_SEND_ERROR || rc == CURLE_HTTP2_STREAM);
		}
	} else {
		double t = vl_now_mono();
		vl_event_progress(j->evs, j->info->name, "download", j->written, j->written,
				  t > j->t0 ? (double)(j->written - j->offset) / (t - j->t0) : 0);
		if (image_job_finish(j) == 0)
			j->state = IMAGE_JOB_DONE;
	}
	if (j->state == IMAGE_JOB_FAIL && !j->keep_part)
		image_job_remove_partial(j);
	else if (j->state == IMAGE_JOB_FAIL && j->keep_part)
		vl_event_info(j->evs, j->info->name, "kept %llu bytes in %s; pull again to resume",
			      (unsigned long long)j->written, j->part);
	image_job_close_files(j);
}

/* Stop every job that has not ended: a running download keeps what it has
 * for the next pull to resume, as after a kill. */
static void cancel_all(struct image_job *jobs, size_t n, CURLM *multi)
{
	for (size_t i = 0; i < n; i++) {
		struct image_job *j = &jobs[i];
		if (j->state != IMAGE_JOB_LOCK && j->state != IMAGE_JOB_RUN)
			continue;
		if (j->state == IMAGE_JOB_RUN)
			curl_multi_remove_handle(multi, j->h);
		image_job_fail(j, VL_E_CANCELLED, "cancelled");
		if (j->written > 0)
			vl_event_info(j->evs, j->info->name, "kept %llu bytes in %s; pull again to resume",
				      (unsigned long long)j->written, j->part);
		image_job_close_files(j);
	}
}

int image_fetch_run(struct image_job *jobs, size_t n, const struct vl_image_pull_opts *opts)
{
	CURLM *multi = curl_multi_init();
	size_t pending = n;

	if (!multi)
		return -1;
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 4L);
	while (pending > 0) {
		int running = 0, msgs;
		CURLMsg *msg;
		bool waiting = false;

		if (n > 0 && vl_cancelled(jobs[0].evs)) {
			cancel_all(jobs, n, multi);
			break;
		}
		pending = 0;
		for (size_t i = 0; i < n; i++) {
			if (jobs[i].state == IMAGE_JOB_LOCK)
				job_try_start(&jobs[i], multi, opts);
			if (jobs[i].state == IMAGE_JOB_LOCK)
				waiting = true;
			if (jobs[i].state == IMAGE_JOB_LOCK || jobs[i].state == IMAGE_JOB_RUN)
				pending++;
		}
		if (pending == 0)
			break;
		curl_multi_perform(multi, &running);
		while ((msg = curl_multi_info_read(multi, &msgs))) {
			struct image_job *j = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			CURLcode rc = msg->data.result;
			curl_multi_remove_handle(multi, msg->easy_handle);
			job_done(j, rc);
		}
		/* poll only while something runs or waits: a finished pull must
		 * not sit out the timeout */
		bool busy = false;
		for (size_t i = 0; i < n; i++)
			busy |= jobs[i].state == IMAGE_JOB_LOCK || jobs[i].state == IMAGE_JOB_RUN;
		if (busy)
			curl_multi_poll(multi, NULL, 0, waiting ? 200 : 1000, NULL);
	}
	curl_multi_cleanup(multi);
	return 0;
}
