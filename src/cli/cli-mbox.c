/* SPDX-License-Identifier: MIT */
/*
 * cli-mbox.c: reading and writing foreign mbox files for import and
 * export (cli-mbox.h has the format rules). In cli, above store; header
 * fields are found with mime's parser.
 */
#include "cli-mbox.h"
#include "mime-header.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define FROM_TOKENS_MAX 32
/* Bytes fed to the header parser at a time: it copies what it is fed,
   so never the whole of a big message. */
#define HEADER_FEED_CHUNK 4096
/* The header fields that carry flags in mbox files. */
#define FLAG_FIELDS_MAX 16

static const char *const weekdays[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* ------------------------------------------------------------------ */
/* From_ lines                                                         */
/* ------------------------------------------------------------------ */

struct token {
	const char *p;
	size_t len;
};

static int
name_index(const struct token *tok, const char *const *names,
	   unsigned int count)
{
	unsigned int i;

	if (tok->len != 3)
		return -1;
	for (i = 0; i < count; i++) {
		if (strncasecmp(tok->p, names[i], 3) == 0)
			return (int)i;
	}
	return -1;
}

/* Parses a run of 1..max digits; -1 if tok is not one. */
static long
token_number(const struct token *tok, size_t max)
{
	long n = 0;
	size_t i;

	if (tok->len == 0 || tok->len > max)
		return -1;
	for (i = 0; i < tok->len; i++) {
		if (tok->p[i] < '0' || tok->p[i] > '9')
			return -1;
		n = n * 10 + (tok->p[i] - '0');
	}
	return n;
}

/* "+hhmm" / "-hhmm": offset in seconds east of UTC. */
static bool
token_zone(const struct token *tok, long *offset_r)
{
	struct token digits = { tok->p + 1, tok->len - 1 };
	long n;

	if (tok->len != 5 || (tok->p[0] != '+' && tok->p[0] != '-'))
		return false;
	if ((n = token_number(&digits, 4)) < 0)
		return false;
	*offset_r = (n / 100 * 3600 + n % 100 * 60) *
		(tok->p[0] == '-' ? -1 : 1);
	return true;
}

/* "hh:mm[:ss]" */
static bool
token_time(const struct token *tok, struct tm *tm)
{
	unsigned int h, m, s = 0;
	char text[16];
	int n;

	if (tok->len < 4 || tok->len >= sizeof(text))
		return false;
	memcpy(text, tok->p, tok->len);
	text[tok->len] = '\0';
	n = sscanf(text, "%2u:%2u:%2u", &h, &m, &s);
	if (n < 2 || h > 23 || m > 59 || s > 60)
		return false;
	tm->tm_hour = (int)h;
	tm->tm_min = (int)m;
	tm->tm_sec = (int)s;
	return true;
}

/* Date from tok[i] on: Www Mmm dd hh:mm[:ss] [zone] yyyy [zone]. */
static bool
date_at(const struct token *tok, unsigned int n, unsigned int i,
	int64_t *date_r)
{
	struct tm tm;
	long day, year, offset = 0;
	int month;

	memset(&tm, 0, sizeof(tm));
	if (i + 4 >= n || name_index(&tok[i], weekdays, 7) < 0 ||
	    (month = name_index(&tok[i + 1], months, 12)) < 0 ||
	    (day = token_number(&tok[i + 2], 2)) < 1 || day > 31 ||
	    !token_time(&tok[i + 3], &tm))
		return false;
	i += 4;
	if (token_zone(&tok[i], &offset) ||
	    (token_number(&tok[i], 4) < 0 && tok[i].len <= 5))
		i++;    /* a zone before the year: numeric, or a name */
	if (i >= n || (year = token_number(&tok[i], 4)) < 1970)
		return false;
	if (i + 1 < n)
		(void)token_zone(&tok[i + 1], &offset);
	tm.tm_year = (int)year - 1900;
	tm.tm_mon = month;
	tm.tm_mday = (int)day;
	*date_r = (int64_t)timegm(&tm) - offset;
	return true;
}

int
cli_mbox_from_date(const unsigned char *line, size_t len, int64_t *date_r)
{
	struct token tok[FROM_TOKENS_MAX];
	const char *p = (const char *)line, *end = p + len;
	unsigned int n = 0, i;

	if (len >= 5 && memcmp(p, "From ", 5) == 0)
		p += 5;
	while (p < end && n < FROM_TOKENS_MAX) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
				   *p == '\n'))
			p++;
		if (p == end)
			break;
		tok[n].p = p;
		while (p < end && *p != ' ' && *p != '\t' && *p != '\r' &&
		       *p != '\n')
			p++;
		tok[n].len = (size_t)(p - tok[n].p);
		n++;
	}
	for (i = 0; i < n; i++) {
		if (date_at(tok, n, i, date_r))
			return 0;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

int
cli_mbox_reader_init(struct cli_mbox_reader *reader,
		     const unsigned char *data, size_t len)
{
	size_t pos = 0;

	while (pos < len && (data[pos] == '\n' ||
			     (data[pos] == '\r' && pos + 1 < len &&
			      data[pos + 1] == '\n')))
		pos += data[pos] == '\n' ? 1 : 2;
	if (pos < len && (len - pos < 5 || memcmp(data + pos, "From ", 5) != 0))
		return -1;
	reader->data = data;
	reader->len = len;
	reader->pos = pos;
	return 0;
}

/* Finds the separator after a message starting at start: sets *end_r to
   the message's end and returns the next From_ line's offset, or len. */
static size_t
find_separator(const unsigned char *data, size_t len, size_t start,
	       size_t *end_r)
{
	size_t s = start;

	for (;;) {
		const unsigned char *q = memmem(data + s, len - s, "\nFrom ", 6);
		size_t p;

		if (q == NULL)
			break;
		p = (size_t)(q - data);
		/* p > 0 always: start follows the From_ line's LF. */
		if (data[p - 1] == '\n') {
			*end_r = p;
			return p + 1;
		}
		if (p >= 2 && data[p - 1] == '\r' && data[p - 2] == '\n' &&
		    p - 1 >= start) {
			*end_r = p - 1;
			return p + 1;
		}
		s = p + 1;
	}
	/* End of file: one trailing empty line is the format's. */
	*end_r = len;
	if (len >= start + 1 && len >= 2 && data[len - 1] == '\n' &&
	    data[len - 2] == '\n')
		*end_r = len - 1;
	else if (len >= start + 2 && len >= 4 &&
		 memcmp(data + len - 4, "\r\n\r\n", 4) == 0)
		*end_r = len - 2;
	return len;
}

int
cli_mbox_reader_next(struct cli_mbox_reader *reader,
		     struct cli_mbox_msg *msg_r)
{
	const unsigned char *data = reader->data;
	const unsigned char *nl;
	size_t pos = reader->pos, start, end, line_len;

	if (pos >= reader->len)
		return 0;
	nl = memchr(data + pos, '\n', reader->len - pos);
	line_len = nl != NULL ? (size_t)(nl - (data + pos)) :
		reader->len - pos;
	memset(msg_r, 0, sizeof(*msg_r));
	msg_r->offset = pos;
	if (line_len > CLI_MBOX_FROM_LINE_MAX ||
	    cli_mbox_from_date(data + pos, line_len, &msg_r->date) < 0)
		msg_r->date = 0;
	start = nl != NULL ? pos + line_len + 1 : reader->len;
	reader->pos = find_separator(data, reader->len, start, &end);
	msg_r->data = data + start;
	msg_r->len = end - start;
	return 1;
}

/* True when the line at p (up to end) is ^>+From . */
static bool
is_quoted_from(const unsigned char *p, const unsigned char *end)
{
	while (p < end && *p == '>')
		p++;
	return (size_t)(end - p) >= 5 && memcmp(p, "From ", 5) == 0;
}

/* Appends data with one '>' removed from every ^>+From line. */
static void
unescape(const unsigned char *data, size_t len, buf_t *out)
{
	const unsigned char *p = data, *end = data + len;

	while (p < end) {
		const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		const unsigned char *line_end = nl != NULL ? nl + 1 : end;

		if (*p == '>' && is_quoted_from(p, line_end))
			p++;
		buf_append(out, p, (size_t)(line_end - p));
		p = line_end;
	}
}

static bool
needs_unescape(const unsigned char *data, size_t len)
{
	const unsigned char *p = data, *end = data + len;

	while ((p = memmem(p, (size_t)(end - p), ">From ", 6)) != NULL) {
		const unsigned char *q = p;

		while (q > data && q[-1] == '>')
			q--;
		if (q == data || q[-1] == '\n')
			return true;
		p++;
	}
	return false;
}

/* A header field of interest: where it is. */
struct field_range {
	size_t offset, size;
};

struct header_scan {
	struct field_range ranges[FLAG_FIELDS_MAX];
	unsigned int count;
	size_t blank_start;     /* where the empty line starts, or len */
	bool crlf;              /* the header's first line ends in CRLF */
};

static bool
is_flag_field(const char *name)
{
	return strcasecmp(name, "Status") == 0 ||
		strcasecmp(name, "X-Status") == 0 ||
		strcasecmp(name, "X-Keywords") == 0;
}

static void
parse_flag_field(const struct mime_header_field *field,
		 struct cli_flags *flags)
{
	bool status = strcasecmp(field->name, "Status") == 0;
	bool keywords = strcasecmp(field->name, "X-Keywords") == 0;
	char *value = i_strndup((const char *)field->value, field->value_len);
	char *p = value, *word;
	size_t i;

	if (keywords) {
		while ((word = strsep(&p, " ,\t\r\n")) != NULL) {
			if (word[0] != '\0')
				cli_flags_add_keyword(flags, word);
		}
	}
	for (i = 0; !keywords && value[i] != '\0'; i++) {
		switch (value[i]) {
		case 'R':
			if (status)
				flags->flags |= STORE_FLAG_SEEN;
			break;
		case 'A':
			flags->flags |= status ? 0 : STORE_FLAG_ANSWERED;
			break;
		case 'F':
			flags->flags |= status ? 0 : STORE_FLAG_FLAGGED;
			break;
		case 'D':
			flags->flags |= status ? 0 : STORE_FLAG_DELETED;
			break;
		case 'T':
			flags->flags |= status ? 0 : STORE_FLAG_DRAFT;
			break;
		}
	}
	free(value);
}

/* The start of the empty line ending at body_offset, or len when the
   header ran to the end of data without one. */
static size_t
blank_line_start(const unsigned char *data, size_t len, size_t body_offset)
{
	size_t lf = body_offset - 1;

	if (body_offset == 0 || body_offset > len || data[lf] != '\n')
		return len;
	if (lf == 0 || data[lf - 1] == '\n')
		return lf;
	if (data[lf - 1] == '\r' && (lf == 1 || data[lf - 2] == '\n'))
		return lf - 1;
	return len;
}

/* Finds the header's end and its flag fields (parsed into flags when
   flags is not NULL). */
static void
scan_header(const unsigned char *data, size_t len, struct cli_flags *flags,
	    struct header_scan *scan_r)
{
	struct mime_header_parser *parser = mime_header_parser_create();
	struct mime_header_field field;
	const unsigned char *nl = memchr(data, '\n', len);
	size_t fed = 0;

	memset(scan_r, 0, sizeof(*scan_r));
	scan_r->crlf = nl != NULL && nl > data && nl[-1] == '\r';
	while (!mime_header_parser_done(parser)) {
		while (mime_header_parser_next(parser, &field) > 0) {
			if (!is_flag_field(field.name) ||
			    scan_r->count >= FLAG_FIELDS_MAX)
				continue;
			scan_r->ranges[scan_r->count].offset = field.offset;
			scan_r->ranges[scan_r->count++].size = field.size;
			if (flags != NULL)
				parse_flag_field(&field, flags);
		}
		if (fed == len) {
			mime_header_parser_feed_eof(parser);
		} else {
			size_t n = len - fed < HEADER_FEED_CHUNK ?
				len - fed : HEADER_FEED_CHUNK;

			mime_header_parser_feed(parser, data + fed, n);
			fed += n;
		}
	}
	scan_r->blank_start = blank_line_start(data, len,
		mime_header_parser_body_offset(parser));
	mime_header_parser_destroy(&parser);
}

/* Appends data[from, to) minus the ranges. */
static void
append_without(buf_t *out, const unsigned char *data, size_t from,
	       size_t to, const struct header_scan *scan)
{
	unsigned int i;

	for (i = 0; i < scan->count; i++) {
		const struct field_range *r = &scan->ranges[i];

		if (r->offset < from || r->offset >= to)
			continue;
		buf_append(out, data + from, r->offset - from);
		from = r->offset + r->size;
	}
	if (from < to)
		buf_append(out, data + from, to - from);
}

void
cli_mbox_msg_decode(const struct cli_mbox_msg *msg, buf_t *scratch,
		    struct cli_flags *flags,
		    const unsigned char **data_r, size_t *len_r)
{
	const unsigned char *data = msg->data;
	size_t len = msg->len;
	struct header_scan scan;
	buf_t unescaped = BUF_INIT;

	buf_reset(scratch);
	if (needs_unescape(data, len)) {
		unescape(data, len, &unescaped);
		data = unescaped.data;
		len = unescaped.len;
	}
	scan_header(data, len, flags, &scan);
	if (scan.count > 0) {
		append_without(scratch, data, 0, len, &scan);
	} else if (data == unescaped.data) {
		buf_append(scratch, data, len);
	} else {
		*data_r = data;
		*len_r = len;
		return;
	}
	buf_deinit(&unescaped);
	*data_r = scratch->data;
	*len_r = scratch->len;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

static void
append_flag_fields(buf_t *out, const struct cli_flags *flags,
		   const char *eol)
{
	uint32_t f = flags->flags;
	unsigned int i;

	buf_printf(out, "Status: %sO%s", (f & STORE_FLAG_SEEN) != 0 ?
		   "R" : "", eol);
	if ((f & (STORE_FLAG_ANSWERED | STORE_FLAG_FLAGGED |
		  STORE_FLAG_DELETED | STORE_FLAG_DRAFT)) != 0) {
		buf_printf(out, "X-Status: %s%s%s%s%s",
			   (f & STORE_FLAG_ANSWERED) != 0 ? "A" : "",
			   (f & STORE_FLAG_FLAGGED) != 0 ? "F" : "",
			   (f & STORE_FLAG_DELETED) != 0 ? "D" : "",
			   (f & STORE_FLAG_DRAFT) != 0 ? "T" : "", eol);
	}
	if (flags->keyword_count > 0) {
		buf_append_str(out, "X-Keywords:");
		for (i = 0; i < flags->keyword_count; i++)
			buf_printf(out, " %s", flags->keywords[i]);
		buf_append_str(out, eol);
	}
}

/* Every CRLF in buf made LF, in place. */
static void
crlf_to_lf(buf_t *buf)
{
	size_t i, n = 0;

	for (i = 0; i < buf->len; i++) {
		if (buf->data[i] == '\r' && i + 1 < buf->len &&
		    buf->data[i + 1] == '\n')
			continue;
		buf->data[n++] = buf->data[i];
	}
	buf_truncate(buf, n);
}

/* Appends data quoting every ^>*From line with one more '>'. */
static void
append_quoted(buf_t *out, const unsigned char *data, size_t len)
{
	const unsigned char *p = data, *end = data + len;

	while (p < end) {
		const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		const unsigned char *line_end = nl != NULL ? nl + 1 : end;

		if ((*p == '>' || *p == 'F') && is_quoted_from(p, line_end))
			buf_append_c(out, '>');
		buf_append(out, p, (size_t)(line_end - p));
		p = line_end;
	}
}

void
cli_mbox_msg_encode(buf_t *out, const unsigned char *data, size_t len,
		    int64_t date, const struct cli_flags *flags)
{
	const char *eol;
	struct header_scan scan;
	buf_t msg = BUF_INIT;
	size_t header_end;
	time_t t = (time_t)date;
	struct tm tm;
	char text[64];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(text, sizeof(text), "%a %b %e %H:%M:%S %Y", &tm) == 0)
		i_strlcpy(text, "Thu Jan  1 00:00:00 1970", sizeof(text));
	buf_printf(out, "From MAILER-DAEMON %s\n", text);

	scan_header(data, len, NULL, &scan);
	eol = scan.crlf ? "\r\n" : "\n";
	/* The new fields go right before the empty line, else at the end. */
	header_end = scan.blank_start;
	append_without(&msg, data, 0, header_end, &scan);
	if (msg.len > 0 && msg.data[msg.len - 1] != '\n')
		buf_append_str(&msg, eol);
	append_flag_fields(&msg, flags, eol);
	buf_append(&msg, data + header_end, len - header_end);
	/* mbox files have LF line ends; the store keeps CRLF, and import
	   makes it CRLF again */
	crlf_to_lf(&msg);
	append_quoted(out, msg.data, msg.len);
	if (out->len > 0 && out->data[out->len - 1] != '\n')
		buf_append_c(out, '\n');
	buf_append_c(out, '\n');
	buf_deinit(&msg);
}
