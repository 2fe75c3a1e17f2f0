/* SPDX-License-Identifier: MIT */
/*
 * mime-date.c: RFC 5322 date-time parsing and formatting; see
 * mime-date.h.
 *
 *   date-time = [ day-of-week "," ] date time [CFWS]
 *   date      = day month year        time = hour ":" minute [":" second]
 *   zone      = ("+" / "-") 4DIGIT / obs-zone
 * Tokens are read after skipping CFWS, so folding and comments may sit
 * anywhere (RFC 5322 §4.3 obsolete syntax).
 */
#include "mime-date.h"
#include "mime-rfc822.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const char *const month_names[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
static const char *const day_names[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};

/* RFC 5322 §4.3 obs-zone, in minutes east of UTC. */
static const struct {
	const char *name;
	int offset;
} zone_names[] = {
	{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
	{ "EST", -5 * 60 }, { "EDT", -4 * 60 },
	{ "CST", -6 * 60 }, { "CDT", -5 * 60 },
	{ "MST", -7 * 60 }, { "MDT", -6 * 60 },
	{ "PST", -8 * 60 }, { "PDT", -7 * 60 },
};

/* One token: a run of letters, or of digits, or one other byte. */
struct token {
	const unsigned char *p;
	size_t len;
};

static bool
next_token(struct mime_rfc822 *ctx, struct token *tok)
{
	const unsigned char *start;

	if (mime_rfc822_skip_cfws(ctx) <= 0)
		return false;
	start = ctx->data;
	if (isalpha(*start)) {
		while (ctx->data < ctx->end && isalpha(*ctx->data))
			ctx->data++;
	} else if (isdigit(*start)) {
		while (ctx->data < ctx->end && isdigit(*ctx->data))
			ctx->data++;
	} else {
		ctx->data++;
	}
	tok->p = start;
	tok->len = ctx->data - start;
	return true;
}

static bool
token_is_number(const struct token *tok, size_t max_digits, int *n_r)
{
	int n = 0;
	size_t i;

	if (tok->len == 0 || tok->len > max_digits || !isdigit(tok->p[0]))
		return false;
	for (i = 0; i < tok->len; i++)
		n = n * 10 + (tok->p[i] - '0');
	*n_r = n;
	return true;
}

static bool
token_is(const struct token *tok, const char *s)
{
	return tok->len == strlen(s) &&
		strncasecmp((const char *)tok->p, s, tok->len) == 0;
}

/* "Jan" or "January" (the full name is common obsolete practice). */
static int
month_index(const struct token *tok)
{
	unsigned int i;

	if (tok->len < 3 || !isalpha(tok->p[0]))
		return -1;
	for (i = 0; i < N_ELEMENTS(month_names); i++) {
		if (strncasecmp((const char *)tok->p, month_names[i], 3) == 0)
			return i;
	}
	return -1;
}

static bool
is_day_name(const struct token *tok)
{
	unsigned int i;

	if (tok->len < 3 || !isalpha(tok->p[0]))
		return false;
	for (i = 0; i < N_ELEMENTS(day_names); i++) {
		if (strncasecmp((const char *)tok->p, day_names[i], 3) == 0)
			return true;
	}
	return false;
}

/* zone = ("+" / "-") 4DIGIT / obs-zone; anything unknown is -0000. */
static int
parse_zone(struct mime_rfc822 *ctx)
{
	struct token tok;
	unsigned int i;
	int sign, n;

	if (!next_token(ctx, &tok))
		return 0;
	if (tok.len == 1 && (tok.p[0] == '+' || tok.p[0] == '-')) {
		sign = tok.p[0] == '-' ? -1 : 1;
		if (ctx->data + 4 > ctx->end)
			return 0;
		tok.p = ctx->data;
		tok.len = 4;
		if (!token_is_number(&tok, 4, &n) || !isdigit(tok.p[1]) ||
		    !isdigit(tok.p[2]) || !isdigit(tok.p[3]) ||
		    n % 100 >= 60)
			return 0;
		ctx->data += 4;
		return sign * ((n / 100) * 60 + n % 100);
	}
	for (i = 0; i < N_ELEMENTS(zone_names); i++) {
		if (token_is(&tok, zone_names[i].name))
			return zone_names[i].offset;
	}
	/* military zones were defined with the wrong sign in RFC 822,
	   so RFC 5322 §4.3 says to treat them, and unknown zones, as
	   -0000 */
	return 0;
}

/* time = hour ":" minute [":" second] */
static bool
parse_time(struct mime_rfc822 *ctx, struct tm *tm)
{
	struct token tok;
	int n;

	if (!next_token(ctx, &tok) || !token_is_number(&tok, 2, &n) ||
	    n > 23)
		return false;
	tm->tm_hour = n;
	if (!next_token(ctx, &tok) || !token_is(&tok, ":") ||
	    !next_token(ctx, &tok) || !token_is_number(&tok, 2, &n) || n > 59)
		return false;
	tm->tm_min = n;
	if (mime_rfc822_skip_cfws(ctx) > 0 && *ctx->data == ':') {
		ctx->data++;
		if (!next_token(ctx, &tok) || !token_is_number(&tok, 2, &n) ||
		    n > 60)
			return false;
		tm->tm_sec = n;
	}
	return true;
}

/* day month year, with RFC 5322 §4.3 two- and three-digit years */
static bool
parse_date(struct mime_rfc822 *ctx, struct tm *tm)
{
	struct token tok;
	int n;

	if (!next_token(ctx, &tok))
		return false;
	if (is_day_name(&tok)) {
		if (mime_rfc822_skip_cfws(ctx) > 0 && *ctx->data == ',')
			ctx->data++;
		if (!next_token(ctx, &tok))
			return false;
	}
	if (!token_is_number(&tok, 2, &n) || n < 1 || n > 31)
		return false;
	tm->tm_mday = n;
	if (!next_token(ctx, &tok) || (n = month_index(&tok)) < 0)
		return false;
	tm->tm_mon = n;
	if (!next_token(ctx, &tok) || !token_is_number(&tok, 4, &n))
		return false;
	if (tok.len == 2)
		n += n < 50 ? 2000 : 1900;
	else if (tok.len == 3)
		n += 1900;
	tm->tm_year = n - 1900;
	return true;
}

int
mime_date_parse(const void *data, size_t len, time_t *time_r,
		int *tz_offset_r)
{
	struct mime_rfc822 ctx;
	struct tm tm, check;
	time_t t;
	int tz, mday;

	memset(&tm, 0, sizeof(tm));
	mime_rfc822_init(&ctx, data, len, NULL);
	if (!parse_date(&ctx, &tm) || !parse_time(&ctx, &tm))
		return -1;
	tz = parse_zone(&ctx);
	/* a leap second counts as the second before it */
	if (tm.tm_sec == 60)
		tm.tm_sec = 59;
	mday = tm.tm_mday;
	t = timegm(&tm);
	/* a day past the month's end ("31 Feb") is not a date; timegm()
	   would have moved it into the next month */
	if (gmtime_r(&t, &check) == NULL || check.tm_mday != mday)
		return -1;
	*time_r = t - (time_t)tz * 60;
	*tz_offset_r = tz;
	return 0;
}

void
mime_date_format(buf_t *out, time_t t, int tz_offset)
{
	struct tm tm;
	time_t local = t + (time_t)tz_offset * 60;
	int abs_tz = tz_offset < 0 ? -tz_offset : tz_offset;

	if (gmtime_r(&local, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	buf_printf(out, "%s, %d %s %04d %02d:%02d:%02d %c%02d%02d",
		   day_names[tm.tm_wday % 7], tm.tm_mday,
		   month_names[tm.tm_mon % 12], tm.tm_year + 1900,
		   tm.tm_hour, tm.tm_min, tm.tm_sec,
		   tz_offset < 0 ? '-' : '+', abs_tz / 60, abs_tz % 60);
}
