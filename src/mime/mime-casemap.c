/* SPDX-License-Identifier: MIT */
/*
 * mime-casemap.c: RFC 5051 i;unicode-casemap over libunistring
 * (uc_totitle, u8_normalize). See mime-casemap.h. In mime, above lib.
 */
#include "mime-casemap.h"
#include "mime-charset.h"

#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <uninorm.h>
#include <unistr.h>

/* Titlecase, then NFKD, of valid UTF-8 text. */
static void
casemap_unicode(const uint8_t *p, size_t len, buf_t *title, buf_t *out)
{
	const uint8_t *end = p + len;
	uint8_t *nfkd;
	size_t nfkd_len = 0;
	ucs4_t uc;
	int n;

	buf_reset(title);
	/* RFC 5051 §2, step 1: titlecase, character by character */
	while (p < end) {
		uint8_t enc[6];

		n = u8_mbtouc(&uc, p, end - p);
		p += n;
		n = u8_uctomb(enc, uc_totitle(uc), sizeof(enc));
		if (n > 0)
			buf_append(title, enc, n);
	}
	/* step 2: NFKD */
	nfkd = u8_normalize(UNINORM_NFKD, title->data, title->len, NULL,
			    &nfkd_len);
	if (nfkd != NULL) {
		buf_append(out, nfkd, nfkd_len);
		free(nfkd);
	} else {
		/* ENOMEM only: keep the titlecase form */
		buf_append(out, title->data, title->len);
	}
}

/*
 * Text that is all ASCII is the common case, and its key is its upper
 * case (titlecase of a-z is A-Z, NFKD leaves ASCII alone): no need for
 * libunistring there. Anything else goes through it whole.
 */
void
mime_casemap_append(const unsigned char *text, size_t len, buf_t *out)
{
	buf_t clean = BUF_INIT, title = BUF_INIT;
	size_t i;

	for (i = 0; i < len && text[i] < 0x80; i++)
		;
	if (i == len) {
		buf_reserve(out, len);
		for (i = 0; i < len; i++) {
			out->data[out->len++] = text[i] >= 'a' &&
				text[i] <= 'z' ? text[i] - 32 : text[i];
		}
		out->data[out->len] = '\0';
		return;
	}
	/* libunistring wants valid UTF-8; mime hands up U+FFFD for the
	   rest anyway */
	mime_utf8_sanitize(text, len, &clean);
	casemap_unicode(clean.data, clean.len, &title, out);
	buf_deinit(&clean);
	buf_deinit(&title);
}

bool
mime_casemap_contains(const unsigned char *text, size_t len,
		      const buf_t *needle)
{
	buf_t key = BUF_INIT;
	bool found;

	if (needle->len == 0)
		return true;
	mime_casemap_append(text, len, &key);
	found = key.len >= needle->len &&
		memmem(key.data, key.len, needle->data, needle->len) != NULL;
	buf_deinit(&key);
	return found;
}
