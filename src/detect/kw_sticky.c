/*
 * Sticky buffers (http.uri; content:...) and the legacy content modifiers
 * (content:...; http_uri;). A sticky buffer sends every later payload
 * keyword to its list until the next one; a legacy modifier moves the last
 * content from the packet payload list to its buffer's list, where its
 * distance/within become relative to the previous match in that buffer.
 */
#include <stdio.h>

#include "detect/kw_payload.h"

static bool sig_has_type(const struct sig *s, int type)
{
    for (int b = 0; b < BUF_COUNT; b++)
        for (const struct sm *m = s->lists[b]; m; m = m->next)
            if (m->type == type)
                return true;
    return false;
}

static int sticky_select(struct sig *s, struct parse_state *ps, int buf, const char *kw,
                         char *err, size_t errlen)
{
    if (buf == BUF_BASE64_DATA && !sig_has_type(s, SM_BASE64_DECODE)) {
        snprintf(err, errlen, "'%s' needs a preceding base64_decode", kw);
        return -1;
    }
    ps->cur_buf = buf;
    /* modifiers never reach back into another buffer */
    ps->last_content = NULL;
    ps->last_content_buf = buf;
    return 0;
}

static int legacy_move(struct sig *s, struct parse_state *ps, int buf, const char *kw,
                       char *err, size_t errlen)
{
    if (ps->cur_buf != BUF_PAYLOAD) {
        snprintf(err, errlen, "'%s' can't be used while the sticky buffer '%s' is in effect",
                 kw, buffer_name(ps->cur_buf));
        return -1;
    }
    struct content *c = ps->last_content;
    if (!c) {
        snprintf(err, errlen, "'%s' needs a preceding content", kw);
        return -1;
    }
    if (ps->last_content_buf != BUF_PAYLOAD) {
        snprintf(err, errlen, "'%s' on a content already bound to '%s'", kw,
                 buffer_name(ps->last_content_buf));
        return -1;
    }
    if (c->flags & CONTENT_RAWBYTES) {
        snprintf(err, errlen, "'%s' can't be mixed with 'rawbytes'", kw);
        return -1;
    }
    struct sm **pp = &s->lists[BUF_PAYLOAD];
    while (*pp && (*pp)->ctx != c)
        pp = &(*pp)->next;
    if (!*pp) {
        snprintf(err, errlen, "'%s' needs a preceding content", kw);
        return -1;
    }
    struct sm *m = *pp;
    *pp = m->next;
    m->next = NULL;
    sm_append(&s->lists[buf], m);
    ps->last_content_buf = buf;
    return 0;
}

#define X(id, name, legacy, app)                                                              \
    int kw_sticky_##id(struct sig *s, struct parse_state *ps, const char *v, char *err,       \
                       size_t n)                                                              \
    {                                                                                         \
        (void)v;                                                                              \
        return sticky_select(s, ps, BUF_##id, name, err, n);                                  \
    }
#define XL(id, name, legacy, app)                                                             \
    X(id, name, legacy, app)                                                                  \
    int kw_legacy_##id(struct sig *s, struct parse_state *ps, const char *v, char *err,       \
                       size_t n)                                                              \
    {                                                                                         \
        (void)v;                                                                              \
        return legacy_move(s, ps, BUF_##id, legacy, err, n);                                  \
    }
#include "detect/buffers.def"
#undef XL
#undef X
