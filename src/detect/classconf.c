/*
 * classification.config and reference.config, in Suricata's (and Snort's)
 * format:
 *
 *   config classification: shortname,short description,priority
 *   config reference: type url-prefix
 *
 * '#' starts a comment line; blank lines are skipped. A later definition of
 * the same name replaces the earlier one.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect/kw_runtime.h"

#define CONF_LINE_MAX 4096

/* Returns the text after "config <what>:" or NULL when the line is not one. */
static char *directive(char *line, const char *what)
{
    char *p = kw_strip(line);
    if (strncmp(p, "config", 6) != 0 || !isspace((unsigned char)p[6]))
        return NULL;
    p = kw_strip(p + 6);
    size_t n = strlen(what);
    if (strncmp(p, what, n) != 0)
        return NULL;
    p = kw_strip(p + n);
    if (*p != ':')
        return NULL;
    return kw_strip(p + 1);
}

static bool skip_line(char *line)
{
    char *p = kw_strip(line);
    return *p == '\0' || *p == '#';
}

static int add_class(struct detect_build *b, const char *name, const char *desc, int prio)
{
    struct classification *c = NULL;
    for (unsigned i = 0; i < b->nclasses; i++)
        if (strcmp(b->classes[i].name, name) == 0)
            c = &b->classes[i];
    char *n = strdup(name), *d = strdup(desc);
    if (n == NULL || d == NULL) {
        free(n);
        free(d);
        return -1;
    }
    if (c == NULL) {
        struct classification *a = realloc(b->classes, (b->nclasses + 1) * sizeof *a);
        if (a == NULL) {
            free(n);
            free(d);
            return -1;
        }
        b->classes = a;
        c = &b->classes[b->nclasses++];
    } else {
        free(c->name);
        free(c->desc);
    }
    c->name = n;
    c->desc = d;
    c->priority = prio;
    return 0;
}

/* "name,description,priority": the description may not hold a comma. */
static bool parse_class(char *text, char **name, char **desc, int *prio)
{
    char *rest = kw_split(text, ',', name);
    if (rest == NULL || **name == '\0')
        return false;
    rest = kw_split(rest, ',', desc);
    uint64_t p;
    if (rest == NULL || **desc == '\0' || !kw_parse_u64(rest, 255, &p))
        return false;
    for (const char *c = *name; *c; c++)
        if (isspace((unsigned char)*c))
            return false;
    *prio = (int)p;
    return true;
}

/* Reads classification lines from fp; name is the file named in messages. */
static int classification_read(struct detect_build *b, FILE *fp, const char *path, char *err,
                               size_t errlen)
{
    char line[CONF_LINE_MAX];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, fp) != NULL) {
        lineno++;
        if (skip_line(line))
            continue;
        char *text = directive(line, "classification"), *name, *desc;
        int prio;
        if (text == NULL || !parse_class(text, &name, &desc, &prio)) {
            snprintf(err, errlen, "%s:%d: malformed classification line", path, lineno);
            rc = -1;
        } else if (add_class(b, name, desc, prio) < 0) {
            snprintf(err, errlen, "%s:%d: out of memory", path, lineno);
            rc = -1;
        }
    }
    return rc;
}

int classification_load(struct detect_build *b, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = classification_read(b, fp, path, err, errlen);
    fclose(fp);
    return rc;
}

/* etc/classification.config as it was at build time. */
static const char builtin_classes[] =
#include "src/detect/classification_builtin.h"
    ;

int classification_load_builtin(struct detect_build *b, char *err, size_t errlen)
{
    FILE *fp = fmemopen((void *)builtin_classes, sizeof builtin_classes - 1, "r");
    if (fp == NULL) {
        snprintf(err, errlen, "built-in classifications: %s", strerror(errno));
        return -1;
    }
    int rc = classification_read(b, fp, "(built-in classification.config)", err, errlen);
    fclose(fp);
    return rc;
}

const struct classification *classification_find(const struct detect_build *b, const char *name)
{
    for (unsigned i = 0; i < b->nclasses; i++)
        if (strcmp(b->classes[i].name, name) == 0)
            return &b->classes[i];
    return NULL;
}

int reference_config_load(struct detect_build *b, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (b->reference_types == NULL && (b->reference_types = json_object()) == NULL) {
        fclose(fp);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    char line[CONF_LINE_MAX];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, fp) != NULL) {
        lineno++;
        if (skip_line(line))
            continue;
        char *text = directive(line, "reference"), *url = text;
        while (url && *url && !isspace((unsigned char)*url))
            url++;
        if (text == NULL || url == text || *url == '\0') {
            snprintf(err, errlen, "%s:%d: malformed reference line", path, lineno);
            rc = -1;
            continue;
        }
        *url++ = '\0';
        url = kw_strip(url);
        if (json_object_set_new(b->reference_types, text, json_string(url)) < 0) {
            snprintf(err, errlen, "%s:%d: malformed reference line", path, lineno);
            rc = -1;
        }
    }
    fclose(fp);
    return rc;
}
