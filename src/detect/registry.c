/* Names of flowbits, xbits and flowints, numbered as rules mention them. */
#include <stdlib.h>
#include <string.h>

#include "detect/detect_int.h"

int name_registry_id(struct name_registry *r, const char *name)
{
    for (unsigned i = 0; i < r->n; i++)
        if (strcmp(r->names[i], name) == 0)
            return (int)i;
    if (r->n == r->cap) {
        unsigned cap = r->cap ? r->cap * 2 : 32;
        char **n = realloc(r->names, cap * sizeof *n);
        if (n == NULL)
            return -1;
        r->names = n;
        r->cap = cap;
    }
    r->names[r->n] = strdup(name);
    if (r->names[r->n] == NULL)
        return -1;
    return (int)r->n++;
}

void name_registry_free(struct name_registry *r)
{
    for (unsigned i = 0; i < r->n; i++)
        free(r->names[i]);
    free(r->names);
    memset(r, 0, sizeof *r);
}
