/* Intrusive doubly-linked list: the node sits inside the caller's struct, so FIFOs and
 * LRUs cost no allocation (after the Linux kernel's list_head). Used where the oldest
 * entry must be found in O(1): fragment reassembly's FIFO, TCP streams' LRU. */
#ifndef SIPSCOPE_LIST_H
#define SIPSCOPE_LIST_H

#include <stddef.h>

struct dlist_node {
    struct dlist_node *prev, *next;
};

struct dlist {
    struct dlist_node *head, *tail; /* head: the oldest */
};

#define dlist_entry(node, type, member) ((type *)((char *)(node) - offsetof(type, member)))

static inline void dlist_push_tail(struct dlist *l, struct dlist_node *n)
{
    n->prev = l->tail;
    n->next = NULL;
    if (l->tail)
        l->tail->next = n;
    else
        l->head = n;
    l->tail = n;
}

static inline void dlist_unlink(struct dlist *l, struct dlist_node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
    n->prev = n->next = NULL;
}

/* Moves n to the tail (most recently used). */
static inline void dlist_touch(struct dlist *l, struct dlist_node *n)
{
    dlist_unlink(l, n);
    dlist_push_tail(l, n);
}

#endif
