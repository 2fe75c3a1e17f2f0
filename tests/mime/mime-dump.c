/* SPDX-License-Identifier: MIT */
/*
 * mime-dump: prints IMAP views of a message file, for the differential
 * test against Dovecot (tests/mime/test_mime_dovecot.py) and for people
 * looking at a message by hand.
 *
 *   mime-dump FILE ITEM...
 *   ITEM: ENVELOPE | BODY | BODYSTRUCTURE | BODY[section]<o.n> |
 *         BINARY[part]<o.n> | BINARY.SIZE[part]
 *   mime-dump --date          (dates on stdin, one per line)
 *
 * For each ITEM it prints "ITEM LEN\n" followed by LEN bytes and "\n",
 * "ITEM NIL\n", or "ITEM ERROR text\n". --date prints
 * "TIME OFFSET\n" (seconds since the epoch, zone minutes) or "ERROR\n".
 */
#include "buf.h"
#include "vfs.h"
#include "imap-bodystructure.h"
#include "imap-envelope.h"
#include "imap-section.h"
#include "mime-date.h"
#include "mime-parser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
print_item(const char *item, const buf_t *value)
{
	printf("%s %zu\n", item, value->len);
	fwrite(value->data == NULL ? (const unsigned char *)"" : value->data,
	       1, value->len, stdout);
	putchar('\n');
}

static void
dump_item(struct mime_message *msg, const unsigned char *data, size_t size,
	  const char *item)
{
	struct imap_section *section;
	const char *error;
	buf_t out = BUF_INIT;

	if (strcmp(item, "ENVELOPE") == 0) {
		imap_envelope_write(&out, msg->root->envelope, 0);
	} else if (strcmp(item, "BODY") == 0) {
		imap_bodystructure_write(&out, msg->root, false, 0);
	} else if (strcmp(item, "BODYSTRUCTURE") == 0) {
		imap_bodystructure_write(&out, msg->root, true, 0);
	} else if (imap_section_parse(item, &section, &error) < 0) {
		printf("%s ERROR %s\n", item, error);
		return;
	} else {
		struct imap_section_result res;

		if (imap_section_fetch(section, msg, data, size, &res,
				       &error) < 0) {
			printf("%s ERROR %s\n", item, error);
			imap_section_free(&section);
			return;
		}
		if (imap_section_is_size(section)) {
			buf_printf(&out, "%" PRIu64, res.size);
		} else {
			imap_section_result_copy(&res, data, &out);
		}
		imap_section_result_free(&res);
		imap_section_free(&section);
	}
	print_item(item, &out);
	buf_deinit(&out);
}

static int
dump_dates(void)
{
	char line[4096];

	while (fgets(line, sizeof(line), stdin) != NULL) {
		size_t len = strcspn(line, "\n");
		time_t t;
		int tz;

		if (mime_date_parse(line, len, &t, &tz) < 0)
			printf("ERROR\n");
		else
			printf("%lld %d\n", (long long)t, tz);
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct mime_message *msg;
	unsigned char *data;
	size_t size;
	int i;

	if (argc == 2 && strcmp(argv[1], "--date") == 0)
		return dump_dates();
	if (argc < 3) {
		fprintf(stderr, "usage: mime-dump FILE ITEM... | --date\n");
		return 2;
	}
	if (vfs_read_file(argv[1], &data, &size) < 0) {
		perror(argv[1]);
		return 1;
	}
	msg = mime_message_parse(data, size);
	for (i = 2; i < argc; i++)
		dump_item(msg, data, size, argv[i]);
	mime_message_free(&msg);
	free(data);
	return 0;
}
