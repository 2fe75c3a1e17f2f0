/* SPDX-License-Identifier: MIT */
/*
 * imap-envelope.c: IMAP ENVELOPE output; see imap-envelope.h.
 */
#include "imap-envelope.h"
#include "mime-parser.h"

void
imap_envelope_write_addresses(buf_t *out, const struct mime_address *addr,
			      enum imap_quote_flags flags)
{
	if (addr == NULL) {
		buf_append_str(out, "NIL");
		return;
	}
	buf_append_c(out, '(');
	for (; addr != NULL; addr = addr->next) {
		buf_append_c(out, '(');
		if (addr->name == NULL)
			buf_append_str(out, "NIL");
		else
			imap_append_string_for_humans(out, addr->name, flags);
		buf_append_c(out, ' ');
		imap_append_nstring_nolf(out, addr->route, flags);
		buf_append_c(out, ' ');
		imap_append_nstring_nolf(out, addr->mailbox, flags);
		buf_append_c(out, ' ');
		imap_append_nstring_nolf(out, addr->domain, flags);
		buf_append_c(out, ')');
	}
	buf_append_c(out, ')');
}

void
imap_envelope_write(buf_t *out, const struct mime_envelope *env,
		    enum imap_quote_flags flags)
{
	if (env == NULL) {
		buf_append_str(out,
			       "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
		return;
	}
	buf_append_c(out, '(');
	imap_append_nstring_nolf(out, env->date, flags);
	buf_append_c(out, ' ');
	if (env->subject == NULL)
		buf_append_str(out, "NIL");
	else
		imap_append_string_for_humans(out, env->subject, flags);
	buf_append_c(out, ' ');
	imap_envelope_write_addresses(out, env->from, flags);
	buf_append_c(out, ' ');
	imap_envelope_write_addresses(out, env->sender != NULL ?
				      env->sender : env->from, flags);
	buf_append_c(out, ' ');
	imap_envelope_write_addresses(out, env->reply_to != NULL ?
				      env->reply_to : env->from, flags);
	buf_append_c(out, ' ');
	imap_envelope_write_addresses(out, env->to, flags);
	buf_append_c(out, ' ');
	imap_envelope_write_addresses(out, env->cc, flags);
	buf_append_c(out, ' ');
	imap_envelope_write_addresses(out, env->bcc, flags);
	buf_append_c(out, ' ');
	imap_append_nstring_nolf(out, env->in_reply_to, flags);
	buf_append_c(out, ' ');
	imap_append_nstring_nolf(out, env->message_id, flags);
	buf_append_c(out, ')');
}
