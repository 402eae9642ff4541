/* Inspection buffer names: sticky buffer names, their aliases, legacy modifiers. */
#include <string.h>
#include <strings.h>

#include "detect/detect_int.h"

static const struct {
    const char *name;
    const char *legacy;
    enum app_proto app;
} buffers[BUF_COUNT] = {
#define X(id, name, legacy, app) { name, legacy, APP_##app },
#include "detect/buffers.def"
#undef X
};

static const struct {
    const char *alias;
    int buf;
} aliases[] = {
#define A(alias, id, name) { alias, BUF_##id },
#include "detect/buffer_aliases.def"
#undef A
};

int buffer_lookup(const char *name)
{
    for (int i = 0; i < BUF_COUNT; i++)
        if (strcasecmp(buffers[i].name, name) == 0)
            return i;
    for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
        if (strcasecmp(aliases[i].alias, name) == 0)
            return aliases[i].buf;
    return -1;
}

int buffer_lookup_modifier(const char *name)
{
    for (int i = 0; i < BUF_COUNT; i++)
        if (buffers[i].legacy && strcasecmp(buffers[i].legacy, name) == 0)
            return i;
    return -1;
}

const char *buffer_name(int buf)
{
    return buf >= 0 && buf < BUF_COUNT ? buffers[buf].name : "unknown";
}

enum app_proto buffer_app(int buf)
{
    return buf >= 0 && buf < BUF_COUNT ? buffers[buf].app : APP_NONE;
}
