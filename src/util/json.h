/* A small streaming JSON writer for --json output: correct escaping,
 * commas handled by the writer, optional indentation. */
#ifndef VL_UTIL_JSON_H
#define VL_UTIL_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

#define VL_JSON_MAX_DEPTH 32

struct vl_json {
	struct vl_buf *out;
	int depth;
	bool pretty;
	bool after_key;
	bool has_items[VL_JSON_MAX_DEPTH];
};

void vl_json_init(struct vl_json *j, struct vl_buf *out, bool pretty);
void vl_json_obj_begin(struct vl_json *j);
void vl_json_obj_end(struct vl_json *j);
void vl_json_arr_begin(struct vl_json *j);
void vl_json_arr_end(struct vl_json *j);
void vl_json_key(struct vl_json *j, const char *key);
void vl_json_str(struct vl_json *j, const char *s);   /* NULL writes null */
void vl_json_int(struct vl_json *j, int64_t v);
void vl_json_uint(struct vl_json *j, uint64_t v);
void vl_json_bool(struct vl_json *j, bool v);
void vl_json_seconds(struct vl_json *j, double v);  /* a duration, 3 decimals */
void vl_json_null(struct vl_json *j);

/* key + value in one call */
void vl_json_kstr(struct vl_json *j, const char *key, const char *s);
void vl_json_kint(struct vl_json *j, const char *key, int64_t v);
void vl_json_kuint(struct vl_json *j, const char *key, uint64_t v);
void vl_json_kbool(struct vl_json *j, const char *key, bool v);
void vl_json_kseconds(struct vl_json *j, const char *key, double v);

/* Append s as a JSON string literal (with quotes) to b. */
void vl_json_escape(struct vl_buf *b, const char *s);

#endif
