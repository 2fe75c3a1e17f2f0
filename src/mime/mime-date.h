/* SPDX-License-Identifier: MIT */
/*
 * mime-date.h: RFC 5322 §3.3 date-time values (Date:, Resent-Date:),
 * obsolete syntax of §4.3 included: optional day of week, two- and
 * three-digit years, optional seconds, CFWS anywhere, and the obsolete
 * zones (UT, GMT, the US zones, military letters). Used by SEARCH
 * SENTBEFORE/SENTON/SENTSINCE and SORT DATE. In mime, above lib.
 */
#ifndef MIME_DATE_H
#define MIME_DATE_H

#include "lib.h"
#include "buf.h"

#include <time.h>

/*
 * Parses a date-time. Returns 0 with *time_r (seconds since the epoch,
 * UTC) and *tz_offset_r (the zone's minutes east of UTC), or -1 when
 * the value is not a date. Unknown and military zones count as -0000
 * (RFC 5322 §4.3); so does a missing zone. Never blocks.
 */
int mime_date_parse(const void *data, size_t len, time_t *time_r,
		    int *tz_offset_r);

/* Appends t as an RFC 5322 date-time in the zone tz_offset (minutes
   east of UTC): "Tue, 1 Jul 2003 10:52:37 +0200". */
void mime_date_format(buf_t *out, time_t t, int tz_offset);

#endif
