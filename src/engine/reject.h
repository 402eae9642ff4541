/*
 * The answers of a reject verdict, sent through raw sockets: a TCP reset to
 * both ends, else an ICMP (ICMPv6) destination unreachable to the sender --
 * port unreachable for UDP, administratively prohibited for the rest.
 */
#ifndef CARACAL_ENGINE_REJECT_H
#define CARACAL_ENGINE_REJECT_H

#include "decode/decode.h"

struct reject {
    int raw4, raw6;   /* -1 when unavailable: rejected packets are only dropped */
};

/* Opens the raw sockets (a warning when they cannot be had). */
void reject_open(struct reject *r);
/* Answers the rejected packet p. */
void reject_send(const struct reject *r, const struct packet *p);
void reject_close(struct reject *r);

#endif
