/* SPDX-License-Identifier: MIT */
/*
 * mime-rfc822.c: RFC 5322 / RFC 2045 lexical tokens and RFC 2231
 * parameter merging; see mime-rfc822.h.
 */
#include "mime-rfc822.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* 1: atext; 2: atext that is also a MIME token character. RFC 5322
   §3.2.3 atext, RFC 2045 §5.1 tspecials; bytes >= 0x80 are text. */
static const unsigned char rfc822_chars[256] = {
	['!'] = 3, ['#'] = 3, ['$'] = 3, ['%'] = 3, ['&'] = 3, ['\''] = 3,
	['*'] = 3, ['+'] = 3, ['-'] = 3, ['/'] = 1, ['='] = 1, ['?'] = 1,
	['^'] = 3, ['_'] = 3, ['`'] = 3, ['{'] = 3, ['|'] = 3, ['}'] = 3,
	['~'] = 3,
	['0'] = 3, ['1'] = 3, ['2'] = 3, ['3'] = 3, ['4'] = 3, ['5'] = 3,
	['6'] = 3, ['7'] = 3, ['8'] = 3, ['9'] = 3,
	['A'] = 3, ['B'] = 3, ['C'] = 3, ['D'] = 3, ['E'] = 3, ['F'] = 3,
	['G'] = 3, ['H'] = 3, ['I'] = 3, ['J'] = 3, ['K'] = 3, ['L'] = 3,
	['M'] = 3, ['N'] = 3, ['O'] = 3, ['P'] = 3, ['Q'] = 3, ['R'] = 3,
	['S'] = 3, ['T'] = 3, ['U'] = 3, ['V'] = 3, ['W'] = 3, ['X'] = 3,
	['Y'] = 3, ['Z'] = 3,
	['a'] = 3, ['b'] = 3, ['c'] = 3, ['d'] = 3, ['e'] = 3, ['f'] = 3,
	['g'] = 3, ['h'] = 3, ['i'] = 3, ['j'] = 3, ['k'] = 3, ['l'] = 3,
	['m'] = 3, ['n'] = 3, ['o'] = 3, ['p'] = 3, ['q'] = 3, ['r'] = 3,
	['s'] = 3, ['t'] = 3, ['u'] = 3, ['v'] = 3, ['w'] = 3, ['x'] = 3,
	['y'] = 3, ['z'] = 3,
	[0x80 ... 0xff] = 3,
};

#define UTF8_REPLACEMENT "\xef\xbf\xbd"

bool
mime_rfc822_is_atext(unsigned char c)
{
	return (rfc822_chars[c] & 1) != 0;
}

bool
mime_rfc822_is_token_char(unsigned char c)
{
	return (rfc822_chars[c] & 2) != 0 || c == '.';
}

void
mime_rfc822_init(struct mime_rfc822 *ctx, const void *data, size_t len,
		 buf_t *last_comment)
{
	/* no bytes may come as NULL; pointer arithmetic wants an object */
	ctx->data = data != NULL ? data : (const unsigned char *)"";
	ctx->end = ctx->data + (data != NULL ? len : 0);
	ctx->last_comment = last_comment;
}

void
mime_rfc822_append_nonul(buf_t *out, const void *data, size_t len)
{
	const unsigned char *p = data, *nul;

	while ((nul = memchr(p, '\0', len)) != NULL) {
		buf_append(out, p, nul - p);
		buf_append(out, UTF8_REPLACEMENT, 3);
		len -= nul - p + 1;
		p = nul + 1;
	}
	buf_append(out, p, len);
}

static int
rest(const struct mime_rfc822 *ctx)
{
	return ctx->data < ctx->end ? 1 : 0;
}

int
mime_rfc822_skip_comment(struct mime_rfc822 *ctx)
{
	const unsigned char *start;
	unsigned int level = 1;

	i_assert(ctx->data < ctx->end && *ctx->data == '(');
	if (ctx->last_comment != NULL)
		buf_reset(ctx->last_comment);
	start = ++ctx->data;
	for (; ctx->data < ctx->end; ctx->data++) {
		if (*ctx->data == '(') {
			level++;
		} else if (*ctx->data == ')') {
			if (--level > 0)
				continue;
			if (ctx->last_comment != NULL)
				buf_append(ctx->last_comment, start,
					   ctx->data - start);
			ctx->data++;
			return rest(ctx);
		} else if (*ctx->data == '\\') {
			/* quoted-pair: drop the backslash */
			if (ctx->last_comment != NULL)
				buf_append(ctx->last_comment, start,
					   ctx->data - start);
			start = ++ctx->data;
			if (ctx->data >= ctx->end)
				return -1;
		}
	}
	return -1;
}

int
mime_rfc822_skip_cfws(struct mime_rfc822 *ctx)
{
	while (ctx->data < ctx->end) {
		unsigned char c = *ctx->data;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			ctx->data++;
		} else if (c == '(') {
			if (mime_rfc822_skip_comment(ctx) < 0)
				return -1;
		} else {
			break;
		}
	}
	return rest(ctx);
}

int
mime_rfc822_atom(struct mime_rfc822 *ctx, buf_t *out)
{
	const unsigned char *start = ctx->data;

	if (ctx->data >= ctx->end || !mime_rfc822_is_atext(*ctx->data))
		return -1;
	while (ctx->data < ctx->end && mime_rfc822_is_atext(*ctx->data))
		ctx->data++;
	buf_append(out, start, ctx->data - start);
	return mime_rfc822_skip_cfws(ctx);
}

int
mime_rfc822_dot_atom(struct mime_rfc822 *ctx, buf_t *out)
{
	int ret;

	if (ctx->data >= ctx->end || !mime_rfc822_is_atext(*ctx->data))
		return -1;
	for (;;) {
		const unsigned char *start = ctx->data;

		while (ctx->data < ctx->end && mime_rfc822_is_atext(*ctx->data))
			ctx->data++;
		buf_append(out, start, ctx->data - start);
		if ((ret = mime_rfc822_skip_cfws(ctx)) <= 0)
			return ret;
		if (*ctx->data != '.')
			return 1;
		/* RFC 5322 §4.4: obsolete CFWS around the dots */
		ctx->data++;
		buf_append_c(out, '.');
		if ((ret = mime_rfc822_skip_cfws(ctx)) <= 0)
			return ret;
	}
}

int
mime_rfc822_mime_token(struct mime_rfc822 *ctx, buf_t *out)
{
	const unsigned char *start = ctx->data;

	while (ctx->data < ctx->end && mime_rfc822_is_token_char(*ctx->data))
		ctx->data++;
	buf_append(out, start, ctx->data - start);
	return mime_rfc822_skip_cfws(ctx);
}

int
mime_rfc822_quoted_string(struct mime_rfc822 *ctx, buf_t *out)
{
	const unsigned char *start;

	i_assert(ctx->data < ctx->end && *ctx->data == '"');
	start = ++ctx->data;
	for (; ctx->data < ctx->end; ctx->data++) {
		size_t len;

		switch (*ctx->data) {
		case '"':
			buf_append(out, start, ctx->data - start);
			ctx->data++;
			return mime_rfc822_skip_cfws(ctx);
		case '\n':
			/* folding white space: the line end goes */
			len = ctx->data - start;
			if (len > 0 && start[len - 1] == '\r')
				len--;
			buf_append(out, start, len);
			start = ctx->data + 1;
			break;
		case '\\':
			buf_append(out, start, ctx->data - start);
			start = ++ctx->data;
			if (ctx->data >= ctx->end)
				return -1;
			break;
		}
	}
	return -1;
}

/* atext and dots, possibly none, then CFWS: a word of an obs-phrase. */
static int
atom_or_dots(struct mime_rfc822 *ctx, buf_t *out)
{
	const unsigned char *start = ctx->data;

	while (ctx->data < ctx->end &&
	       (mime_rfc822_is_atext(*ctx->data) || *ctx->data == '.'))
		ctx->data++;
	buf_append(out, start, ctx->data - start);
	return mime_rfc822_skip_cfws(ctx);
}

int
mime_rfc822_phrase(struct mime_rfc822 *ctx, buf_t *out)
{
	int ret;

	if (ctx->data >= ctx->end)
		return 0;
	if (*ctx->data == '.')
		return -1;
	for (;;) {
		if (*ctx->data == '"')
			ret = mime_rfc822_quoted_string(ctx, out);
		else
			ret = atom_or_dots(ctx, out);
		if (ret <= 0)
			return ret;
		if (!mime_rfc822_is_atext(*ctx->data) && *ctx->data != '"' &&
		    *ctx->data != '.')
			break;
		buf_append_c(out, ' ');
	}
	return mime_rfc822_skip_cfws(ctx);
}

static int
domain_literal(struct mime_rfc822 *ctx, buf_t *out)
{
	const unsigned char *start = ctx->data;

	i_assert(ctx->data < ctx->end && *ctx->data == '[');
	for (; ctx->data < ctx->end; ctx->data++) {
		if (*ctx->data == '\\') {
			if (++ctx->data >= ctx->end)
				break;
		} else if (*ctx->data == ']') {
			ctx->data++;
			buf_append(out, start, ctx->data - start);
			return mime_rfc822_skip_cfws(ctx);
		}
	}
	return -1;
}

int
mime_rfc822_domain(struct mime_rfc822 *ctx, buf_t *out)
{
	i_assert(ctx->data < ctx->end && *ctx->data == '@');
	ctx->data++;
	if (mime_rfc822_skip_cfws(ctx) <= 0)
		return -1;
	if (*ctx->data == '[')
		return domain_literal(ctx, out);
	return mime_rfc822_dot_atom(ctx, out);
}

int
mime_rfc822_content_type(struct mime_rfc822 *ctx, buf_t *out)
{
	size_t start_len = out->len, sub_len;
	int ret;

	if (mime_rfc822_skip_cfws(ctx) <= 0)
		return -1;
	if (mime_rfc822_mime_token(ctx, out) <= 0 || out->len == start_len)
		return -1;
	if (*ctx->data != '/' ||
	    (ctx->data++, mime_rfc822_skip_cfws(ctx) <= 0)) {
		buf_truncate(out, start_len);
		return -1;
	}
	buf_append_c(out, '/');
	sub_len = out->len;
	ret = mime_rfc822_mime_token(ctx, out);
	if (ret < 0 || out->len == sub_len) {
		buf_truncate(out, start_len);
		return -1;
	}
	return ret;
}

/*
 * One "; name = value" (RFC 2045 §5.1). Returns 1 with the parameter,
 * 0 at the end of input, -1 when broken.
 */
static int
content_param(struct mime_rfc822 *ctx, buf_t *name, buf_t *value)
{
	int ret;

	buf_reset(name);
	buf_reset(value);
	if (ctx->data >= ctx->end)
		return 0;
	if (*ctx->data != ';')
		return -1;
	ctx->data++;
	if (mime_rfc822_skip_cfws(ctx) <= 0)
		return -1;
	if (mime_rfc822_mime_token(ctx, name) <= 0 || *ctx->data != '=')
		return -1;
	ctx->data++;
	if ((ret = mime_rfc822_skip_cfws(ctx)) <= 0) {
		/* "name=" with no value */
	} else if (*ctx->data == '"') {
		ret = mime_rfc822_quoted_string(ctx, value);
	} else if (*ctx->data == '=') {
		/* name==?utf-8?b?...?= : an RFC 2047 encoded-word where
		   RFC 2047 §5 forbids it, but common; keep it whole */
		while (ctx->data < ctx->end && *ctx->data != ';' &&
		       *ctx->data != ' ' && *ctx->data != '\t' &&
		       *ctx->data != '\r' && *ctx->data != '\n')
			buf_append_c(value, *ctx->data++);
		ret = 1;
	} else {
		ret = mime_rfc822_mime_token(ctx, value);
	}
	return ret < 0 ? -1 : 1;
}

/* After a broken parameter: on to the next ";" outside quoted strings
   and comments, so the parameters after it survive. */
static void
skip_to_next_param(struct mime_rfc822 *ctx)
{
	while (ctx->data < ctx->end && *ctx->data != ';') {
		if (*ctx->data == '"') {
			ctx->data++;
			while (ctx->data < ctx->end && *ctx->data != '"') {
				if (*ctx->data == '\\')
					ctx->data++;
				ctx->data++;
			}
			if (ctx->data < ctx->end)
				ctx->data++;
		} else if (*ctx->data == '(') {
			if (mime_rfc822_skip_comment(ctx) < 0)
				ctx->data = ctx->end;
		} else {
			ctx->data++;
		}
	}
	if (ctx->data > ctx->end)
		ctx->data = ctx->end;
}

/* One section of an RFC 2231 parameter: "name*<idx>[*]=value". */
struct section {
	char *name;	/* name without the "*..." suffix */
	char *value;
	unsigned int idx;
	bool extended;
	unsigned int order;	/* position in the header, for stable sort */
};

struct param_list {
	struct mime_rfc822_param *items;
	unsigned int count, alloc;
};

static char *
nonul_strdup(const unsigned char *data, size_t len)
{
	buf_t tmp = BUF_INIT;
	char *s;

	mime_rfc822_append_nonul(&tmp, data, len);
	s = i_strndup(buf_cstr(&tmp), tmp.len);
	buf_deinit(&tmp);
	return s;
}

static void
param_add(struct param_list *list, char *name, char *value)
{
	if (list->count == list->alloc) {
		list->alloc = list->alloc == 0 ? 4 : list->alloc * 2;
		list->items = i_realloc(list->items,
					list->alloc * sizeof(*list->items));
	}
	list->items[list->count].name = name;
	list->items[list->count].value = value;
	list->count++;
}

/*
 * Splits "name*3*" into name, index 3 and extended. Returns false when
 * the name has no RFC 2231 suffix (or a malformed one: then the
 * parameter is kept as written).
 */
static bool
section_split(const char *key, struct section *sec)
{
	const char *star = strchr(key, '*'), *p;
	unsigned int idx = 0;

	if (star == NULL)
		return false;
	p = star + 1;
	if (*p == '\0') {
		/* "name*": one extended section (RFC 2231 §4) */
		sec->name = i_strndup(key, star - key);
		sec->idx = 0;
		sec->extended = true;
		return true;
	}
	if (*p >= '0' && *p <= '9') {
		for (; *p >= '0' && *p <= '9'; p++) {
			if (idx > 100000)
				return false;
			idx = idx * 10 + (*p - '0');
		}
	}
	sec->extended = *p == '*';
	if (sec->extended)
		p++;
	if (*p != '\0')
		return false;
	sec->name = i_strndup(key, star - key);
	sec->idx = idx;
	return true;
}

static int
section_cmp(const void *p1, const void *p2)
{
	const struct section *s1 = p1, *s2 = p2;
	int ret;

	/* RFC 2045 §5.1: parameter names are case-insensitive */
	if ((ret = strcasecmp(s1->name, s2->name)) != 0)
		return ret;
	if (s1->idx != s2->idx)
		return s1->idx < s2->idx ? -1 : 1;
	return s1->order < s2->order ? -1 : (s1->order > s2->order);
}

/* RFC 2231 §4: a plain section inside an extended value is literal, so
   its "%" must be escaped to survive the later %XX decoding. */
static void
append_pct_escaped(buf_t *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '%')
			buf_append_str(out, "%25");
		else
			buf_append_c(out, *s);
	}
}

/* Merges sections[first..next) that share one name into list. */
static void
merge_sections(struct param_list *list, struct section *secs,
	       unsigned int first, unsigned int next)
{
	buf_t value = BUF_INIT;
	bool complete = true, extended = false;
	unsigned int i;

	for (i = first; i < next; i++) {
		if (secs[i].idx != i - first)
			complete = false;
		if (secs[i].extended)
			extended = true;
	}
	if (!complete) {
		/* gaps or duplicates: keep each section as written */
		for (i = first; i < next; i++) {
			param_add(list, i_strdup_printf(
				secs[i].extended ? "%s*%u*" : "%s*%u",
				secs[i].name, secs[i].idx), secs[i].value);
			secs[i].value = NULL;
		}
		return;
	}
	if (extended && !secs[first].extended)
		buf_append_str(&value, "''");
	for (i = first; i < next; i++) {
		if (extended && !secs[i].extended)
			append_pct_escaped(&value, secs[i].value);
		else
			buf_append_str(&value, secs[i].value);
	}
	param_add(list, i_strdup_printf(extended ? "%s*" : "%s",
					secs[first].name),
		  i_strndup(buf_cstr(&value), value.len));
	buf_deinit(&value);
}

unsigned int
mime_rfc822_params(struct mime_rfc822 *ctx,
		   struct mime_rfc822_param **params_r)
{
	struct param_list list = { NULL, 0, 0 };
	struct section *secs = NULL;
	unsigned int sec_count = 0, sec_alloc = 0, i, next;
	buf_t name = BUF_INIT, value = BUF_INIT;
	int ret;

	while ((ret = content_param(ctx, &name, &value)) != 0) {
		struct section sec;
		char *key;

		if (ret < 0) {
			skip_to_next_param(ctx);
			continue;
		}
		key = nonul_strdup(name.data != NULL ? name.data :
				   (const unsigned char *)"", name.len);
		memset(&sec, 0, sizeof(sec));
		if (!section_split(key, &sec)) {
			param_add(&list, key, nonul_strdup(
				value.data != NULL ? value.data :
				(const unsigned char *)"", value.len));
			continue;
		}
		free(key);
		sec.value = nonul_strdup(value.data != NULL ? value.data :
					 (const unsigned char *)"", value.len);
		sec.order = sec_count;
		if (sec_count == sec_alloc) {
			sec_alloc = sec_alloc == 0 ? 4 : sec_alloc * 2;
			secs = i_realloc(secs, sec_alloc * sizeof(*secs));
		}
		secs[sec_count++] = sec;
	}
	buf_deinit(&name);
	buf_deinit(&value);

	if (sec_count > 0)
		qsort(secs, sec_count, sizeof(*secs), section_cmp);
	for (i = 0; i < sec_count; i = next) {
		for (next = i + 1; next < sec_count; next++) {
			if (strcasecmp(secs[i].name, secs[next].name) != 0)
				break;
		}
		merge_sections(&list, secs, i, next);
	}
	for (i = 0; i < sec_count; i++) {
		free(secs[i].name);
		free(secs[i].value);
	}
	free(secs);
	*params_r = list.items;
	return list.count;
}

void
mime_rfc822_params_free(struct mime_rfc822_param **_params,
			unsigned int count)
{
	struct mime_rfc822_param *params = *_params;
	unsigned int i;

	if (params == NULL)
		return;
	*_params = NULL;
	for (i = 0; i < count; i++) {
		free(params[i].name);
		free(params[i].value);
	}
	free(params);
}
