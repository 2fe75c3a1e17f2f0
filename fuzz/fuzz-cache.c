/* SPDX-License-Identifier: MIT */
/*
 * fuzz-cache.c: libFuzzer target for the header cache file reader
 * (src/store/mailbox-cache.c). The input is a whole NAME.cache file.
 * Checks (in mailbox_cache_parse_buf): every accepted record lies inside
 * the file after the header, is at most CACHE_VALUE_MAX long, carries a
 * matching checksum, and the records come out sorted by UID. Here: a
 * file with another UIDVALIDITY gives no record and asks for a rewrite.
 */
#include "mailbox-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t uidvalidity, first, last;
	bool rewrite;
	unsigned int n;

	if (size < 12)
		return 0;
	/* the UIDVALIDITY the file claims, so records get looked at */
	uidvalidity = (uint32_t)data[8] | (uint32_t)data[9] << 8 |
		(uint32_t)data[10] << 16 | (uint32_t)data[11] << 24;
	n = mailbox_cache_parse_buf(data, size, uidvalidity, &rewrite,
				    &first, &last);
	i_assert(n <= size / 12);
	i_assert(n == 0 || first <= last);
	n = mailbox_cache_parse_buf(data, size, uidvalidity + 1, &rewrite,
				    &first, &last);
	i_assert(n == 0 && rewrite);
	return 0;
}
