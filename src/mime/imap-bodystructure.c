/* SPDX-License-Identifier: MIT */
/*
 * imap-bodystructure.c: IMAP BODY / BODYSTRUCTURE output; see
 * imap-bodystructure.h.
 *
 *   body-type-1part = (body-type-basic / body-type-msg / body-type-text)
 *                     [SP body-ext-1part]
 *   body-fields     = body-fld-param SP body-fld-id SP body-fld-desc SP
 *                     body-fld-enc SP body-fld-octets
 *   body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
 *   body-ext-1part  = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang
 *                     [SP body-fld-loc *(SP body-extension)]]]
 *   body-ext-mpart  = body-fld-param [SP body-fld-dsp [SP body-fld-lang
 *                     [SP body-fld-loc *(SP body-extension)]]]
 */
#include "imap-bodystructure.h"
#include "imap-envelope.h"
#include "mime-parser.h"

#include <inttypes.h>
#include <strings.h>

#define DEFAULT_CHARSET "us-ascii"

/* RFC 3501 §7.4.2 needs at least one body part in a multipart. */
#define EMPTY_BODY "(\"text\" \"plain\" (\"charset\" \"" DEFAULT_CHARSET \
	"\") NIL NIL \"7bit\" 0 0"

static void write_part(buf_t *out, const struct mime_part *part,
		       bool extended, enum imap_quote_flags flags);

/* body-fld-param: NIL or ("name" "value" ...); text parts without a
   charset get the RFC 2045 §5.2 default. */
static void
write_params(buf_t *out, const struct mime_param *params,
	     unsigned int count, bool default_charset,
	     enum imap_quote_flags flags)
{
	bool seen_charset = false;
	unsigned int i;

	if (count == 0 && !default_charset) {
		buf_append_str(out, "NIL");
		return;
	}
	buf_append_c(out, '(');
	for (i = 0; i < count; i++) {
		if (i > 0)
			buf_append_c(out, ' ');
		if (strcasecmp(params[i].name, "charset") == 0)
			seen_charset = true;
		imap_append_nstring(out, params[i].name, flags);
		buf_append_c(out, ' ');
		imap_append_nstring(out, params[i].value, flags);
	}
	if (default_charset && !seen_charset) {
		if (count > 0)
			buf_append_c(out, ' ');
		buf_append_str(out, "\"charset\" \"" DEFAULT_CHARSET "\"");
	}
	buf_append_c(out, ')');
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc */
static void
write_ext_common(buf_t *out, const struct mime_part *part,
		 enum imap_quote_flags flags)
{
	const char *const *lang;

	buf_append_c(out, ' ');
	if (part->disposition == NULL) {
		buf_append_str(out, "NIL");
	} else {
		buf_append_c(out, '(');
		imap_append_nstring(out, part->disposition, flags);
		buf_append_c(out, ' ');
		write_params(out, part->disposition_params,
			     part->disposition_params_count, false, flags);
		buf_append_c(out, ')');
	}

	buf_append_c(out, ' ');
	if (part->language == NULL) {
		buf_append_str(out, "NIL");
	} else {
		buf_append_c(out, '(');
		for (lang = part->language; *lang != NULL; lang++) {
			if (lang != part->language)
				buf_append_c(out, ' ');
			imap_append_nstring(out, *lang, flags);
		}
		buf_append_c(out, ')');
	}

	buf_append_c(out, ' ');
	imap_append_nstring_nolf(out, part->location, flags);
}

static void
write_multipart(buf_t *out, const struct mime_part *part, bool extended,
		enum imap_quote_flags flags)
{
	const struct mime_part *child;

	if (part->children == NULL) {
		buf_append_str(out, EMPTY_BODY);
		buf_append_str(out, extended ? " NIL NIL NIL NIL)" : ")");
	}
	for (child = part->children; child != NULL; child = child->next)
		write_part(out, child, extended, flags);
	buf_append_c(out, ' ');
	imap_append_nstring(out, part->subtype != NULL ? part->subtype : "",
			    flags);
	if (!extended)
		return;
	buf_append_c(out, ' ');
	write_params(out, part->type_params, part->type_params_count, false,
		     flags);
	write_ext_common(out, part, flags);
}

static void
write_single(buf_t *out, const struct mime_part *part, bool extended,
	     enum imap_quote_flags flags)
{
	bool text = false;

	if ((part->flags & MIME_PART_FLAG_MESSAGE_RFC822) != 0) {
		buf_append_str(out, "\"message\" \"rfc822\"");
	} else if (part->type == NULL) {
		text = true;
		buf_append_str(out, "\"text\" \"plain\"");
	} else {
		text = strcasecmp(part->type, "text") == 0;
		imap_append_nstring(out, part->type, flags);
		buf_append_c(out, ' ');
		imap_append_nstring(out, part->subtype, flags);
	}
	buf_append_c(out, ' ');
	write_params(out, part->type_params, part->type_params_count, text,
		     flags);
	buf_append_c(out, ' ');
	imap_append_nstring_nolf(out, part->id, flags);
	buf_append_c(out, ' ');
	imap_append_nstring_nolf(out, part->description, flags);
	buf_append_c(out, ' ');
	imap_append_nstring(out, part->encoding != NULL ? part->encoding :
			    "7bit", flags);
	buf_printf(out, " %" PRIu64, part->body.virtual);

	if (text) {
		buf_printf(out, " %" PRIu64, part->body.lines);
	} else if ((part->flags & MIME_PART_FLAG_MESSAGE_RFC822) != 0) {
		/* body-type-msg: envelope SP body SP body-fld-lines */
		i_assert(part->children != NULL);
		buf_append_c(out, ' ');
		imap_envelope_write(out, part->children->envelope, flags);
		buf_append_c(out, ' ');
		write_part(out, part->children, extended, flags);
		buf_printf(out, " %" PRIu64, part->body.lines);
	}
	if (!extended)
		return;
	buf_append_c(out, ' ');
	imap_append_nstring_nolf(out, part->md5, flags);
	write_ext_common(out, part, flags);
}

static void
write_part(buf_t *out, const struct mime_part *part, bool extended,
	   enum imap_quote_flags flags)
{
	buf_append_c(out, '(');
	if ((part->flags & MIME_PART_FLAG_MULTIPART) != 0)
		write_multipart(out, part, extended, flags);
	else
		write_single(out, part, extended, flags);
	buf_append_c(out, ')');
}

void
imap_bodystructure_write(buf_t *out, const struct mime_part *part,
			 bool extended, enum imap_quote_flags flags)
{
	write_part(out, part, extended, flags);
}
