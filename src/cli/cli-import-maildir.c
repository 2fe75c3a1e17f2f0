/* SPDX-License-Identifier: MIT */
/*
 * cli-import-maildir.c: Maildir folders as a source for `commune import`
 * (cli-import.h). Reads cur/ and new/ (tmp/ holds unfinished deliveries
 * and is skipped), flags from the info suffix ":2,<letters>" (also "!2,"
 * and ";2,", which Windows-friendly tools write), Dovecot keyword
 * letters through the folder's dovecot-keywords file, and the internal
 * date from each file's mtime, which Maildir writers (Python's mailbox,
 * Dovecot, mbsync) set to the message's date. In cli.
 */
#include "cli-import.h"
#include "vfs.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DOVECOT_KEYWORDS_FILE "dovecot-keywords"
#define DOVECOT_KEYWORDS_MAX 26

struct maildir_entry {
	char *path;
	const char *name;       /* the file name inside path */
	int64_t mtime;
};

struct maildir_source {
	char *path;
	struct maildir_entry *entries;
	unsigned int count, cap;
	char *keywords[DOVECOT_KEYWORDS_MAX];
};

static int
entry_cmp(const void *a, const void *b)
{
	const struct maildir_entry *ea = a, *eb = b;

	/* Unique names start with the delivery time; version order keeps
	   "1700000000.M9" before "1700000000.M10". */
	return strverscmp(ea->name, eb->name);
}

static void
entry_add(struct maildir_source *src, char *path, size_t name_at,
	  int64_t mtime)
{
	struct maildir_entry *entry;

	if (src->count == src->cap) {
		src->cap = src->cap == 0 ? 64 : src->cap * 2;
		src->entries = i_realloc(src->entries,
					 src->cap * sizeof(*src->entries));
	}
	entry = &src->entries[src->count++];
	entry->path = path;
	entry->name = path + name_at;
	entry->mtime = mtime;
}

/* Lists one of cur/ and new/: 0, 1 when it is missing, -1 after
   printing an error. */
static int
list_subdir(struct maildir_source *src, const char *sub)
{
	char *dir = i_strdup_printf("%s/%s", src->path, sub);
	struct dirent *d;
	struct stat st;
	DIR *dirp;
	int ret = 0;

	if ((dirp = opendir(dir)) == NULL) {
		ret = 1;
		if (errno != ENOENT) {
			cli_error("opendir %s: %s", dir, strerror(errno));
			ret = -1;
		}
		free(dir);
		return ret;
	}
	while ((d = readdir(dirp)) != NULL) {
		char *path;

		if (d->d_name[0] == '.')
			continue;
		path = i_strdup_printf("%s/%s", dir, d->d_name);
		if (stat(path, &st) == -1) {
			cli_error("stat %s: %s", path, strerror(errno));
			ret = -1;
			free(path);
			break;
		}
		if (!S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		entry_add(src, path, strlen(dir) + 1, (int64_t)st.st_mtime);
	}
	closedir(dirp);
	free(dir);
	return ret;
}

/* Reads dovecot-keywords ("<n> <name>" lines) when the folder has one. */
static void
read_dovecot_keywords(struct maildir_source *src)
{
	char *path = i_strdup_printf("%s/%s", src->path,
				     DOVECOT_KEYWORDS_FILE);
	unsigned char *data;
	char *p, *line;
	size_t len;

	if (vfs_read_file(path, &data, &len) == 0) {
		p = (char *)data;
		while ((line = strsep(&p, "\n")) != NULL) {
			char *end;
			unsigned long n = strtoul(line, &end, 10);

			if (end == line || *end != ' ' || end[1] == '\0' ||
			    n >= DOVECOT_KEYWORDS_MAX)
				continue;
			free(src->keywords[n]);
			src->keywords[n] = i_strdup(end + 1);
		}
		free(data);
	}
	free(path);
}

int
cli_maildir_open(const char *path, struct maildir_source **src_r)
{
	struct maildir_source *src = i_malloc(sizeof(*src));
	int cur, new;

	src->path = i_strdup(path);
	*src_r = src;
	if ((cur = list_subdir(src, "cur")) < 0 ||
	    (new = list_subdir(src, "new")) < 0)
		return CLI_EXIT_FAIL;
	if (cur != 0 && new != 0)
		return cli_error("%s is not a Maildir folder (no cur/ or new/)",
				 path);
	qsort(src->entries, src->count, sizeof(*src->entries), entry_cmp);
	read_dovecot_keywords(src);
	return 0;
}

unsigned int
cli_maildir_count(struct maildir_source *src)
{
	return src->count;
}

void
cli_maildir_close(struct maildir_source **_src)
{
	struct maildir_source *src = *_src;
	unsigned int i;

	if (src == NULL)
		return;
	*_src = NULL;
	for (i = 0; i < src->count; i++)
		free(src->entries[i].path);
	for (i = 0; i < DOVECOT_KEYWORDS_MAX; i++)
		free(src->keywords[i]);
	free(src->entries);
	free(src->path);
	free(src);
}

/* Flags from the info suffix of a file name. */
static void
name_flags(struct maildir_source *src, const char *name,
	   struct cli_flags *flags)
{
	const char *info = NULL, *p;

	for (p = name; *p != '\0'; p++) {
		if ((*p == ':' || *p == '!' || *p == ';') &&
		    strncmp(p + 1, "2,", 2) == 0)
			info = p + 3;
	}
	for (p = info; p != NULL && *p != '\0'; p++) {
		switch (*p) {
		case 'D':
			flags->flags |= STORE_FLAG_DRAFT;
			break;
		case 'F':
			flags->flags |= STORE_FLAG_FLAGGED;
			break;
		case 'P':
			cli_flags_add_keyword(flags, "$Forwarded");
			break;
		case 'R':
			flags->flags |= STORE_FLAG_ANSWERED;
			break;
		case 'S':
			flags->flags |= STORE_FLAG_SEEN;
			break;
		case 'T':
			flags->flags |= STORE_FLAG_DELETED;
			break;
		default:
			if (*p >= 'a' && *p <= 'z' &&
			    src->keywords[*p - 'a'] != NULL)
				cli_flags_add_keyword(flags,
					src->keywords[*p - 'a']);
			break;
		}
	}
}

int
cli_maildir_import(struct maildir_source *src, struct importer *imp)
{
	struct cli_flags flags;
	unsigned char *data;
	unsigned int i;
	size_t len;
	int ret = 0;

	for (i = 0; i < src->count && ret == 0; i++) {
		const struct maildir_entry *entry = &src->entries[i];

		if (vfs_read_file(entry->path, &data, &len) == -1) {
			cli_progress_finish(&imp->progress);
			return cli_error("read %s: %s", entry->path,
					 strerror(errno));
		}
		cli_flags_init(&flags);
		name_flags(src, entry->name, &flags);
		ret = importer_add(imp, data, len, data, &flags, entry->mtime);
		cli_flags_deinit(&flags);
	}
	return ret;
}
