/* SPDX-License-Identifier: MIT */
/* crlf.c: see crlf.h. */
#include "crlf.h"

#include <stdlib.h>

unsigned char *
crlf_canonical(const unsigned char *data, size_t len, size_t *len_r)
{
	unsigned char *out;
	size_t i, n = 0, bare = 0;

	for (i = 0; i < len; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			bare++;
	}
	if (bare == 0)
		return NULL;
	out = i_malloc(len + bare);
	for (i = 0; i < len; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			out[n++] = '\r';
		out[n++] = data[i];
	}
	*len_r = n;
	return out;
}
