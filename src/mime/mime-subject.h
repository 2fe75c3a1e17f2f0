/* SPDX-License-Identifier: MIT */
/*
 * mime-subject.h: the "base subject" of RFC 5256 §2.1, the key SORT
 * SUBJECT and both THREAD algorithms compare: the Subject field decoded
 * (RFC 2047) with reply and forward markers ("Re:", "Fwd:", "[tag]",
 * "(fwd)", "[fwd: ...]") taken off. In mime, above lib.
 */
#ifndef MIME_SUBJECT_H
#define MIME_SUBJECT_H

#include "lib.h"
#include "buf.h"

/*
 * Appends the base subject of a raw Subject field value (folds and
 * encoded-words as written) to out as UTF-8, letter case kept. Returns
 * true when extraction removed a reply or forward marker (a subj-refwd
 * leader, a "(fwd)" trailer or a "[fwd: ...]" wrapper), which THREAD
 * REFERENCES needs (RFC 5256 step 5). Never fails, never blocks.
 */
bool mime_subject_base(const unsigned char *value, size_t len, buf_t *out);

/* As above for text already decoded to UTF-8 (no RFC 2047 step). */
bool mime_subject_base_decoded(const char *text, size_t len, buf_t *out);

#endif
