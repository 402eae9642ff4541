/* Decoder event identifiers (see events.def). */
#ifndef CARACAL_DECODE_EVENTS_H
#define CARACAL_DECODE_EVENTS_H

enum decode_event {
#define X(id, name) DEV_##id,
#include "decode/events.def"
#undef X
    DECODE_EVENT_COUNT
};

const char *decode_event_name(int ev);
/* Looks an event up by its dotted name; -1 when unknown. */
int decode_event_lookup(const char *name);

#endif
