/* The human summary printed at the end of a replay. */
#ifndef CARACAL_ENGINE_SUMMARY_H
#define CARACAL_ENGINE_SUMMARY_H

#include <stdio.h>

#include "engine/runmode.h"

void summary_print(FILE *out, const struct run_report *rep, const char *eve_path,
                   const char *fast_path);

#endif
