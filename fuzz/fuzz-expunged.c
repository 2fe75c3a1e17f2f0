/* SPDX-License-Identifier: MIT */
/*
 * fuzz-expunged.c: libFuzzer target for the expunge history reader
 * (src/store/mailbox-index.c, NAME.exp). The input is a whole file.
 * Checks (in expunge_log_parse_buf): the records accepted lie inside the
 * file after the header and none has UID 0. Here: a file cut anywhere
 * accepts no more records than the whole one (a torn tail loses only
 * what was torn) and keeps its header.
 */
#include "mailbox-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t uidvalidity, uidvalidity2;
	uint64_t horizon, horizon2;
	int n, n2;

	n = expunge_log_parse_buf(data, size, &uidvalidity, &horizon);
	if (n < 0 || size == EXPUNGE_LOG_HEADER_SIZE)
		return 0;
	n2 = expunge_log_parse_buf(data, size - 1, &uidvalidity2, &horizon2);
	i_assert(n2 >= 0 && n2 <= n && n - n2 <= 1);
	i_assert(uidvalidity2 == uidvalidity && horizon2 == horizon);
	return 0;
}
