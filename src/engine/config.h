/*
 * The configuration: caracal.yaml read with libyaml into a tree of named
 * nodes, with --set overrides on top. Every node remembers the file and
 * line it came from so that a bad value can be reported precisely.
 *
 * Paths are dotted: "flow.memcap", "vars.address-groups.HOME_NET";
 * sequence items are addressed by index: "outputs.0.eve-log.enabled".
 */
#ifndef CARACAL_ENGINE_CONFIG_H
#define CARACAL_ENGINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf_node {
    char *name;            /* key, or the index for sequence items */
    char *value;           /* scalar value, NULL for mappings and sequences */
    bool is_seq;
    int line;              /* 1-based line in file, 0 for --set */
    const char *file;      /* "--set" for overrides */
    struct conf_node *child, *last_child, *next;
};

struct conf {
    struct conf_node *root;
    char *file;            /* path of the loaded file, or NULL */
};

/* An empty configuration (every getter returns its default). */
struct conf *conf_new(void);
void conf_free(struct conf *c);

/* Loads a YAML file into c. On error prints "FILE:LINE: reason" to errbuf
 * and returns -1. */
int conf_load_file(struct conf *c, const char *path, char *errbuf, size_t errlen);
/* Same, from a string (tests, fuzzing); name is used in messages. */
int conf_load_string(struct conf *c, const char *yaml, size_t len, const char *name,
                     char *errbuf, size_t errlen);

/* Applies "a.b.c=value"; -1 with a reason when the text has no '='. */
int conf_set(struct conf *c, const char *assignment, char *errbuf, size_t errlen);

/* The node at a dotted path, or NULL. */
const struct conf_node *conf_find(const struct conf *c, const char *path);
const struct conf_node *conf_node_find(const struct conf_node *n, const char *path);

/*
 * Typed getters. Each returns 0 and stores the value (or the default when
 * the key is absent); on a bad value it writes
 * "FILE:LINE: KEY: reason" into errbuf and returns -1.
 */
int conf_get_str(const struct conf *c, const char *path, const char *def, const char **out);
int conf_get_bool(const struct conf *c, const char *path, bool def, bool *out,
                  char *errbuf, size_t errlen);
int conf_get_int(const struct conf *c, const char *path, long def, long min, long max,
                 long *out, char *errbuf, size_t errlen);
/* Sizes accept a number with an optional kb/mb/gb suffix (powers of 1024). */
int conf_get_size(const struct conf *c, const char *path, uint64_t def, uint64_t *out,
                  char *errbuf, size_t errlen);

/* Parses a size like "64mb"; -1 when it is not one. */
int conf_parse_size(const char *s, uint64_t *out);
/* Parses yes/no/true/false/on/off/1/0; -1 when it is not one. */
int conf_parse_bool(const char *s, bool *out);

/* A path from the configuration: a relative one is taken relative to the
 * directory of the configuration file (as is, when there is no file). */
void conf_resolve_path(const struct conf *c, const char *path, char *out, size_t len);

/* Describes where a node came from: "FILE:LINE" or "--set". */
void conf_node_where(const struct conf_node *n, char *buf, size_t len);

#endif
