/* SPDX-License-Identifier: MIT */
/*
 * fuzz-mime.c: libFuzzer target for the MIME layer (src/mime): the tree
 * parser, addresses, dates, RFC 2231 parameters, the IMAP writers and
 * every section. For any input:
 *  - pull-style parsing (_next until done) gives the same tree as
 *    mime_message_parse();
 *  - every part lies inside the message and the sizes add up;
 *  - ENVELOPE, BODY and BODYSTRUCTURE are one well-formed IMAP list
 *    (quoted strings without CR, LF or 8-bit bytes, literals of the
 *    announced length);
 *  - every section of every part resolves, ranges lie inside the
 *    message, <partial> is a slice of the whole section, BINARY.SIZE is
 *    the length of BINARY;
 *  - the input read as a section name and as a date never crashes.
 */
#include "imap-bodystructure.h"
#include "imap-envelope.h"
#include "imap-section.h"
#include "mime-date.h"
#include "mime-decode.h"
#include "mime-parser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Skips one IMAP value of RFC 3501 §9 (the subset these writers use);
   returns the position after it, or panics. */
static size_t
check_value(const unsigned char *s, size_t len, size_t i)
{
	i_assert(i < len);
	if (s[i] == '(') {
		i++;
		for (;;) {
			i_assert(i < len);
			if (s[i] == ')')
				return i + 1;
			i = check_value(s, len, i);
			i_assert(i < len);
			/* RFC 3501 body-type-mpart: 1*body, no spaces */
			if (s[i] == ' ')
				i++;
			else
				i_assert(s[i] == ')' || s[i] == '(');
		}
	}
	if (s[i] == '"') {
		for (i++; s[i] != '"'; i++) {
			i_assert(i < len);
			i_assert(s[i] != '\r' && s[i] != '\n' && s[i] < 0x80 &&
				 s[i] != '\0');
			if (s[i] == '\\') {
				i++;
				i_assert(s[i] == '"' || s[i] == '\\');
			}
		}
		return i + 1;
	}
	if (s[i] == '{') {
		size_t n = 0;

		for (i++; s[i] >= '0' && s[i] <= '9'; i++)
			n = n * 10 + (s[i] - '0');
		i_assert(len - i >= 3 && memcmp(s + i, "}\r\n", 3) == 0);
		i += 3;
		i_assert(len - i >= n);
		return i + n;
	}
	if (len - i >= 3 && memcmp(s + i, "NIL", 3) == 0)
		return i + 3;
	i_assert(s[i] >= '0' && s[i] <= '9');
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

static void
check_imap_list(const buf_t *out)
{
	i_assert(out->len > 0 && out->data[0] == '(');
	i_assert(check_value(out->data, out->len, 0) == out->len);
}

static void
check_part(const struct mime_part *part, size_t size)
{
	const struct mime_part *child;
	struct mime_size sum = { 0, 0, 0 };
	uint64_t end = part->offset + part->header.physical +
		part->body.physical;

	i_assert(end <= size);
	i_assert(part->header.virtual >= part->header.physical);
	i_assert(part->body.virtual >= part->body.physical);
	for (child = part->children; child != NULL; child = child->next) {
		i_assert(child->parent == part);
		i_assert(child->offset >= part->offset + part->header.physical);
		sum.physical += child->header.physical + child->body.physical;
		check_part(child, size);
	}
	i_assert(sum.physical <= part->body.physical);
	if ((part->flags & MIME_PART_FLAG_MESSAGE_RFC822) != 0) {
		i_assert(part->children != NULL &&
			 part->children->next == NULL);
		i_assert(part->children->envelope != NULL);
	}
}

static void
same_tree(const struct mime_part *a, const struct mime_part *b)
{
	for (; a != NULL || b != NULL; a = a->next, b = b->next) {
		i_assert(a != NULL && b != NULL);
		i_assert(a->flags == b->flags && a->offset == b->offset);
		i_assert(a->header.physical == b->header.physical &&
			 a->body.virtual == b->body.virtual &&
			 a->body.lines == b->body.lines);
		same_tree(a->children, b->children);
	}
}

static void
fetch_one(struct mime_message *msg, const unsigned char *data, size_t size,
	  const char *item)
{
	struct imap_section *section, *whole;
	struct imap_section_result res, res2;
	const char *error;
	buf_t name = BUF_INIT;

	if (imap_section_parse(item, &section, &error) < 0)
		i_panic("section %s does not parse: %s", item, error);
	imap_section_write_name(&name, section);
	buf_deinit(&name);
	if (imap_section_fetch(section, msg, data, size, &res, &error) < 0) {
		i_assert(strcmp(error, "UNKNOWN-CTE") == 0);
		imap_section_free(&section);
		return;
	}
	if (res.is_range)
		i_assert(res.offset + res.size <= size);
	else if (!imap_section_is_size(section))
		i_assert(res.buf.len == res.size);

	if (section->partial) {
		/* the slice of the whole section */
		buf_t a = BUF_INIT, b = BUF_INIT;
		char *whole_item = i_strdup(item);

		*strchr(whole_item, '<') = '\0';
		if (imap_section_parse(whole_item, &whole, &error) < 0 ||
		    imap_section_fetch(whole, msg, data, size, &res2,
				       &error) < 0)
			i_panic("whole section of %s failed", item);
		imap_section_result_copy(&res, data, &a);
		imap_section_result_copy(&res2, data, &b);
		if (section->partial_offset < b.len) {
			size_t n = b.len - section->partial_offset;

			if (n > section->partial_size)
				n = section->partial_size;
			i_assert(a.len == n && memcmp(a.data, b.data +
				section->partial_offset, n) == 0);
		} else {
			i_assert(a.len == 0);
		}
		buf_deinit(&a);
		buf_deinit(&b);
		imap_section_result_free(&res2);
		imap_section_free(&whole);
		free(whole_item);
	}
	imap_section_result_free(&res);
	imap_section_free(&section);
}

/* Every section kind of the part at path (an IMAP section-part). */
static void
fetch_part_sections(struct mime_message *msg, const unsigned char *data,
		    size_t size, const char *path)
{
	static const char *const kinds[] = {
		"", ".MIME", ".HEADER", ".TEXT",
		".HEADER.FIELDS (Subject Content-Type X)",
		".HEADER.FIELDS.NOT (From)",
	};
	char item[512];
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(kinds); i++) {
		if (*path == '\0' && i == 1)
			continue;
		snprintf(item, sizeof(item), "BODY[%s%s]", path,
			 *path == '\0' && kinds[i][0] == '.' ? kinds[i] + 1 :
			 kinds[i]);
		fetch_one(msg, data, size, item);
		snprintf(item, sizeof(item), "BODY.PEEK[%s%s]<3.7>", path,
			 *path == '\0' && kinds[i][0] == '.' ? kinds[i] + 1 :
			 kinds[i]);
		fetch_one(msg, data, size, item);
	}
	snprintf(item, sizeof(item), "BINARY[%s]", path);
	fetch_one(msg, data, size, item);
	snprintf(item, sizeof(item), "BINARY[%s]<1.5>", path);
	fetch_one(msg, data, size, item);
	snprintf(item, sizeof(item), "BINARY.SIZE[%s]", path);
	fetch_one(msg, data, size, item);
}

/* Walks the IMAP part numbering (RFC 3501 §6.4.5) below part. */
static void
walk_parts(struct mime_message *msg, const unsigned char *data,
	   size_t size, const struct mime_part *part, char *path,
	   size_t path_len, unsigned int *budget)
{
	const struct mime_part *child;
	unsigned int n = 1;

	if ((part->flags & MIME_PART_FLAG_MESSAGE_RFC822) != 0)
		part = part->children;
	if ((part->flags & MIME_PART_FLAG_MULTIPART) == 0) {
		if (path_len + 3 >= 400 || *budget == 0)
			return;
		(*budget)--;
		snprintf(path + path_len, 400 - path_len, "%s1",
			 path_len == 0 ? "" : ".");
		fetch_part_sections(msg, data, size, path);
		return;
	}
	for (child = part->children; child != NULL; child = child->next, n++) {
		size_t len;

		if (path_len + 12 >= 400 || *budget == 0)
			return;
		(*budget)--;
		len = path_len + snprintf(path + path_len, 400 - path_len,
					  "%s%u", path_len == 0 ? "" : ".", n);
		fetch_part_sections(msg, data, size, path);
		if ((child->flags & (MIME_PART_FLAG_MULTIPART |
				     MIME_PART_FLAG_MESSAGE_RFC822)) != 0)
			walk_parts(msg, data, size, child, path, len, budget);
		path[path_len] = '\0';
	}
}

static void
check_leaf_text(const struct mime_part *part, const unsigned char *data)
{
	const struct mime_part *child;
	buf_t text = BUF_INIT;

	if ((part->flags & (MIME_PART_FLAG_MULTIPART |
			    MIME_PART_FLAG_MESSAGE_RFC822)) == 0)
		(void)mime_decode_part_text(part, data, &text);
	buf_deinit(&text);
	for (child = part->children; child != NULL; child = child->next)
		check_leaf_text(child, data);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_message *msg, *msg2;
	struct mime_parser *parser;
	struct mime_part *part;
	struct imap_section *section;
	const char *error;
	char path[400] = "", item[256];
	/* sections are fetched for this many parts at most: BINARY of a
	   container decodes everything below it, so more would make each
	   run quadratic in the input */
	unsigned int budget = 24;
	buf_t out = BUF_INIT;
	time_t t;
	int tz;

	msg = mime_message_parse(data, size);
	parser = mime_parser_init(data, size);
	while (mime_parser_next(parser, &part) > 0)
		i_assert(part != NULL);
	msg2 = mime_parser_deinit(&parser);
	same_tree(msg->root, msg2->root);
	mime_message_free(&msg2);
	check_part(msg->root, size);

	imap_envelope_write(&out, msg->root->envelope, 0);
	check_imap_list(&out);
	buf_reset(&out);
	imap_bodystructure_write(&out, msg->root, false, 0);
	check_imap_list(&out);
	buf_reset(&out);
	imap_bodystructure_write(&out, msg->root, true, 0);
	check_imap_list(&out);
	buf_reset(&out);
	imap_bodystructure_write(&out, msg->root, true, IMAP_QUOTE_FLAG_UTF8);
	buf_deinit(&out);

	fetch_part_sections(msg, data, size, "");
	walk_parts(msg, data, size, msg->root, path, 0, &budget);
	check_leaf_text(msg->root, data);
	if (msg->root->envelope->date != NULL) {
		const char *date = msg->root->envelope->date;

		(void)mime_date_parse(date, strlen(date), &t, &tz);
	}
	mime_message_free(&msg);

	/* the input as a section name and as a date */
	snprintf(item, sizeof(item), "%.*s", (int)(size < 200 ? size : 200),
		 (const char *)data);
	if (imap_section_parse(item, &section, &error) == 0)
		imap_section_free(&section);
	(void)mime_date_parse(data, size < 200 ? size : 200, &t, &tz);
	return 0;
}
