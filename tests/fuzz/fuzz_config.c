/*
 * libFuzzer target for the YAML configuration loader: load the input as a
 * config, read it back through each getter, apply an override, free.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[] = {
    "vars.address-groups.HOME_NET", "default-rule-path", "rule-files", "rule-files.0",
    "outputs.0.eve-log.enabled", "outputs.0.eve-log.filename", "stream.memcap",
    "stream.reassembly.depth", "flow.memcap", "threading.set-cpu-affinity", "a", "a.b.c",
    "", ".", "..", "0", "a..b",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conf *c = conf_new();
    if (c == NULL)
        return 0;
    char err[256];
    err[0] = '\0';
    if (conf_load_string(c, (const char *)data, size, "fuzz.yaml", err, sizeof err) == 0) {
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
            const char *s;
            bool b;
            long l;
            uint64_t u;
            conf_get_str(c, paths[i], "x", &s);
            if (s != NULL && strlen(s) > size + 1)
                abort(); /* a value cannot be longer than the input */
            conf_get_bool(c, paths[i], false, &b, err, sizeof err);
            conf_get_int(c, paths[i], 1, -5, 5, &l, err, sizeof err);
            conf_get_size(c, paths[i], 4096, &u, err, sizeof err);
            const struct conf_node *n = conf_find(c, paths[i]);
            if (n != NULL) {
                char where[128];
                conf_node_where(n, where, sizeof where);
                conf_node_find(n, "0");
            }
        }
    }
    /* An override taken from the input's first line. */
    char assign[128];
    size_t n = 0;
    while (n < size && n < sizeof assign - 1 && data[n] != '\n' && data[n] != '\0') {
        assign[n] = (char)data[n];
        n++;
    }
    assign[n] = '\0';
    if (conf_set(c, assign, err, sizeof err) == 0) {
        const char *eq = strchr(assign, '=');
        if (eq != NULL && (size_t)(eq - assign) < sizeof assign) {
            char key[128];
            memcpy(key, assign, (size_t)(eq - assign));
            key[eq - assign] = '\0';
            const char *s;
            conf_get_str(c, key, NULL, &s);
        }
    }
    conf_free(c);
    return 0;
}
