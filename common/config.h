/* config.h - one declarative table per daemon drives every way to configure it.
 *
 * Each option is declared once (name, type, default, bounds, help). Values are
 * resolved in this order, later winning:
 *   built-in default (per profile) < INI file < environment < command-line flag.
 * INI: key in [<section>], else in [lab].  Env: CTDLAB_<SECTION>_<KEY>, else
 * CTDLAB_<KEY>.  Flags: --key=value or --key value (dashes or underscores).
 * The INI file is --config FILE, else $CTDLAB_CONFIG, else none.
 * A value that does not parse or is out of bounds is an error naming the key. */
#ifndef CTD_CONFIG_H
#define CTD_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include "err.h"

typedef enum {
	CFG_STR,      /* char *  (malloc'd; "" allowed) */
	CFG_INT,      /* long long, within [min,max] when min < max */
	CFG_BOOL,     /* int: yes/no, true/false, on/off, 1/0 */
	CFG_DURATION, /* long long milliseconds: "250ms", "5s", "2m", "1h", "30d" */
	CFG_ENUM      /* char *, one of choices "a|b|c" */
} cfg_type;

typedef struct cfg_opt {
	const char *name;
	cfg_type type;
	size_t offset;             /* offsetof() into the daemon's config struct */
	const char *def;           /* default in the "fast" profile (the lab default) */
	const char *def_realistic; /* default in the "realistic" profile; NULL = def */
	long long min, max;        /* bounds for INT and DURATION (ms); min == max: none */
	const char *choices;       /* ENUM */
	const char *help;
	/* default in the "classroom" profile (each wait seconds to a minute, so
	 * a class sees it happen); NULL = def. Last, so tables set it by name. */
	const char *def_classroom;
} cfg_opt;

typedef struct cfg_section {
	const char *name; /* INI section and env infix, e.g. "imsva" */
	const cfg_opt *opts;
	size_t nopts;
} cfg_section;

#define CFG_NOPTS(arr) (sizeof(arr) / sizeof((arr)[0]))

/* Resolve every option into target. Returns 0, 1 when --help was given (help
 * printed on stdout; the caller should exit 0), or -1 with err naming the key
 * and where the value came from. String fields are set to malloc'd copies
 * (old values are not freed; on failure they are freed and NULL). A `profile`
 * option, when the table has one, is resolved first and selects def,
 * def_classroom or def_realistic for the others. `--config=` (empty) means no INI file. */
int cfg_load(const cfg_section *sec, void *target, int argc, char **argv, ctd_err *err);
void cfg_print_help(const cfg_section *sec, const char *prog, FILE *out);
/* Free the strings cfg_load allocated. */
void cfg_free(const cfg_section *sec, void *target);

/* Read one key from an INI file without a table (tools such as dtascli).
 * Returns a malloc'd value or NULL. Section and key match case-insensitively. */
char *cfg_ini_get(const char *path, const char *section, const char *key);

#endif
