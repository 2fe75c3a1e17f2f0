/* SPDX-License-Identifier: MIT */
/*
 * cli-flags.h: message flags on the command line and in output, in IMAP
 * notation: system flags \Seen \Answered \Flagged \Deleted \Draft (any
 * case) and keywords (RFC 3501 atoms, at most STORE_KEYWORD_NAME_MAX
 * bytes). In cli, above store.
 */
#ifndef CLI_FLAGS_H
#define CLI_FLAGS_H

#include "store.h"

struct cli_flags {
	uint32_t flags;         /* STORE_FLAG_* system flags */
	char **keywords;        /* NULL-terminated (never NULL after init) */
	unsigned int keyword_count;
};

void cli_flags_init(struct cli_flags *flags);
void cli_flags_deinit(struct cli_flags *flags);
/* Adds a keyword unless present (keywords compare case-insensitively). */
void cli_flags_add_keyword(struct cli_flags *flags, const char *keyword);
/* Removes keyword i; the last one takes its place. */
void cli_flags_remove_keyword(struct cli_flags *flags, unsigned int i);
bool cli_flags_has_keyword(const struct cli_flags *flags,
			   const char *keyword);

/*
 * Parses one flag name. Returns 0 with *flag_r set (a STORE_FLAG_* bit,
 * or 0 for a keyword), or -1 with *error_r (static text) for \Recent,
 * an unknown \Flag or an invalid keyword.
 */
int cli_flag_parse(const char *name, uint32_t *flag_r,
		   const char **error_r);
/* Parses a list of flag names separated by spaces and/or commas into
   flags (added to what it holds). 0, or -1 with *error_r. */
int cli_flags_parse_list(const char *text, struct cli_flags *flags,
			 const char **error_r);

/* The message's flags of box as an IMAP list: "(\Seen $Label1)". */
void cli_flags_append(buf_t *out, struct mailbox *box, uint32_t flags);
/* The keyword names set in flags (bits of box), added to flags_r. */
void cli_flags_from_bits(struct cli_flags *flags_r, struct mailbox *box,
			 uint32_t flags);

#endif
