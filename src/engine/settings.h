/* Runtime settings: the configuration tree turned into checked values. */
#ifndef CARACAL_ENGINE_SETTINGS_H
#define CARACAL_ENGINE_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "decode/decode.h"
#include "decode/defrag.h"
#include "engine/config.h"
#include "flow/flow.h"
#include "stream/stream.h"
#include "app/applayer.h"
#include "capture/nfq.h"

enum runmode { RUNMODE_SINGLE, RUNMODE_WORKERS };

struct settings {
    enum runmode runmode;
    unsigned workers;         /* worker threads in workers runmode */
    size_t ring_size;
    struct decode_config decode;
    struct flow_config flow;  /* memcap is the total over all workers */
    struct defrag_config defrag; /* with host-os-policy per destination */
    struct stream_config stream; /* memcap is the total over all workers; policies: &defrag */
    struct app_config app;
    struct nfq_config nfq;       /* inline mode: nfq.* */
    uint16_t nfq_queues[64];     /* -q: one worker thread each */
    unsigned nnfq_queues;       /* app-layer parsers; http_cfg.log_headers from EVE http */
    bool eve_enabled;
    const char *eve_filename; /* relative to the log dir unless absolute */
    size_t eve_buffer;
    unsigned eve_types;       /* EVE_TYPE_* */
    unsigned eve_alert_opts;  /* EVE_ALERT_* */
    unsigned eve_anomaly_types; /* EVE_ANOMALY_* */
    bool fast_enabled;
    const char *fast_filename;
    bool stats_enabled;
    unsigned stats_interval;  /* seconds */
    const char *log_dir;
};

/* Reads and checks every setting; on a bad value err names file, line and key. */
int settings_load(struct settings *s, const struct conf *c, char *err, size_t errlen);
/* Frees what settings_load allocated. */
void settings_release(struct settings *s);

#endif
