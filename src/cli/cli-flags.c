/* SPDX-License-Identifier: MIT */
/*
 * cli-flags.c: IMAP-notation flags for the CLI (cli-flags.h). In cli,
 * above store.
 */
#include "cli-flags.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	uint32_t flag;
} system_flags[] = {
	{ "\\Seen", STORE_FLAG_SEEN },
	{ "\\Answered", STORE_FLAG_ANSWERED },
	{ "\\Flagged", STORE_FLAG_FLAGGED },
	{ "\\Deleted", STORE_FLAG_DELETED },
	{ "\\Draft", STORE_FLAG_DRAFT },
};

void
cli_flags_init(struct cli_flags *flags)
{
	memset(flags, 0, sizeof(*flags));
	flags->keywords = i_malloc(sizeof(char *));
}

void
cli_flags_deinit(struct cli_flags *flags)
{
	unsigned int i;

	if (flags->keywords == NULL)
		return;
	for (i = 0; i < flags->keyword_count; i++)
		free(flags->keywords[i]);
	i_free(flags->keywords);
	flags->keyword_count = 0;
}

bool
cli_flags_has_keyword(const struct cli_flags *flags, const char *keyword)
{
	unsigned int i;

	for (i = 0; i < flags->keyword_count; i++) {
		if (strcasecmp(flags->keywords[i], keyword) == 0)
			return true;
	}
	return false;
}

void
cli_flags_add_keyword(struct cli_flags *flags, const char *keyword)
{
	if (cli_flags_has_keyword(flags, keyword))
		return;
	flags->keywords = i_realloc(flags->keywords,
				    (flags->keyword_count + 2) *
				    sizeof(char *));
	flags->keywords[flags->keyword_count++] = i_strdup(keyword);
	flags->keywords[flags->keyword_count] = NULL;
}

void
cli_flags_remove_keyword(struct cli_flags *flags, unsigned int i)
{
	i_assert(i < flags->keyword_count);
	free(flags->keywords[i]);
	flags->keywords[i] = flags->keywords[--flags->keyword_count];
	flags->keywords[flags->keyword_count] = NULL;
}

/* RFC 3501 §9 ATOM-CHAR: CHAR except atom-specials. */
static bool
is_atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

int
cli_flag_parse(const char *name, uint32_t *flag_r, const char **error_r)
{
	unsigned int i;
	size_t len = strlen(name);

	*flag_r = 0;
	if (name[0] == '\\') {
		for (i = 0; i < N_ELEMENTS(system_flags); i++) {
			if (strcasecmp(name, system_flags[i].name) == 0) {
				*flag_r = system_flags[i].flag;
				return 0;
			}
		}
		*error_r = strcasecmp(name, "\\Recent") == 0 ?
			"\\Recent cannot be set or cleared" :
			"unknown system flag (\\Seen \\Answered \\Flagged "
			"\\Deleted \\Draft)";
		return -1;
	}
	if (len == 0 || len > STORE_KEYWORD_NAME_MAX) {
		*error_r = "a keyword is 1 to 64 characters long";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (!is_atom_char((unsigned char)name[i])) {
			*error_r = "invalid keyword: printable ASCII only, "
				"without ( ) { % * \" \\ ] or space";
			return -1;
		}
	}
	return 0;
}

int
cli_flags_parse_list(const char *text, struct cli_flags *flags,
		     const char **error_r)
{
	char *copy = i_strdup(text), *p = copy, *name;
	uint32_t flag;
	int ret = 0;

	while ((name = strsep(&p, " ,")) != NULL) {
		if (name[0] == '\0')
			continue;
		if (cli_flag_parse(name, &flag, error_r) == -1) {
			ret = -1;
			break;
		}
		if (flag != 0)
			flags->flags |= flag;
		else
			cli_flags_add_keyword(flags, name);
	}
	free(copy);
	return ret;
}

void
cli_flags_append(buf_t *out, struct mailbox *box, uint32_t flags)
{
	unsigned int i, count = store_mailbox_keyword_count(box);
	bool first = true;

	buf_append_c(out, '(');
	for (i = 0; i < N_ELEMENTS(system_flags); i++) {
		if ((flags & system_flags[i].flag) == 0)
			continue;
		buf_printf(out, "%s%s", first ? "" : " ",
			   system_flags[i].name);
		first = false;
	}
	for (i = 0; i < count && i < STORE_KEYWORDS_MAX; i++) {
		if ((flags & STORE_FLAG_KEYWORD(i)) == 0)
			continue;
		buf_printf(out, "%s%s", first ? "" : " ",
			   store_mailbox_keyword_name(box, i));
		first = false;
	}
	buf_append_c(out, ')');
}

void
cli_flags_from_bits(struct cli_flags *flags_r, struct mailbox *box,
		    uint32_t flags)
{
	unsigned int i, count = store_mailbox_keyword_count(box);

	flags_r->flags |= flags & STORE_FLAGS_SYSTEM;
	for (i = 0; i < count && i < STORE_KEYWORDS_MAX; i++) {
		if ((flags & STORE_FLAG_KEYWORD(i)) != 0)
			cli_flags_add_keyword(flags_r,
				store_mailbox_keyword_name(box, i));
	}
}
