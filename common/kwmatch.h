/* kwmatch.h - many case-insensitive substrings found in one pass over a
 * text (Aho-Corasick). Each keyword answers exactly as strcasestr(text,
 * keyword) != NULL in the C locale: ASCII letters fold, every other byte
 * (UTF-8 included) compares as itself, the empty keyword is always found. */
#ifndef CTD_KWMATCH_H
#define CTD_KWMATCH_H

#include <stddef.h>

typedef struct kwmatch kwmatch;

kwmatch *kwmatch_new(void);
void kwmatch_free(kwmatch *k);
/* Add a keyword; returns its id (0, 1, ...). Keywords equal up to case
 * share one id. Only before kwmatch_build. */
size_t kwmatch_add(kwmatch *k, const char *keyword);
/* Number of distinct ids handed out. */
size_t kwmatch_count(const kwmatch *k);
/* Finish the automaton; after it the matcher is read-only. */
void kwmatch_build(kwmatch *k);
/* found[id] = 1 for every keyword in the NUL-terminated text, 0 for the
 * others; found has kwmatch_count entries. */
void kwmatch_scan(const kwmatch *k, const char *text, unsigned char *found);

#endif
