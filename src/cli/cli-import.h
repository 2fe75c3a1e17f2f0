/* SPDX-License-Identifier: MIT */
/*
 * cli-import.h: the importer that `commune import` feeds from an mbox
 * file (cli-import.c) or a Maildir folder (cli-import-maildir.c). It
 * appends in batches and, when anything fails, takes back what it
 * appended, so a failed import leaves the mailbox as it was. In cli.
 */
#ifndef CLI_IMPORT_H
#define CLI_IMPORT_H

#include "cli-private.h"
#include "cli-flags.h"
#include "cli-progress.h"

/* A batch ends at this many messages or bytes, whichever comes first. */
#define CLI_IMPORT_BATCH_MSGS 1000
#define CLI_IMPORT_BATCH_BYTES (32u * 1024 * 1024)

struct import_item {
	const unsigned char *data;
	size_t len;
	unsigned char *owned;   /* freed after the batch; NULL if borrowed */
	struct cli_flags flags;
	int64_t date;
};

struct importer {
	struct mailbox *box;
	struct uid_array imported;
	struct import_item items[CLI_IMPORT_BATCH_MSGS];
	unsigned int count;
	size_t bytes;
	/* Keywords: the box holds at most STORE_KEYWORDS_MAX. */
	struct cli_flags new_keywords;  /* accepted, not yet in the box */
	struct cli_flags dropped;       /* refused, warned about once */
	struct cli_progress progress;
	uint64_t done;
};

void importer_init(struct importer *imp, struct mailbox *box,
		   const char *what, uint64_t total);
void importer_deinit(struct importer *imp);

/*
 * Queues a message; flushes the batch when full. data must stay valid
 * until the batch is flushed unless owned (then the importer frees it).
 * flags' keywords are checked (invalid or past the table's room: dropped
 * with a warning). Returns 0, or the exit status after an error.
 */
int importer_add(struct importer *imp, const unsigned char *data,
		 size_t len, unsigned char *owned,
		 const struct cli_flags *flags, int64_t date);
/* Appends what is queued. 0, or the exit status after an error. */
int importer_flush(struct importer *imp);

/* True once SIGINT, SIGTERM or SIGHUP asked the import to stop. */
bool importer_interrupted(void);

/*
 * A Maildir folder as a source: _open lists cur/ and new/ (every file
 * not starting with '.') and sorts the messages by their unique names,
 * which start with the delivery time. Returns 0, or the exit status
 * after printing why (e.g. PATH has neither cur/ nor new/).
 */
struct maildir_source;
int cli_maildir_open(const char *path, struct maildir_source **src_r);
unsigned int cli_maildir_count(struct maildir_source *src);
/* Feeds every message to imp: flags from the ":2,<letters>" suffix
   (D \Draft, F \Flagged, P $Forwarded, R \Answered, S \Seen,
   T \Deleted, a-z Dovecot keywords named in dovecot-keywords), the
   internal date from the file's mtime. 0, or the exit status. */
int cli_maildir_import(struct maildir_source *src, struct importer *imp);
void cli_maildir_close(struct maildir_source **src);

#endif
