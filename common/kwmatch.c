/* kwmatch.c - Aho-Corasick over ASCII-folded bytes for kwmatch.h: a trie of
 * the keywords with failure links, so one pass over a text finds them all
 * whatever their number. The root has a full 256-entry table, the other
 * nodes short edge lists (keywords rarely branch past their first bytes). */
#include <stdlib.h>
#include <string.h>
#include "kwmatch.h"
#include "util.h"

typedef struct kw_node {
	unsigned char *labels;
	size_t *next;
	size_t nedges;
	size_t fail;
	size_t out;  /* keyword id ending here, or NO_ID */
	size_t dict; /* nearest node on the failure chain with an id, or NO_NODE */
} kw_node;

#define NO_ID ((size_t)-1)
#define NO_NODE ((size_t)-1)

struct kwmatch {
	kw_node *nodes;
	size_t nnodes;
	size_t nids;
	int empty_id_set;
	size_t empty_id; /* the empty keyword: found in every text */
	size_t root_next[256];
};

/* ASCII folding only, as strcasestr in the C locale. */
static unsigned char fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static size_t node_new(kwmatch *k)
{
	k->nodes = xrealloc(k->nodes, (k->nnodes + 1) * sizeof *k->nodes);
	kw_node *n = &k->nodes[k->nnodes];
	memset(n, 0, sizeof *n);
	n->out = NO_ID;
	n->dict = NO_NODE;
	return k->nnodes++;
}

static size_t edge(const kwmatch *k, size_t node, unsigned char c)
{
	const kw_node *n = &k->nodes[node];
	for (size_t i = 0; i < n->nedges; i++)
		if (n->labels[i] == c)
			return n->next[i];
	return NO_NODE;
}

static size_t edge_add(kwmatch *k, size_t node, unsigned char c)
{
	size_t child = node_new(k);
	kw_node *n = &k->nodes[node];
	n->labels = xrealloc(n->labels, n->nedges + 1);
	n->next = xrealloc(n->next, (n->nedges + 1) * sizeof *n->next);
	n->labels[n->nedges] = c;
	n->next[n->nedges++] = child;
	return child;
}

kwmatch *kwmatch_new(void)
{
	kwmatch *k = xcalloc(1, sizeof *k);
	node_new(k);
	return k;
}

void kwmatch_free(kwmatch *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->nnodes; i++) {
		free(k->nodes[i].labels);
		free(k->nodes[i].next);
	}
	free(k->nodes);
	free(k);
}

size_t kwmatch_add(kwmatch *k, const char *keyword)
{
	const unsigned char *p = (const unsigned char *)keyword;
	if (!*p) {
		if (!k->empty_id_set) {
			k->empty_id_set = 1;
			k->empty_id = k->nids++;
		}
		return k->empty_id;
	}
	size_t node = 0;
	for (; *p; p++) {
		size_t next = edge(k, node, fold(*p));
		node = next != NO_NODE ? next : edge_add(k, node, fold(*p));
	}
	if (k->nodes[node].out == NO_ID)
		k->nodes[node].out = k->nids++;
	return k->nodes[node].out;
}

size_t kwmatch_count(const kwmatch *k)
{
	return k->nids;
}

/* Where the automaton goes from node on byte c (already folded). */
static size_t step(const kwmatch *k, size_t node, unsigned char c)
{
	while (node != 0) {
		size_t next = edge(k, node, c);
		if (next != NO_NODE)
			return next;
		node = k->nodes[node].fail;
	}
	return k->root_next[c];
}

/* Failure and dictionary links breadth first: a node's failure target is
 * shallower, so it is complete when the node is reached. */
void kwmatch_build(kwmatch *k)
{
	for (size_t c = 0; c < 256; c++) {
		size_t next = edge(k, 0, (unsigned char)c);
		k->root_next[c] = next != NO_NODE ? next : 0;
	}
	size_t *queue = xmalloc(k->nnodes * sizeof *queue), head = 0, tail = 0;
	for (size_t i = 0; i < k->nodes[0].nedges; i++)
		queue[tail++] = k->nodes[0].next[i];
	while (head < tail) {
		size_t node = queue[head++];
		kw_node *n = &k->nodes[node];
		for (size_t i = 0; i < n->nedges; i++) {
			size_t child = n->next[i];
			size_t fail = step(k, n->fail, n->labels[i]);
			kw_node *cn = &k->nodes[child];
			cn->fail = fail;
			cn->dict = k->nodes[fail].out != NO_ID ? fail : k->nodes[fail].dict;
			queue[tail++] = child;
		}
	}
	free(queue);
}

/* Report the ids ending at node. Once an id is found, the rest of its
 * dictionary chain was found with it, so the walk stops there and the
 * whole scan stays linear in the text plus the ids found. */
static void report(const kwmatch *k, size_t node, unsigned char *found)
{
	if (k->nodes[node].out == NO_ID)
		node = k->nodes[node].dict;
	while (node != NO_NODE && !found[k->nodes[node].out]) {
		found[k->nodes[node].out] = 1;
		node = k->nodes[node].dict;
	}
}

void kwmatch_scan(const kwmatch *k, const char *text, unsigned char *found)
{
	memset(found, 0, k->nids);
	if (k->empty_id_set)
		found[k->empty_id] = 1;
	size_t node = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		node = step(k, node, fold(*p));
		if (k->nodes[node].out != NO_ID || k->nodes[node].dict != NO_NODE)
			report(k, node, found);
	}
}
