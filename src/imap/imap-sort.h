/* SPDX-License-Identifier: MIT */
/*
 * imap-sort.h: what SORT (cmd-sort.c) and THREAD (cmd-thread.c) share:
 * the messages a search program selects, each with the keys RFC 5256
 * and RFC 5957 compare, from the store's header cache (which reads a
 * message's header the first time). Part of src/imap; private to those
 * two files.
 */
#ifndef IMAP_SORT_H
#define IMAP_SORT_H

#include "imap-private.h"

/* Sort criteria in one SORT command. */
#define IMAP_SORT_CRITERIA_MAX 16

/* Which keys to read (bits). */
#define SORT_KEY_SUBJECT 0x01u
#define SORT_KEY_DATE 0x02u
#define SORT_KEY_FROM 0x04u
#define SORT_KEY_TO 0x08u
#define SORT_KEY_CC 0x10u
#define SORT_KEY_DISPLAYFROM 0x20u
#define SORT_KEY_DISPLAYTO 0x40u
#define SORT_KEY_THREAD 0x80u   /* Message-ID, References, In-Reply-To */

/* One selected message. Strings are malloc'd, never NULL when their
   key was asked for ("" when the field is missing). Comparison keys
   (subject, addresses, display names) are i;unicode-casemap keys
   (RFC 5051), compared with strcmp(). */
struct sort_msg {
	uint32_t seq, uid;
	uint64_t size, modseq;
	int64_t arrival;
	/* RFC 5256 §2.2 sent date (UTC), the INTERNALDATE when Date: is
	   missing or cannot be parsed */
	int64_t date;
	char *subject;
	bool reply;             /* base subject extraction removed Re: etc. */
	char *from, *to, *cc;   /* addr-mailbox of the first address */
	char *displayfrom, *displayto;  /* RFC 5957 §2 */
	/* raw values, NULL when absent */
	char *message_id, *references, *in_reply_to;
};

/*
 * Worker: the messages of the client's view that search selects, in
 * sequence order, with the keys in the keys bits. *msgs_r is freed with
 * imap_sort_msgs_free(). Returns 0, or -1 on a store error (store_error()
 * tells).
 */
int imap_sort_collect(struct imap_conn *conn, struct imap_search *search,
		      unsigned int keys, struct sort_msg **msgs_r,
		      unsigned int *count_r);
void imap_sort_msgs_free(struct sort_msg **msgs, unsigned int count);

/* Loop thread: checks "charset" of SORT and THREAD (RFC 5256 §3) and
   parses the search keys after it; NULL after a BAD or NO reply. */
struct imap_search *imap_sort_search_parse(struct imap_conn *conn,
					   const struct imap_arg *args,
					   unsigned int count);

#endif
