/* SPDX-License-Identifier: MIT */
/* placeholder: not written yet */
typedef int placeholder_mime_header;
