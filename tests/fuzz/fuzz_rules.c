/*
 * libFuzzer target for the rule parser: one rule per input, through the
 * header parser, option splitting and every keyword's setup function.
 * Rule files are operator input, but a hostile or broken ruleset must not
 * crash the sensor: every input either parses or is rejected with a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_int.h"
#include "detect/rules_load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct detect_build *b;
    static struct detect_load_report rep;
    if (b == NULL) {
        char err[256];
        b = detect_build_new(NULL, &rep);
        if (b == NULL || classification_load_builtin(b, err, sizeof err) < 0)
            abort();
    }
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char err[512] = "";
    struct sig *s = sig_parse(b, text, err, sizeof err);
    if (s != NULL)
        sig_free(s);
    else if (err[0] == '\0')
        abort(); /* a rejection always says why */
    free(text);
    return 0;
}
