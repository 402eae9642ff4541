/*
 * Rule files into a build context (rules_load.c). Private to src/detect/:
 * engine.c creates a build, loads each file, then takes b->sigs over
 * (setting b->sigs to NULL and b->nsigs to 0) before freeing the build.
 */
#ifndef CARACAL_DETECT_RULES_LOAD_H
#define CARACAL_DETECT_RULES_LOAD_H

#include "detect/detect_int.h"

/* An empty build that reads variables from c (may be NULL: the defaults)
 * and tallies into rep (required). */
struct detect_build *detect_build_new(const struct conf *c, struct detect_load_report *rep);

/* Frees the build and every signature still in b->sigs. */
void detect_build_free(struct detect_build *b);

/*
 * Reads one rule file: '#' comments and blank lines are skipped, a line
 * ending in '\' continues on the next. Each rule that fails is printed as
 * "caracal: error: FILE:LINE: REASON (sid N)" on stderr and tallied in the
 * report; the others are appended to b->sigs. A sid+gid already loaded
 * is rejected as "duplicate sid N". Returns -1 when the file cannot be
 * read, else 0.
 */
int detect_build_load_file(struct detect_build *b, const char *path);

/* Adds one rejection to the report's tally (also used for engine-level rejections). */
void detect_report_add_failure(struct detect_load_report *rep, const char *reason);

#endif
