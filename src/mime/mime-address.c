/* SPDX-License-Identifier: MIT */
/*
 * mime-address.c: RFC 5322 address lists; see mime-address.h.
 *
 * The grammar (RFC 5322 §3.4, with §4.4):
 *   address-list = address *("," address)    obsolete: empty elements
 *   address      = mailbox / group
 *   group        = display-name ":" [mailbox-list / CFWS] ";" [CFWS]
 *   mailbox      = name-addr / addr-spec
 *   name-addr    = [display-name] angle-addr
 *   angle-addr   = "<" [obs-route] addr-spec ">"
 *   obs-route    = obs-domain-list ":"      "@a,@b:"
 *   addr-spec    = local-part "@" domain
 * Recovery from broken input tries each alternative in turn and keeps
 * what it could read, so every comma-separated element yields one
 * address (or one group); the placeholders for missing parts follow
 * what IMAP clients already know from UW imapd and Dovecot.
 */
#include "mime-address.h"
#include "mime-arena.h"
#include "mime-rfc822.h"

#include <string.h>

#define MISSING_MAILBOX "MISSING_MAILBOX"
#define MISSING_DOMAIN "MISSING_DOMAIN"
#define SYNTAX_ERROR "SYNTAX_ERROR"
#define INVALID_ROUTE "INVALID_ROUTE"

struct address_ctx {
	struct mime_arena *arena;
	struct mime_rfc822 rfc;
	buf_t str, comment;
	struct mime_address *first, *last;
	struct mime_address cur;
	unsigned int count;
	bool fill_missing;
};

static const char *
str_dup(struct address_ctx *ctx, buf_t *buf)
{
	buf_t tmp = BUF_INIT;
	const char *s;

	if (buf->len == 0 || memchr(buf->data, '\0', buf->len) == NULL)
		return mime_arena_strndup(ctx->arena, buf->len == 0 ? "" :
					  (const char *)buf->data, buf->len);
	mime_rfc822_append_nonul(&tmp, buf->data, buf->len);
	s = mime_arena_strndup(ctx->arena, tmp.data, tmp.len);
	buf_deinit(&tmp);
	return s;
}

static void
add_address(struct address_ctx *ctx)
{
	struct mime_address *addr;

	addr = mime_arena_alloc(ctx->arena, sizeof(*addr));
	*addr = ctx->cur;
	addr->next = NULL;
	memset(&ctx->cur, 0, sizeof(ctx->cur));
	if (ctx->first == NULL)
		ctx->first = addr;
	else
		ctx->last->next = addr;
	ctx->last = addr;
	ctx->count++;
}

/* local-part = dot-atom / quoted-string / obs-local-part */
static int
parse_local_part(struct address_ctx *ctx)
{
	int ret;

	i_assert(!mime_rfc822_at_end(&ctx->rfc));
	buf_reset(&ctx->str);
	if (*ctx->rfc.data == '"')
		ret = mime_rfc822_quoted_string(&ctx->rfc, &ctx->str);
	else
		ret = mime_rfc822_dot_atom(&ctx->rfc, &ctx->str);
	if (ret < 0)
		return -1;
	ctx->cur.mailbox = str_dup(ctx, &ctx->str);
	return ret;
}

static int
parse_domain(struct address_ctx *ctx)
{
	int ret;

	buf_reset(&ctx->str);
	if ((ret = mime_rfc822_domain(&ctx->rfc, &ctx->str)) < 0)
		return -1;
	ctx->cur.domain = str_dup(ctx, &ctx->str);
	return ret;
}

/* obs-domain-list = "@" domain *(*(CFWS / ",") [CFWS] "@" domain) */
static int
parse_domain_list(struct address_ctx *ctx)
{
	int ret;

	buf_reset(&ctx->str);
	for (;;) {
		if (mime_rfc822_at_end(&ctx->rfc))
			return 0;
		if (*ctx->rfc.data != '@')
			break;
		if (ctx->str.len > 0)
			buf_append_c(&ctx->str, ',');
		buf_append_c(&ctx->str, '@');
		if ((ret = mime_rfc822_domain(&ctx->rfc, &ctx->str)) <= 0)
			return ret;
		while (mime_rfc822_skip_cfws(&ctx->rfc) > 0 &&
		       *ctx->rfc.data == ',')
			ctx->rfc.data++;
	}
	ctx->cur.route = str_dup(ctx, &ctx->str);
	return 1;
}

/* angle-addr = "<" [obs-route] addr-spec ">"  (position at "<") */
static int
parse_angle_addr(struct address_ctx *ctx)
{
	i_assert(*ctx->rfc.data == '<');
	ctx->rfc.data++;
	if (mime_rfc822_skip_cfws(&ctx->rfc) <= 0)
		return -1;

	if (*ctx->rfc.data == '@') {
		if (parse_domain_list(ctx) > 0 && *ctx->rfc.data == ':') {
			ctx->rfc.data++;
		} else {
			if (ctx->fill_missing)
				ctx->cur.route = INVALID_ROUTE;
			if (mime_rfc822_at_end(&ctx->rfc))
				return -1;
		}
		if (mime_rfc822_skip_cfws(&ctx->rfc) <= 0)
			return -1;
	}
	/* "<>" has neither mailbox nor domain */
	if (*ctx->rfc.data != '>') {
		if (parse_local_part(ctx) <= 0)
			return -1;
		if (*ctx->rfc.data == '@' && parse_domain(ctx) <= 0)
			return -1;
	}
	if (*ctx->rfc.data != '>')
		return -1;
	ctx->rfc.data++;
	return mime_rfc822_skip_cfws(&ctx->rfc);
}

/* name-addr = [display-name] angle-addr */
static int
parse_name_addr(struct address_ctx *ctx)
{
	buf_reset(&ctx->str);
	if (mime_rfc822_phrase(&ctx->rfc, &ctx->str) <= 0 ||
	    *ctx->rfc.data != '<')
		return -1;
	/* "<addr>" alone has no display name */
	ctx->cur.name = ctx->str.len == 0 ? NULL : str_dup(ctx, &ctx->str);
	if (parse_angle_addr(ctx) < 0) {
		if (ctx->fill_missing)
			ctx->cur.domain = SYNTAX_ERROR;
		ctx->cur.invalid_syntax = true;
	}
	return mime_rfc822_at_end(&ctx->rfc) ? 0 : 1;
}

/*
 * addr-spec = local-part "@" domain, with the display name taken from
 * a trailing comment ("user@host (Real Name)", RFC 5322 §3.4 notes this
 * common use). A lone word without "@" is a mailbox; several words
 * without "@" or "<" are a display name whose address is missing.
 */
static int
parse_addr_spec(struct address_ctx *ctx)
{
	bool quoted = *ctx->rfc.data == '"';
	int ret, ret2 = -2;

	buf_reset(&ctx->comment);
	ret = parse_local_part(ctx);
	if (ret <= 0)
		ctx->cur.invalid_syntax = true;
	if (ret != 0 && !mime_rfc822_at_end(&ctx->rfc) &&
	    *ctx->rfc.data == '@') {
		ret2 = parse_domain(ctx);
		if (ret2 <= 0)
			ret = ret2;
	}

	if (ctx->comment.len > 0) {
		ctx->cur.name = str_dup(ctx, &ctx->comment);
	} else if (ret2 == -2) {
		size_t len;

		buf_append_c(&ctx->str, ' ');
		len = ctx->str.len;
		(void)mime_rfc822_phrase(&ctx->rfc, &ctx->str);
		if (ctx->str.len != len) {
			ctx->cur.mailbox = NULL;
			ctx->cur.name = str_dup(ctx, &ctx->str);
		} else if (!quoted) {
			ctx->cur.domain = "";
		}
		ctx->cur.invalid_syntax = true;
		ret = -1;
	}
	return ret;
}

static void
add_fixed_address(struct address_ctx *ctx)
{
	if (ctx->cur.mailbox == NULL) {
		ctx->cur.mailbox = ctx->fill_missing ? MISSING_MAILBOX : "";
		ctx->cur.invalid_syntax = true;
	}
	if (ctx->cur.domain == NULL || ctx->cur.domain[0] == '\0') {
		ctx->cur.domain = ctx->fill_missing ? MISSING_DOMAIN : "";
		ctx->cur.invalid_syntax = true;
	}
	add_address(ctx);
}

/* mailbox = name-addr / addr-spec */
static int
parse_mailbox(struct address_ctx *ctx)
{
	const unsigned char *start = ctx->rfc.data;
	int ret;

	if ((ret = parse_name_addr(ctx)) < 0) {
		memset(&ctx->cur, 0, sizeof(ctx->cur));
		ctx->rfc.data = start;
		ret = parse_addr_spec(ctx);
		if (ctx->cur.invalid_syntax && ctx->cur.name == NULL &&
		    ctx->cur.mailbox != NULL && ctx->cur.domain == NULL) {
			/* a single word is more likely a name */
			ctx->cur.name = ctx->cur.mailbox;
			ctx->cur.mailbox = NULL;
		}
	}
	if (ret < 0)
		ctx->cur.invalid_syntax = true;
	add_fixed_address(ctx);
	return ret;
}

/* group = display-name ":" [mailbox-list / CFWS] ";" [CFWS] */
static int
parse_group(struct address_ctx *ctx)
{
	int ret;

	buf_reset(&ctx->str);
	if (mime_rfc822_phrase(&ctx->rfc, &ctx->str) <= 0 ||
	    *ctx->rfc.data != ':')
		return -1;

	/* from here on it is a group, whatever follows */
	ctx->rfc.data++;
	if ((ret = mime_rfc822_skip_cfws(&ctx->rfc)) <= 0)
		ctx->cur.invalid_syntax = true;
	ctx->cur.mailbox = str_dup(ctx, &ctx->str);
	add_address(ctx);

	if (ret > 0 && *ctx->rfc.data != ';') {
		while (ctx->count < MIME_ADDRESS_MAX_COUNT) {
			(void)parse_mailbox(ctx);
			if (mime_rfc822_at_end(&ctx->rfc) ||
			    *ctx->rfc.data != ',')
				break;
			ctx->rfc.data++;
			if (mime_rfc822_skip_cfws(&ctx->rfc) <= 0) {
				ret = -1;
				break;
			}
		}
	}
	if (ret >= 0) {
		if (mime_rfc822_at_end(&ctx->rfc) || *ctx->rfc.data != ';') {
			ret = -1;
		} else {
			ctx->rfc.data++;
			ret = mime_rfc822_skip_cfws(&ctx->rfc);
		}
	}
	if (ret < 0)
		ctx->cur.invalid_syntax = true;
	/* the end-of-group entry */
	add_address(ctx);
	return ret == 0 ? 0 : 1;
}

static int
parse_address(struct address_ctx *ctx)
{
	const unsigned char *start = ctx->rfc.data;
	int ret;

	if ((ret = parse_group(ctx)) < 0) {
		memset(&ctx->cur, 0, sizeof(ctx->cur));
		ctx->rfc.data = start;
		ret = parse_mailbox(ctx);
	}
	return ret;
}

static void
parse_address_list(struct address_ctx *ctx)
{
	int ret;

	while (ctx->count < MIME_ADDRESS_MAX_COUNT) {
		if (parse_address(ctx) == 0)
			break;
		if (mime_rfc822_at_end(&ctx->rfc) || *ctx->rfc.data != ',')
			break;
		ctx->rfc.data++;
		if ((ret = mime_rfc822_skip_cfws(&ctx->rfc)) <= 0) {
			if (ret < 0) {
				/* ends in an unterminated comment */
				add_fixed_address(ctx);
			}
			break;
		}
	}
}

struct mime_address *
mime_address_parse(struct mime_arena *arena, const void *data, size_t len,
		   enum mime_address_flags flags)
{
	struct address_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.arena = arena;
	ctx.fill_missing = (flags & MIME_ADDRESS_FILL_MISSING) != 0;
	mime_rfc822_init(&ctx.rfc, data, len, &ctx.comment);
	if (mime_rfc822_skip_cfws(&ctx.rfc) > 0)
		parse_address_list(&ctx);
	buf_deinit(&ctx.str);
	buf_deinit(&ctx.comment);
	return ctx.first;
}

struct mime_address *
mime_address_last(struct mime_address *list)
{
	if (list == NULL)
		return NULL;
	while (list->next != NULL)
		list = list->next;
	return list;
}
