#!/usr/bin/env python3
"""Writes the seed corpus for fuzz_decode: a few valid packets, one per
link type, each prefixed with the selector byte fuzz_decode.c reads
(bits 0-2 link type, bits 3-5 max_layers)."""
import os
import struct
import sys

ETH, RAW, IPV4, IPV6, SLL, SLL2, NULL, LOOP = range(8)
LAYERS4 = 4 << 3


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(proto, payload, src=b"\xc0\x00\x02\x01", dst=b"\xc0\x00\x02\x02", opts=b""):
    ihl = 5 + len(opts) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(payload), 1, 0, 64,
                    proto, 0, src, dst) + opts
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def ipv6(nh, payload, src=b"\x20\x01\x0d\xb8" + b"\0" * 11 + b"\1",
         dst=b"\x20\x01\x0d\xb8" + b"\0" * 11 + b"\2"):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 64, src, dst) + payload


def l4(proto, hdr, payload, pseudo):
    seg = hdr + payload
    c = csum(pseudo(proto, len(seg)) + seg)
    off = {6: 16, 17: 6, 58: 2}[proto]
    return seg[:off] + struct.pack("!H", c) + seg[off + 2:]


def p4(proto, n):
    return b"\xc0\x00\x02\x01\xc0\x00\x02\x02" + struct.pack("!BBH", 0, proto, n)


def p6(proto, n):
    a = b"\x20\x01\x0d\xb8" + b"\0" * 11
    return a + b"\1" + a + b"\2" + struct.pack("!IxxxB", n, proto)


def tcp(payload, pseudo, opts=b""):
    hdr = struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, (5 + len(opts) // 4) << 4, 0x02,
                      65535, 0, 0) + opts
    return l4(6, hdr, payload, pseudo)


def udp(payload, pseudo):
    return l4(17, struct.pack("!HHHH", 5353, 53, 8 + len(payload), 0), payload, pseudo)


def eth(etype, payload):
    return b"\x00\x11\x22\x33\x44\x55\x00\x66\x77\x88\x99\xaa" + struct.pack("!H", etype) + payload


SYN_OPTS = bytes([2, 4, 5, 0xB4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7])
IP_OPTS = bytes([7, 7, 4, 0, 0, 0, 0, 148, 4, 0, 0, 0])
HOP_RA = bytes([17, 0, 5, 2, 0, 0, 0, 0])

seeds = {
    "eth-ipv4opts-tcpsyn": bytes([ETH]) + eth(0x0800, ipv4(6, tcp(b"", p4, SYN_OPTS), opts=IP_OPTS)),
    "eth-qinq-ipv6-hop-udp": bytes([ETH]) + eth(0x88A8, struct.pack("!HH", 10, 0x8100) +
                                                struct.pack("!HH", 20, 0x86DD) +
                                                ipv6(0, HOP_RA + udp(b"dns?", p6))),
    "sll-ipv4-icmp-echo": bytes([SLL]) + struct.pack("!HHH8sH", 0, 1, 6, b"\0" * 8, 0x0800) +
    ipv4(1, (lambda m: m[:2] + struct.pack("!H", csum(m)) + m[4:])(
        struct.pack("!BBHHH", 8, 0, 0, 0x4242, 1) + b"ping")),
    "sll2-ipv4-ipip-udp": bytes([SLL2 | LAYERS4]) + struct.pack("!HHIHBB8s", 0x0800, 0, 2, 1, 0, 6, b"\0" * 8) +
    ipv4(4, ipv4(17, udp(b"x", p4))),
    "null-ipv6-icmpv6": bytes([NULL]) + struct.pack("<I", 24) +
    ipv6(58, l4(58, struct.pack("!BBHHH", 128, 0, 0, 7, 1), b"abcd", p6)),
    "loop-ipv6-frag-tcp": bytes([LOOP]) + struct.pack("!I", 30) +
    ipv6(44, struct.pack("!BBHI", 6, 0, 1, 99) + tcp(b"", p6)),
    "raw-gre-ipv4-tcp": bytes([RAW | LAYERS4]) + ipv4(47, struct.pack("!HHI", 0x2000, 0x0800, 5) +
                                                      ipv4(6, tcp(b"GET / HTTP/1.0\r\n\r\n", p4))),
    "ipv4-gre-teb-eth-ipv4-udp": bytes([IPV4 | LAYERS4]) + ipv4(47, struct.pack("!HH", 0, 0x6558) +
                                                               eth(0x0800, ipv4(17, udp(b"y", p4)))),
    "ipv6-rh-dst-udp": bytes([IPV6]) + ipv6(43, bytes([60, 2, 2, 1, 0, 0, 0, 0]) + b"\0" * 16 +
                                           bytes([17, 0, 4, 1, 4, 1, 1, 0]) + udp(b"z", p6)),
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "decode")
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
