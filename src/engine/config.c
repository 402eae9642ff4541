/* caracal.yaml loading (libyaml event API) and typed lookups. */
#include "engine/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

static struct conf_node *node_new(const char *name, int line, const char *file)
{
    struct conf_node *n = calloc(1, sizeof *n);
    if (n == NULL)
        abort();
    n->name = strdup(name ? name : "");
    n->line = line;
    n->file = file;
    return n;
}

static void node_free(struct conf_node *n)
{
    while (n != NULL) {
        struct conf_node *next = n->next;
        node_free(n->child);
        free(n->name);
        free(n->value);
        free(n);
        n = next;
    }
}

static void node_clear_children(struct conf_node *n)
{
    node_free(n->child);
    n->child = n->last_child = NULL;
}

static struct conf_node *node_child(const struct conf_node *n, const char *name, size_t len)
{
    for (struct conf_node *c = n->child; c != NULL; c = c->next)
        if (strlen(c->name) == len && strncmp(c->name, name, len) == 0)
            return c;
    return NULL;
}

static void node_append(struct conf_node *parent, struct conf_node *child)
{
    if (parent->last_child)
        parent->last_child->next = child;
    else
        parent->child = child;
    parent->last_child = child;
}

struct conf *conf_new(void)
{
    struct conf *c = calloc(1, sizeof *c);
    if (c == NULL)
        abort();
    c->root = node_new("", 0, "");
    return c;
}

void conf_free(struct conf *c)
{
    if (c == NULL)
        return;
    node_free(c->root);
    free(c->file);
    free(c);
}

/*
 * Builds the tree from the event stream. A mapping key that repeats an
 * earlier one replaces it (last one wins), as in Suricata.
 */
struct loader {
    yaml_parser_t parser;
    const char *file;
    char *err;
    size_t errlen;
};

static int load_error(struct loader *ld, size_t line, const char *what)
{
    snprintf(ld->err, ld->errlen, "%s:%zu: %s", ld->file, line + 1, what);
    return -1;
}

static int load_value(struct loader *ld, struct conf_node *into, yaml_event_t *ev, int depth);

static int load_children(struct loader *ld, struct conf_node *into, bool is_seq, int depth)
{
    unsigned idx = 0;
    for (;;) {
        yaml_event_t key;
        if (!yaml_parser_parse(&ld->parser, &key))
            return load_error(ld, ld->parser.problem_mark.line,
                              ld->parser.problem ? ld->parser.problem : "YAML syntax error");
        if (key.type == YAML_MAPPING_END_EVENT || key.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&key);
            return 0;
        }
        struct conf_node *child;
        yaml_event_t val;
        if (is_seq) {
            char name[16];
            snprintf(name, sizeof name, "%u", idx++);
            child = node_new(name, (int)key.start_mark.line + 1, ld->file);
            node_append(into, child);
            int rc = load_value(ld, child, &key, depth + 1);
            yaml_event_delete(&key);
            if (rc < 0)
                return rc;
            continue;
        }
        if (key.type != YAML_SCALAR_EVENT) {
            size_t line = key.start_mark.line;
            yaml_event_delete(&key);
            return load_error(ld, line, "mapping keys must be plain scalars");
        }
        const char *kname = (const char *)key.data.scalar.value;
        child = node_child(into, kname, strlen(kname));
        if (child != NULL) {
            node_clear_children(child);
            free(child->value);
            child->value = NULL;
            child->is_seq = false;
            child->line = (int)key.start_mark.line + 1;
            child->file = ld->file;
        } else {
            child = node_new(kname, (int)key.start_mark.line + 1, ld->file);
            node_append(into, child);
        }
        yaml_event_delete(&key);
        if (!yaml_parser_parse(&ld->parser, &val))
            return load_error(ld, ld->parser.problem_mark.line,
                              ld->parser.problem ? ld->parser.problem : "YAML syntax error");
        int rc = load_value(ld, child, &val, depth + 1);
        yaml_event_delete(&val);
        if (rc < 0)
            return rc;
    }
}

static int load_value(struct loader *ld, struct conf_node *into, yaml_event_t *ev, int depth)
{
    if (depth > 64)
        return load_error(ld, ev->start_mark.line, "nesting too deep");
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        free(into->value);
        into->value = strdup((const char *)ev->data.scalar.value);
        return 0;
    case YAML_MAPPING_START_EVENT:
        return load_children(ld, into, false, depth);
    case YAML_SEQUENCE_START_EVENT:
        into->is_seq = true;
        return load_children(ld, into, true, depth);
    case YAML_ALIAS_EVENT:
        return load_error(ld, ev->start_mark.line, "YAML aliases are not supported");
    default:
        return load_error(ld, ev->start_mark.line, "unexpected YAML content");
    }
}

static int load_parser(struct conf *c, struct loader *ld)
{
    int rc = 0;
    bool done = false;
    while (!done && rc == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&ld->parser, &ev)) {
            rc = load_error(ld, ld->parser.problem_mark.line,
                            ld->parser.problem ? ld->parser.problem : "YAML syntax error");
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_MAPPING_START_EVENT:
            rc = load_children(ld, c->root, false, 0);
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_SCALAR_EVENT:
            rc = load_error(ld, ev.start_mark.line, "the top level must be a mapping");
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    return rc;
}

int conf_load_string(struct conf *c, const char *yaml, size_t len, const char *name,
                     char *errbuf, size_t errlen)
{
    struct loader ld = { .file = name, .err = errbuf, .errlen = errlen };
    if (!yaml_parser_initialize(&ld.parser)) {
        snprintf(errbuf, errlen, "%s: cannot initialize the YAML parser", name);
        return -1;
    }
    yaml_parser_set_input_string(&ld.parser, (const unsigned char *)yaml, len);
    int rc = load_parser(c, &ld);
    yaml_parser_delete(&ld.parser);
    return rc;
}

int conf_load_file(struct conf *c, const char *path, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    free(c->file);
    c->file = strdup(path);
    struct loader ld = { .file = c->file, .err = errbuf, .errlen = errlen };
    if (!yaml_parser_initialize(&ld.parser)) {
        fclose(f);
        snprintf(errbuf, errlen, "%s: cannot initialize the YAML parser", path);
        return -1;
    }
    yaml_parser_set_input_file(&ld.parser, f);
    int rc = load_parser(c, &ld);
    yaml_parser_delete(&ld.parser);
    fclose(f);
    return rc;
}

int conf_set(struct conf *c, const char *assignment, char *errbuf, size_t errlen)
{
    const char *eq = strchr(assignment, '=');
    if (eq == NULL || eq == assignment) {
        snprintf(errbuf, errlen, "--set %s: expected key=value", assignment);
        return -1;
    }
    struct conf_node *n = c->root;
    const char *p = assignment;
    while (p < eq) {
        const char *dot = memchr(p, '.', (size_t)(eq - p));
        size_t len = dot ? (size_t)(dot - p) : (size_t)(eq - p);
        if (len == 0) {
            snprintf(errbuf, errlen, "--set %s: empty key component", assignment);
            return -1;
        }
        struct conf_node *child = node_child(n, p, len);
        if (child == NULL) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)len, p);
            child = node_new(name, 0, "--set");
            node_append(n, child);
        }
        if (child->value != NULL && dot != NULL) {
            free(child->value); /* a scalar becomes a mapping */
            child->value = NULL;
        }
        n = child;
        p += len + (dot ? 1 : 0);
        if (!dot)
            break;
    }
    node_clear_children(n);
    n->is_seq = false;
    free(n->value);
    n->value = strdup(eq + 1);
    n->line = 0;
    n->file = "--set";
    return 0;
}

const struct conf_node *conf_node_find(const struct conf_node *n, const char *path)
{
    const char *p = path;
    while (n != NULL && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        n = node_child(n, p, len);
        p += len + (dot ? 1 : 0);
        if (!dot)
            break;
    }
    return n;
}

const struct conf_node *conf_find(const struct conf *c, const char *path)
{
    return conf_node_find(c->root, path);
}

void conf_resolve_path(const struct conf *c, const char *path, char *out, size_t len)
{
    const char *slash = c->file ? strrchr(c->file, '/') : NULL;
    if (path[0] == '/' || c->file == NULL)
        snprintf(out, len, "%s", path);
    else if (slash == NULL)
        snprintf(out, len, "%s", path);
    else
        snprintf(out, len, "%.*s/%s", (int)(slash - c->file), c->file, path);
}

void conf_node_where(const struct conf_node *n, char *buf, size_t len)
{
    if (n->line == 0)
        snprintf(buf, len, "%s", n->file && *n->file ? n->file : "--set");
    else
        snprintf(buf, len, "%s:%d", n->file, n->line);
}

static int bad_value(const struct conf_node *n, const char *path, const char *why,
                     char *errbuf, size_t errlen)
{
    char where[512];
    conf_node_where(n, where, sizeof where);
    snprintf(errbuf, errlen, "%s: %s: %s, got '%s'", where, path, why,
             n->value ? n->value : "(a mapping or list)");
    return -1;
}

int conf_get_str(const struct conf *c, const char *path, const char *def, const char **out)
{
    const struct conf_node *n = conf_find(c, path);
    *out = n && n->value ? n->value : def;
    return 0;
}

int conf_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "yes", "true", "on", "1", "y" };
    static const char *const no[] = { "no", "false", "off", "0", "n" };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

int conf_get_bool(const struct conf *c, const char *path, bool def, bool *out, char *errbuf,
                  size_t errlen)
{
    const struct conf_node *n = conf_find(c, path);
    *out = def;
    if (n == NULL)
        return 0;
    if (n->value == NULL || conf_parse_bool(n->value, out) < 0)
        return bad_value(n, path, "expected yes or no", errbuf, errlen);
    return 0;
}

int conf_get_int(const struct conf *c, const char *path, long def, long min, long max,
                 long *out, char *errbuf, size_t errlen)
{
    const struct conf_node *n = conf_find(c, path);
    *out = def;
    if (n == NULL)
        return 0;
    if (n->value == NULL)
        return bad_value(n, path, "expected a number", errbuf, errlen);
    char *end;
    errno = 0;
    long v = strtol(n->value, &end, 10);
    if (errno || end == n->value || *end != '\0')
        return bad_value(n, path, "expected a number", errbuf, errlen);
    if (v < min || v > max) {
        char why[96];
        snprintf(why, sizeof why, "expected a number from %ld to %ld", min, max);
        return bad_value(n, path, why, errbuf, errlen);
    }
    *out = v;
    return 0;
}

int conf_parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == '\0')
        return -1;
    double v = strtod(s, &end);
    if (errno || end == s || !(v >= 0)) /* also rejects nan */
        return -1;
    while (*end == ' ')
        end++;
    double mul = 1;
    if (*end) {
        if (strcasecmp(end, "b") == 0)
            mul = 1;
        else if (strcasecmp(end, "kb") == 0 || strcasecmp(end, "k") == 0 || strcasecmp(end, "kib") == 0)
            mul = 1024.0;
        else if (strcasecmp(end, "mb") == 0 || strcasecmp(end, "m") == 0 || strcasecmp(end, "mib") == 0)
            mul = 1024.0 * 1024;
        else if (strcasecmp(end, "gb") == 0 || strcasecmp(end, "g") == 0 || strcasecmp(end, "gib") == 0)
            mul = 1024.0 * 1024 * 1024;
        else
            return -1;
    }
    double r = v * mul;
    if (r > 1.8e19)
        return -1;
    *out = (uint64_t)r;
    return 0;
}

int conf_get_size(const struct conf *c, const char *path, uint64_t def, uint64_t *out,
                  char *errbuf, size_t errlen)
{
    const struct conf_node *n = conf_find(c, path);
    *out = def;
    if (n == NULL)
        return 0;
    if (n->value == NULL || conf_parse_size(n->value, out) < 0)
        return bad_value(n, path, "expected a size such as 4096, 64kb, 128mb or 1gb", errbuf,
                         errlen);
    return 0;
}
