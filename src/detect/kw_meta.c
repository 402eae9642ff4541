/*
 * Meta keywords: msg, sid, rev, gid, classtype, priority, reference,
 * metadata, target, noalert, tag, threshold, detection_filter. They set
 * fields of the signature and add no matcher.
 *
 * priority: and classtype: may come in any order; the explicit priority
 * wins. classtype only fills s->priority while it is still 0, so the rule
 * parser must start s->priority at 0 and apply the default (3) after the
 * last option.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "detect/kw_runtime.h"

#define META_MAX 4096 /* longest option value these keywords accept */

static int oom(char *err, size_t errlen)
{
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* Removes quotes left around a value and resolves \" \\ \; escapes. */
static void unquote(char *s)
{
    size_t n = strlen(s);
    if (n < 2 || s[0] != '"' || s[n - 1] != '"')
        return;
    char *w = s;
    for (size_t i = 1; i + 1 < n; i++) {
        if (s[i] == '\\' && i + 2 < n)
            i++;
        *w++ = s[i];
    }
    *w = '\0';
}

static int msg_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                     size_t errlen)
{
    (void)ps;
    char buf[META_MAX];
    if (!kw_trim(v, buf, sizeof buf)) {
        snprintf(err, errlen, "msg too long");
        return -1;
    }
    unquote(buf);
    char *m = strdup(buf);
    if (m == NULL)
        return oom(err, errlen);
    free(s->msg);
    s->msg = m;
    return 0;
}

static int u32_option(const char *kw, const char *v, uint32_t min, uint32_t *out, char *err,
                      size_t errlen)
{
    uint64_t n;
    if (v == NULL || !kw_parse_u64(v, UINT32_MAX, &n) || n < min) {
        snprintf(err, errlen, "invalid %s '%s'", kw, v ? v : "");
        return -1;
    }
    *out = (uint32_t)n;
    return 0;
}

static int sid_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                     size_t errlen)
{
    (void)ps;
    return u32_option("sid", v, 1, &s->id, err, errlen);
}

static int rev_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                     size_t errlen)
{
    (void)ps;
    return u32_option("rev", v, 0, &s->rev, err, errlen);
}

static int gid_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                     size_t errlen)
{
    (void)ps;
    return u32_option("gid", v, 0, &s->gid, err, errlen);
}

static int priority_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                          size_t errlen)
{
    (void)ps;
    uint32_t prio;
    if (u32_option("priority", v, 1, &prio, err, errlen) < 0 || prio > 255) {
        snprintf(err, errlen, "invalid priority '%s'", v ? v : "");
        return -1;
    }
    s->priority = (int)prio;
    return 0;
}

static int classtype_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                           size_t errlen)
{
    char name[256];
    if (!kw_trim(v, name, sizeof name) || name[0] == '\0') {
        snprintf(err, errlen, "invalid classtype '%s'", v ? v : "");
        return -1;
    }
    const struct classification *c = classification_find(ps->b, name);
    if (c == NULL) {
        snprintf(err, errlen, "unknown classtype '%s'", name);
        return -1;
    }
    char *n = strdup(c->name), *d = strdup(c->desc);
    if (n == NULL || d == NULL) {
        free(n);
        free(d);
        return oom(err, errlen);
    }
    free(s->classtype);
    free(s->class_desc);
    s->classtype = n;
    s->class_desc = d;
    if (s->priority == 0)
        s->priority = c->priority;
    return 0;
}

static int reference_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                           size_t errlen)
{
    (void)ps;
    char buf[META_MAX], out[META_MAX];
    char *type, *val;
    if (!kw_trim(v, buf, sizeof buf) || (val = kw_split(buf, ',', &type)) == NULL ||
        *type == '\0') {
        snprintf(err, errlen, "invalid reference '%s'", v ? v : "");
        return -1;
    }
    val = kw_strip(val);
    if (*val == '\0') {
        snprintf(err, errlen, "invalid reference '%s'", v);
        return -1;
    }
    snprintf(out, sizeof out, "%s,%s", type, val);
    if (s->references == NULL && (s->references = json_array()) == NULL)
        return oom(err, errlen);
    if (json_array_append_new(s->references, json_string(out)) < 0)
        return oom(err, errlen);
    return 0;
}

/* metadata: "key value, key value, ..." into {"key": ["value", ...]}. */
static int metadata_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                          size_t errlen)
{
    (void)ps;
    char buf[META_MAX];
    if (!kw_trim(v, buf, sizeof buf) || buf[0] == '\0') {
        snprintf(err, errlen, "invalid metadata '%s'", v ? v : "");
        return -1;
    }
    if (s->metadata == NULL && (s->metadata = json_object()) == NULL)
        return oom(err, errlen);
    char *rest = buf, *item;
    while (rest != NULL) {
        rest = kw_split(rest, ',', &item);
        if (*item == '\0')
            continue;
        char *key = item, *val = item;
        while (*val && !isspace((unsigned char)*val))
            val++;
        if (*val != '\0')
            *val++ = '\0';
        while (isspace((unsigned char)*val))
            val++;
        if (*val == '\0')
            continue; /* a key without a value carries nothing to log */
        json_t *arr = json_object_get(s->metadata, key);
        if (arr == NULL) {
            arr = json_array();
            if (arr == NULL || json_object_set_new(s->metadata, key, arr) < 0)
                return oom(err, errlen);
        }
        if (json_array_append_new(arr, json_string(val)) < 0)
            return oom(err, errlen);
    }
    return 0;
}

static int target_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                        size_t errlen)
{
    (void)ps;
    char buf[16];
    if (!kw_trim(v, buf, sizeof buf) ||
        (strcmp(buf, "src_ip") != 0 && strcmp(buf, "dest_ip") != 0)) {
        snprintf(err, errlen, "invalid target '%s'", v ? v : "");
        return -1;
    }
    char *t = strdup(buf);
    if (t == NULL)
        return oom(err, errlen);
    free(s->target);
    s->target = t;
    return 0;
}

static int noalert_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                         size_t errlen)
{
    (void)ps;
    (void)v;
    (void)err;
    (void)errlen;
    s->flags |= SIG_NOALERT;
    return 0;
}

/*
 * tag: session|host[, count, packets|seconds|bytes[, src|dst]]. When the
 * rule alerts, the packets that follow in the flow (session) or to and from
 * the host are logged as EVE packet events, up to the count. Without a
 * count: 256 packets; a host tag without a direction follows the alert's
 * destination.
 */
static int tag_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                     size_t errlen)
{
    (void)ps;
    char buf[128];
    char *parts[5];
    unsigned n = 0;
    if (!kw_trim(v, buf, sizeof buf))
        goto bad;
    for (char *rest = buf; rest != NULL && n < 5;)
        rest = kw_split(rest, ',', &parts[n++]);
    struct sig_tag t = { .metric = TAG_PACKETS, .count = TAG_DEFAULT_PACKETS };
    if (n < 1 || n > 4)
        goto bad;
    if (strcmp(parts[0], "session") == 0)
        t.scope = TAG_SESSION;
    else if (strcmp(parts[0], "host") == 0) {
        t.scope = TAG_HOST;
        t.dst = true; /* without a direction: the alert's destination */
    } else
        goto bad;
    if (n == 2)
        goto bad;
    if (n >= 3) {
        uint64_t count;
        if (!kw_parse_u64(parts[1], UINT32_MAX, &count) || count == 0)
            goto bad;
        t.count = (uint32_t)count;
        if (strcmp(parts[2], "packets") == 0)
            t.metric = TAG_PACKETS;
        else if (strcmp(parts[2], "seconds") == 0)
            t.metric = TAG_SECONDS;
        else if (strcmp(parts[2], "bytes") == 0)
            t.metric = TAG_BYTES;
        else
            goto bad;
    }
    if (n == 4) {
        if (t.scope != TAG_HOST) {
            snprintf(err, errlen, "tag: a direction is only valid for host tags");
            return -1;
        }
        if (strcmp(parts[3], "src") == 0)
            t.dst = false;
        else if (strcmp(parts[3], "dst") != 0)
            goto bad;
    }
    if (s->ntags >= SIG_MAX_TAGS) {
        snprintf(err, errlen, "more than %d tag options", SIG_MAX_TAGS);
        return -1;
    }
    s->tags[s->ntags++] = t;
    return 0;
bad:
    snprintf(err, errlen, "invalid tag '%s' (expected session|host[,N,packets|seconds|bytes[,src|dst]])",
             v ? v : "");
    return -1;
}

/* ---- threshold and detection_filter --------------------------------------- */

static const char *const track_names[] = {
    [TRACK_BY_SRC] = "by_src", [TRACK_BY_DST] = "by_dst", [TRACK_BY_BOTH] = "by_both",
    [TRACK_BY_RULE] = "by_rule", [TRACK_BY_FLOW] = "by_flow",
};

static int track_lookup(const char *name)
{
    for (int i = 0; i < (int)(sizeof track_names / sizeof *track_names); i++)
        if (strcmp(track_names[i], name) == 0)
            return i;
    return -1;
}

/* Parses "type X, track Y, count N, seconds N" in any order; type only when
 * with_type. */
static int threshold_parse(const char *kw, const char *v, bool with_type,
                           struct threshold_spec *t, char *err, size_t errlen)
{
    char buf[256];
    unsigned seen = 0;
    enum { S_TYPE = 1, S_TRACK = 2, S_COUNT = 4, S_SECONDS = 8 };
    memset(t, 0, sizeof *t);
    if (!with_type)
        t->type = THR_DETECTION_FILTER;
    if (!kw_trim(v, buf, sizeof buf))
        goto bad;
    for (char *rest = buf, *item; rest != NULL;) {
        rest = kw_split(rest, ',', &item);
        char *name = item, *val = item;
        while (*val && !isspace((unsigned char)*val))
            val++;
        if (*val != '\0')
            *val++ = '\0';
        while (isspace((unsigned char)*val))
            val++;
        uint64_t n;
        unsigned bit;
        if (with_type && strcmp(name, "type") == 0) {
            bit = S_TYPE;
            if (strcmp(val, "limit") == 0)
                t->type = THR_LIMIT;
            else if (strcmp(val, "threshold") == 0)
                t->type = THR_THRESHOLD;
            else if (strcmp(val, "both") == 0)
                t->type = THR_BOTH;
            else
                goto bad;
        } else if (strcmp(name, "track") == 0) {
            bit = S_TRACK;
            int tr = track_lookup(val);
            if (tr < 0)
                goto bad;
            t->track = tr;
        } else if (strcmp(name, "count") == 0) {
            bit = S_COUNT;
            if (!kw_parse_u64(val, UINT32_MAX, &n) || n == 0)
                goto bad;
            t->count = (uint32_t)n;
        } else if (strcmp(name, "seconds") == 0) {
            bit = S_SECONDS;
            if (!kw_parse_u64(val, UINT32_MAX, &n) || n == 0)
                goto bad;
            t->seconds = (uint32_t)n;
        } else {
            goto bad;
        }
        if (seen & bit)
            goto bad;
        seen |= bit;
    }
    if (seen != (unsigned)(with_type ? 15 : 14))
        goto bad;
    return 0;
bad:
    snprintf(err, errlen, "invalid %s '%s'", kw, v ? v : "");
    return -1;
}

static int spec_setup(struct threshold_spec **slot, const char *kw, const char *v,
                      bool with_type, char *err, size_t errlen)
{
    if (*slot != NULL) {
        snprintf(err, errlen, "%s given twice", kw);
        return -1;
    }
    struct threshold_spec t;
    if (threshold_parse(kw, v, with_type, &t, err, errlen) < 0)
        return -1;
    if ((*slot = malloc(sizeof t)) == NULL)
        return oom(err, errlen);
    **slot = t;
    return 0;
}

static int threshold_setup(struct sig *s, struct parse_state *ps, const char *v, char *err,
                           size_t errlen)
{
    (void)ps;
    return spec_setup(&s->threshold, "threshold", v, true, err, errlen);
}

static int detection_filter_setup(struct sig *s, struct parse_state *ps, const char *v,
                                  char *err, size_t errlen)
{
    (void)ps;
    return spec_setup(&s->detection_filter, "detection_filter", v, false, err, errlen);
}

const struct keyword kw_meta_table[] = {
    { "msg", KW_VALUE, msg_setup, "the alert's message" },
    { "sid", KW_VALUE, sid_setup, "signature id" },
    { "rev", KW_VALUE, rev_setup, "signature revision" },
    { "gid", KW_VALUE, gid_setup, "generator id (default 1)" },
    { "classtype", KW_VALUE, classtype_setup, "classification from classification.config" },
    { "priority", KW_VALUE, priority_setup, "severity 1..255, overrides the classtype's" },
    { "reference", KW_VALUE, reference_setup, "type,value reference" },
    { "metadata", KW_VALUE, metadata_setup, "key value pairs, logged with the alert" },
    { "target", KW_VALUE, target_setup, "src_ip or dest_ip: the side that is attacked" },
    { "noalert", KW_NOVALUE, noalert_setup, "match without alerting" },
    { "tag", KW_VALUE, tag_setup, "session|host[,N,packets|seconds|bytes[,src|dst]]: log the packets that follow" },
    { "threshold", KW_VALUE, threshold_setup, "type limit|threshold|both, track, count, seconds" },
    { "detection_filter", KW_VALUE, detection_filter_setup, "track, count, seconds: alert after count matches" },
    { NULL, 0, NULL, NULL },
};
