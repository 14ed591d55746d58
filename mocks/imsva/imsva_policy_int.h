/* imsva_policy_int.h - what the imsva_policy*.c files share and nobody else
 * needs: string-list helpers of the rule model and the name tables the JSON
 * form validates against. */
#ifndef IMSVA_POLICY_INT_H
#define IMSVA_POLICY_INT_H

#include "imsva_engine.h"

extern const char *const imsva_intercept_names[];  /* IMSVA_INTERCEPT_* order, 5 */
extern const char *const imsva_level_names[];      /* IMSVA_LEVEL_* order, 3 */
extern const char *const imsva_builtin_ids[];      /* IMSVA_BUILTIN_* order; [0] NULL */

void imsva_strv_push(imsva_strv *s, const char *v);
void imsva_strv_free(imsva_strv *s);
imsva_strv imsva_strv_dup(const imsva_strv *s);
int imsva_strv_has(const imsva_strv *s, const char *v);
/* strdup that keeps NULL */
char *imsva_dup_opt(const char *s);
void imsva_kw_index_free(imsva_kw_index *kw);

#endif
