/* SPDX-License-Identifier: MIT */
/*
 * llist.h: intrusive doubly-linked lists. An item struct has `prev` and
 * `next` pointers; the list is a head pointer. Used for the connection
 * lists of every front-end server.
 */
#ifndef LLIST_H
#define LLIST_H

/* Puts item at the front of the list whose head is `head`. */
#define DLLIST_PREPEND(head, item)                      \
	do {                                            \
		(item)->prev = NULL;                    \
		(item)->next = *(head);                 \
		if (*(head) != NULL)                    \
			(*(head))->prev = (item);       \
		*(head) = (item);                       \
	} while (0)

/* Takes item out of the list; its pointers are NULL afterwards. */
#define DLLIST_REMOVE(head, item)                               \
	do {                                                    \
		if ((item)->prev != NULL)                       \
			(item)->prev->next = (item)->next;      \
		else                                            \
			*(head) = (item)->next;                 \
		if ((item)->next != NULL)                       \
			(item)->next->prev = (item)->prev;      \
		(item)->prev = (item)->next = NULL;             \
	} while (0)

#endif
