/* JSON writer: tracks nesting so callers never write a comma themselves. */
#include "util/json.h"

#include <inttypes.h>
#include <stdio.h>

void vl_json_init(struct vl_json *j, struct vl_buf *out, bool pretty)
{
	*j = (struct vl_json){ .out = out, .pretty = pretty };
}

static void newline(struct vl_json *j)
{
	if (!j->pretty)
		return;
	vl_buf_putc(j->out, '\n');
	for (int i = 0; i < j->depth; i++)
		vl_buf_append(j->out, "  ");
}

/* Called before every value: comma and indentation unless it follows a key. */
static void before_value(struct vl_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (j->has_items[j->depth])
			vl_buf_putc(j->out, ',');
		j->has_items[j->depth] = true;
		newline(j);
	}
}

static void open(struct vl_json *j, char c)
{
	before_value(j);
	vl_buf_putc(j->out, c);
	if (j->depth + 1 < VL_JSON_MAX_DEPTH)
		j->depth++;
	j->has_items[j->depth] = false;
}

static void close_(struct vl_json *j, char c)
{
	bool had = j->has_items[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (had)
		newline(j);
	vl_buf_putc(j->out, c);
	if (j->depth == 0 && j->pretty)
		vl_buf_putc(j->out, '\n');
}

void vl_json_obj_begin(struct vl_json *j) { open(j, '{'); }
void vl_json_obj_end(struct vl_json *j) { close_(j, '}'); }
void vl_json_arr_begin(struct vl_json *j) { open(j, '['); }
void vl_json_arr_end(struct vl_json *j) { close_(j, ']'); }

void vl_json_escape(struct vl_buf *b, const char *s)
{
	vl_buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': vl_buf_append(b, "\\\""); break;
		case '\\': vl_buf_append(b, "\\\\"); break;
		case '\n': vl_buf_append(b, "\\n"); break;
		case '\r': vl_buf_append(b, "\\r"); break;
		case '\t': vl_buf_append(b, "\\t"); break;
		case '\b': vl_buf_append(b, "\\b"); break;
		case '\f': vl_buf_append(b, "\\f"); break;
		default:
			if (*p < 0x20)
				vl_buf_printf(b, "\\u%04x", *p);
			else
				vl_buf_putc(b, (char)*p);
		}
	}
	vl_buf_putc(b, '"');
}

void vl_json_key(struct vl_json *j, const char *key)
{
	before_value(j);
	vl_json_escape(j->out, key);
	vl_buf_append(j->out, j->pretty ? ": " : ":");
	j->after_key = true;
}

void vl_json_str(struct vl_json *j, const char *s)
{
	if (!s) {
		vl_json_null(j);
		return;
	}
	before_value(j);
	vl_json_escape(j->out, s);
}

void vl_json_int(struct vl_json *j, int64_t v)
{
	before_value(j);
	vl_buf_printf(j->out, "%" PRId64, v);
}

void vl_json_uint(struct vl_json *j, uint64_t v)
{
	before_value(j);
	vl_buf_printf(j->out, "%" PRIu64, v);
}

void vl_json_seconds(struct vl_json *j, double v)
{
	before_value(j);
	/* milliseconds are all a duration here needs; never NaN or inf */
	vl_buf_printf(j->out, "%.3f", v >= 0 && v < 1e12 ? v : 0.0);
}

void vl_json_bool(struct vl_json *j, bool v)
{
	before_value(j);
	vl_buf_append(j->out, v ? "true" : "false");
}

void vl_json_null(struct vl_json *j)
{
	before_value(j);
	vl_buf_append(j->out, "null");
}

void vl_json_kstr(struct vl_json *j, const char *key, const char *s)
{
	vl_json_key(j, key);
	vl_json_str(j, s);
}

void vl_json_kint(struct vl_json *j, const char *key, int64_t v)
{
	vl_json_key(j, key);
	vl_json_int(j, v);
}

void vl_json_kuint(struct vl_json *j, const char *key, uint64_t v)
{
	vl_json_key(j, key);
	vl_json_uint(j, v);
}

void vl_json_kseconds(struct vl_json *j, const char *key, double v)
{
	vl_json_key(j, key);
	vl_json_seconds(j, v);
}

void vl_json_kbool(struct vl_json *j, const char *key, bool v)
{
	vl_json_key(j, key);
	vl_json_bool(j, v);
}
