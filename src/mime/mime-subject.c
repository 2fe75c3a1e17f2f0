/* SPDX-License-Identifier: MIT */
/*
 * mime-subject.c: base subject extraction (RFC 5256 §2.1) for SORT and
 * THREAD. The steps work on one normalised copy of the subject by
 * moving its start and end; nothing is allocated per step. In mime,
 * above lib.
 */
#include "mime-subject.h"
#include "mime-header.h"

#include <string.h>
#include <strings.h>

/* Step 1: tabs and line ends become spaces, runs of spaces one space. */
static void
normalise(const char *text, size_t len, buf_t *out)
{
	size_t i;
	char c;

	for (i = 0; i < len; i++) {
		c = text[i];
		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		if (c == ' ' && out->len > 0 && out->data[out->len - 1] == ' ')
			continue;
		buf_append_c(out, c);
	}
}

/* subj-blob = "[" *BLOBCHAR "]" *WSP at s[b..e): its length, or 0. */
static size_t
blob_len(const char *s, size_t b, size_t e)
{
	size_t i = b + 1;

	if (b >= e || s[b] != '[')
		return 0;
	while (i < e && s[i] != '[' && s[i] != ']')
		i++;
	if (i >= e || s[i] != ']')
		return 0;
	for (i++; i < e && s[i] == ' '; i++)
		;
	return i - b;
}

/* subj-leader = (*subj-blob subj-refwd) / WSP, where
   subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":".
   Its length, or 0; *refwd_r when it was a subj-refwd. */
static size_t
leader_len(const char *s, size_t b, size_t e, bool *refwd_r)
{
	size_t i = b, n;

	*refwd_r = false;
	if (b < e && s[b] == ' ')
		return 1;
	while ((n = blob_len(s, i, e)) > 0)
		i += n;
	if (e - i >= 2 && strncasecmp(s + i, "re", 2) == 0) {
		i += 2;
	} else if (e - i >= 2 && strncasecmp(s + i, "fw", 2) == 0) {
		i += 2;
		if (i < e && (s[i] == 'd' || s[i] == 'D'))
			i++;
	} else {
		return 0;
	}
	while (i < e && s[i] == ' ')
		i++;
	i += blob_len(s, i, e);
	if (i >= e || s[i] != ':')
		return 0;
	*refwd_r = true;
	return i + 1 - b;
}

/* Step 2: subj-trailer = "(fwd)" / WSP, removed from the end. */
static void
strip_trailers(const char *s, size_t b, size_t *e, bool *reply)
{
	for (;;) {
		if (*e > b && s[*e - 1] == ' ') {
			(*e)--;
		} else if (*e - b >= 5 &&
			   strncasecmp(s + *e - 5, "(fwd)", 5) == 0) {
			*e -= 5;
			*reply = true;
		} else {
			return;
		}
	}
}

static bool
has_nonspace(const char *s, size_t b, size_t e)
{
	for (; b < e; b++) {
		if (s[b] != ' ')
			return true;
	}
	return false;
}

/* Steps 3-5: leaders, then one blob when a subj-base is left. */
static void
strip_leaders(const char *s, size_t *b, size_t e, bool *reply)
{
	bool changed, refwd;
	size_t n;

	do {
		changed = false;
		while ((n = leader_len(s, *b, e, &refwd)) > 0) {
			*b += n;
			*reply = *reply || refwd;
			changed = true;
		}
		n = blob_len(s, *b, e);
		if (n > 0 && has_nonspace(s, *b + n, e)) {
			*b += n;
			changed = true;
		}
	} while (changed);
}

bool
mime_subject_base_decoded(const char *text, size_t len, buf_t *out)
{
	buf_t norm = BUF_INIT;
	const char *s;
	size_t b = 0, e;
	bool reply = false;

	normalise(text, len, &norm);
	s = buf_cstr(&norm);
	e = norm.len;
	for (;;) {
		strip_trailers(s, b, &e, &reply);
		strip_leaders(s, &b, e, &reply);
		/* Step 6: subj-fwd-hdr subject subj-fwd-trl */
		if (e - b >= 6 && strncasecmp(s + b, "[fwd:", 5) == 0 &&
		    s[e - 1] == ']') {
			b += 5;
			e--;
			reply = true;
			continue;
		}
		break;
	}
	buf_append(out, s + b, e - b);
	buf_deinit(&norm);
	return reply;
}

bool
mime_subject_base(const unsigned char *value, size_t len, buf_t *out)
{
	buf_t text = BUF_INIT;
	bool reply;

	/* RFC 5256 §2.1 step 1: encoded-words to UTF-8 first */
	mime_header_decode(value, len, &text);
	reply = mime_subject_base_decoded((const char *)text.data, text.len,
					  out);
	buf_deinit(&text);
	return reply;
}
