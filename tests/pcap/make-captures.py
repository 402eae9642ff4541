#!/usr/bin/python3
"""Writes the small, deterministic captures that tests/pcap/cases use.

    make-captures.py OUTDIR          one capture per decoder path and malformation
    make-captures.py --demo FILE     the demo capture (pcaps/demo.pcap)

Everything is fixed: timestamps start at 2024-05-01T12:00:00Z, addresses come
from 198.18.0.0/15 and 2001:db8::/32, MACs are locally administered. Scapy
builds the headers (and their checksums); this script writes the pcap and
pcapng bytes itself so that link types, truncation and capture lengths are
exactly what the cases expect. Running it twice gives identical files.
"""
import os
import struct
import sys

from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import GRE, ICMP, IP, TCP, UDP
from scapy.layers.inet6 import (ICMPv6EchoReply, ICMPv6EchoRequest, IPv6,
                                IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                                IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Pad1, PadN,
                                RouterAlert)
from scapy.layers.l2 import Dot1AD, Dot1Q, Ether
from scapy.packet import Raw

T0 = 1714564800 * 1000000  # 2024-05-01T12:00:00Z in microseconds

MAC_C = "02:00:00:00:00:01"
MAC_S = "02:00:00:00:00:02"
C4, S4 = "198.18.0.1", "198.19.0.1"
C6, S6 = "2001:db8::1", "2001:db8::2"

LINK_NULL, LINK_ETHER, LINK_RAW, LINK_LOOP = 0, 1, 101, 108
LINK_SLL, LINK_IPV4, LINK_IPV6, LINK_SLL2 = 113, 228, 229, 276
LINK_USER0 = 147


class Clock:
    """Hands out increasing timestamps (microseconds)."""

    def __init__(self, start_s=0.0, step_us=1000):
        self.now = T0 + int(start_s * 1000000)
        self.step = step_us

    def tick(self, us=None):
        self.now += self.step if us is None else us
        return self.now


# ---------------------------------------------------------------- writers

def pcap_bytes(linktype, records, snaplen=262144):
    """records: (ts_us, data[, wirelen]) tuples -> classic pcap, microseconds."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)]
    for rec in records:
        ts, data = rec[0], bytes(rec[1])
        wire = rec[2] if len(rec) > 2 else len(data)
        out.append(struct.pack("<IIII", ts // 1000000, ts % 1000000, len(data), wire))
        out.append(data)
    return b"".join(out)


def write_pcap(path, linktype, records, snaplen=262144):
    with open(path, "wb") as f:
        f.write(pcap_bytes(linktype, records, snaplen))


def _block(btype, body):
    body += b"\0" * (-len(body) % 4)
    total = 12 + len(body)
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def _opt(code, value):
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def write_pcapng(path, linktype, records):
    """One section, one interface with nanosecond timestamps (if_tsresol 9)."""
    shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
    shb += _opt(4, b"caracal make-captures.py") + _opt(0, b"")
    idb = struct.pack("<HHI", linktype, 0, 0)
    idb += _opt(2, b"eth0") + _opt(9, b"\x09") + _opt(0, b"")
    blocks = [_block(0x0A0D0D0A, shb), _block(1, idb)]
    for ts_us, data in records:
        data = bytes(data)
        ts = ts_us * 1000
        epb = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
        epb += data + b"\0" * (-len(data) % 4)
        blocks.append(_block(6, epb))
    with open(path, "wb") as f:
        f.write(b"".join(blocks))


# ---------------------------------------------------------------- builders

def eth(l3, src=MAC_C, dst=MAC_S):
    if isinstance(l3, bytes):  # hand-built IP bytes
        etype = 0x0800 if l3[0] >> 4 == 4 else 0x86DD
        return Ether(src=src, dst=dst, type=etype) / Raw(l3)
    return Ether(src=src, dst=dst) / l3


def ip4(src, dst, **kw):
    kw.setdefault("id", 1)
    kw.setdefault("ttl", 64)
    return IP(src=src, dst=dst, **kw)


def ip6(src, dst, **kw):
    kw.setdefault("hlim", 64)
    return IPv6(src=src, dst=dst, **kw)


def tcp_session(clock, mkip, cli, srv, sport, dport, request, response,
                wrap=eth, isn_c=1000, isn_s=5000, close=True):
    """A full TCP conversation: handshake, one request, one response, FIN/FIN/ACK.

    Returns frames in order. For a response of at most 1400 bytes and close=True it is 10 packets: 6 to the server
    (SYN, ACK, request, ACK, FIN, last ACK), 4 to the client (SYN/ACK, ACK,
    response, FIN)."""
    def c2s(flags, seq, ack, data=b"", opts=None):
        t = TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=64240,
                options=opts or [])
        return wrap(mkip(cli, srv) / t / (Raw(data) if data else b""), MAC_C, MAC_S)

    def s2c(flags, seq, ack, data=b"", opts=None):
        t = TCP(sport=dport, dport=sport, flags=flags, seq=seq, ack=ack, window=65160,
                options=opts or [])
        return wrap(mkip(srv, cli) / t / (Raw(data) if data else b""), MAC_S, MAC_C)

    c, s = isn_c, isn_s
    mss = [("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]
    frames = [
        (clock.tick(), c2s("S", c, 0, opts=mss)),
        (clock.tick(), s2c("SA", s, c + 1, opts=mss)),
        (clock.tick(), c2s("A", c + 1, s + 1)),
        (clock.tick(), c2s("PA", c + 1, s + 1, request)),
        (clock.tick(), s2c("A", s + 1, c + 1 + len(request))),
    ]
    # The response goes in segments of at most 1400 bytes; the client acks every second one.
    chunks = [response[i:i + 1400] for i in range(0, len(response), 1400)] or [b""]
    off = 0
    for i, chunk in enumerate(chunks):
        off += len(chunk)
        last = i == len(chunks) - 1
        frames.append((clock.tick(), s2c("PA" if last else "A", s + 1 + off - len(chunk),
                                         c + 1 + len(request), chunk)))
        if last or i % 2 == 1:
            frames.append((clock.tick(), c2s("A", c + 1 + len(request), s + 1 + off)))
    if close:
        c += 1 + len(request)
        s += 1 + len(response)
        frames += [
            (clock.tick(), c2s("FA", c, s)),
            (clock.tick(), s2c("FA", s, c + 1)),
            (clock.tick(), c2s("A", c + 1, s + 1)),
        ]
    return frames


def wrap_l3_only(pkt, _src=None, _dst=None):
    return pkt


HTTP_REQ = b"GET / HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: caracal-test\r\n\r\n"
HTTP_RESP = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


def dns_pair(clock, mkip, cli, srv, sport, name, qtype="A", answer="198.19.10.10",
             wrap=eth, qid=0x1234):
    q = DNS(id=qid, rd=1, qd=DNSQR(qname=name, qtype=qtype))
    if answer is None:  # NXDOMAIN
        r = DNS(id=qid, qr=1, rd=1, ra=1, rcode=3, qd=DNSQR(qname=name, qtype=qtype))
    else:
        r = DNS(id=qid, qr=1, aa=0, rd=1, ra=1, qd=DNSQR(qname=name, qtype=qtype),
                an=DNSRR(rrname=name, type=qtype, ttl=300, rdata=answer))
    return [
        (clock.tick(), wrap(mkip(cli, srv) / UDP(sport=sport, dport=53) / q, MAC_C, MAC_S)),
        (clock.tick(), wrap(mkip(srv, cli) / UDP(sport=53, dport=sport) / r, MAC_S, MAC_C)),
    ]


def set_bytes(data, off, new):
    data = bytearray(bytes(data))
    data[off:off + len(new)] = new
    return bytes(data)


def ipv4_csum(hdr):
    s = 0
    for i in range(0, len(hdr), 2):
        s += hdr[i] << 8 | hdr[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def raw_ipv4(src, dst, proto, payload, ihl=5, options=b"", total_len=None, ident=1):
    """An IPv4 header built by hand (for bad lengths and options), correct checksum."""
    opts = options + b"\0" * (-len(options) % 4)
    hl = ihl if ihl is not None else 5 + len(opts) // 4
    tl = total_len if total_len is not None else 20 + len(opts) + len(payload)
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 4 << 4 | hl, 0, tl, ident, 0, 64, proto, 0,
                                bytes(map(int, src.split("."))), bytes(map(int, dst.split(".")))))
    hdr += opts
    hdr[10:12] = struct.pack("!H", ipv4_csum(hdr))
    return bytes(hdr) + bytes(payload)


def udp_bytes(sport, dport, payload, length=None):
    """A UDP header with checksum 0 (none, legal over IPv4)."""
    ln = length if length is not None else 8 + len(payload)
    return struct.pack("!HHHH", sport, dport, ln, 0) + payload


# ---------------------------------------------------------------- captures

def cap_eth_tcp(out):
    clk = Clock()
    write_pcap(out("eth-tcp.pcap"), LINK_ETHER,
               tcp_session(clk, ip4, C4, S4, 40000, 80, HTTP_REQ, HTTP_RESP))


def cap_eth_udp(out):
    clk = Clock()
    frames = dns_pair(clk, ip4, C4, "198.19.0.53", 53000, "www.example.test")
    # One-way UDP: three datagrams that never get an answer.
    for i in range(3):
        frames.append((clk.tick(), eth(ip4(C4, "198.19.0.9") /
                                       UDP(sport=5000, dport=9999) / Raw(b"x" * (10 + i)))))
    write_pcap(out("eth-udp.pcap"), LINK_ETHER, frames)


def icmp_echo(clk, n=2, src=C4, dst=S4, ident=0x1234):
    frames = []
    for seq in range(1, n + 1):
        frames.append((clk.tick(), eth(ip4(src, dst) / ICMP(type=8, id=ident, seq=seq) /
                                       Raw(b"abcdefgh" * 4))))
        frames.append((clk.tick(), eth(ip4(dst, src) / ICMP(type=0, id=ident, seq=seq) /
                                       Raw(b"abcdefgh" * 4), MAC_S, MAC_C)))
    return frames


def cap_eth_icmp(out):
    write_pcap(out("eth-icmp.pcap"), LINK_ETHER, icmp_echo(Clock()))


def cap_ipv6(out):
    clk = Clock()
    write_pcap(out("ipv6-tcp.pcap"), LINK_ETHER,
               tcp_session(clk, ip6, C6, S6, 40000, 80, HTTP_REQ, HTTP_RESP))
    clk = Clock()
    write_pcap(out("ipv6-udp.pcap"), LINK_ETHER,
               dns_pair(clk, ip6, C6, "2001:db8::53", 53000, "www.example.test",
                        qtype="AAAA", answer="2001:db8::80"))
    clk = Clock()
    frames = []
    for seq in (1, 2):
        frames.append((clk.tick(), eth(ip6(C6, S6) / ICMPv6EchoRequest(id=7, seq=seq, data=b"ping" * 8))))
        frames.append((clk.tick(), eth(ip6(S6, C6) / ICMPv6EchoReply(id=7, seq=seq, data=b"ping" * 8),
                                       MAC_S, MAC_C)))
    write_pcap(out("ipv6-icmp.pcap"), LINK_ETHER, frames)


def cap_ipv6_exthdrs(out):
    """Five one-packet UDP flows (source ports 1001..1005), one extension header each."""
    clk = Clock()
    u = lambda sp: UDP(sport=sp, dport=7) / Raw(b"exthdr")
    pkts = [
        # 1001: hop-by-hop with a router alert: legal, no event.
        ip6(C6, S6) / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0), Pad1(), Pad1()]) / u(1001),
        # 1002: hop-by-hop that holds only padding.
        ip6(C6, S6) / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0\0\0\0")]) / u(1002),
        # 1003: destination options that hold only padding.
        ip6(C6, S6) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0\0\0\0")]) / u(1003),
        # 1004: routing header type 0 (deprecated, RFC 5095); segleft 0 so dst is final.
        ip6(C6, S6) / IPv6ExtHdrRouting(type=0, segleft=0, addresses=["2001:db8::99"]) / u(1004),
        # 1005: fragment header with offset 0 and no more fragments: useless.
        ip6(C6, S6) / IPv6ExtHdrFragment(offset=0, m=0, id=77) / u(1005),
    ]
    write_pcap(out("ipv6-exthdrs.pcap"), LINK_ETHER, [(clk.tick(), eth(p)) for p in pkts])


def udp_pair(clk, mkip, cli, srv, sport, dport, wrap=eth):
    return [
        (clk.tick(), wrap(mkip(cli, srv) / UDP(sport=sport, dport=dport) / Raw(b"hello"), MAC_C, MAC_S)),
        (clk.tick(), wrap(mkip(srv, cli) / UDP(sport=dport, dport=sport) / Raw(b"world!"), MAC_S, MAC_C)),
    ]


def cap_vlan(out):
    clk = Clock()
    q = lambda l3, s=MAC_C, d=MAC_S: Ether(src=s, dst=d) / Dot1Q(vlan=100) / l3
    write_pcap(out("vlan.pcap"), LINK_ETHER, udp_pair(clk, ip4, C4, S4, 3000, 4000, wrap=q))
    clk = Clock()
    qq = lambda l3, s=MAC_C, d=MAC_S: Ether(src=s, dst=d) / Dot1AD(vlan=10) / Dot1Q(vlan=20) / l3
    write_pcap(out("qinq.pcap"), LINK_ETHER, udp_pair(clk, ip4, C4, S4, 3000, 4000, wrap=qq))


def cap_tunnels(out):
    clk = Clock()
    o1, o2 = "198.18.1.1", "198.19.1.1"
    i1, i2 = "198.18.2.1", "198.19.2.1"
    frames = [
        (clk.tick(), eth(ip4(o1, o2) / GRE(proto=0x0800) / ip4(i1, i2) /
                         UDP(sport=5000, dport=53) / Raw(b"inner-request"))),
        (clk.tick(), eth(ip4(o2, o1) / GRE(proto=0x0800) / ip4(i2, i1) /
                         UDP(sport=53, dport=5000) / Raw(b"inner-response"), MAC_S, MAC_C)),
    ]
    write_pcap(out("gre.pcap"), LINK_ETHER, frames)

    clk = Clock()
    frames = [
        (clk.tick(), eth(ip4(o1, o2, proto=4) / ip4(i1, i2) / UDP(sport=6000, dport=7) / Raw(b"4in4"))),
        (clk.tick(), eth(ip4(o1, o2, proto=41) / ip6(C6, S6) / UDP(sport=6001, dport=7) / Raw(b"6in4"))),
    ]
    write_pcap(out("ipip.pcap"), LINK_ETHER, frames)


def cap_linktypes(out):
    def l3_pair(mkip, cli, srv, sport):
        clk = Clock()
        return [(ts, bytes(p)) for ts, p in udp_pair(clk, mkip, cli, srv, sport, 4000, wrap=wrap_l3_only)]

    # LINKTYPE_RAW (101): one IPv4 and one IPv6 conversation.
    v4 = l3_pair(ip4, C4, S4, 3001)
    v6 = l3_pair(ip6, C6, S6, 3002)
    write_pcap(out("raw101.pcap"), LINK_RAW, [v4[0], v4[1], (v6[0][0] + 10000, v6[0][1]),
                                              (v6[1][0] + 10000, v6[1][1])])
    # LINKTYPE_IPV4 (228): a three-packet TCP handshake.
    clk = Clock()
    hs = tcp_session(clk, ip4, C4, S4, 40228, 443, b"", b"", wrap=wrap_l3_only)[:3]
    write_pcap(out("raw228.pcap"), LINK_IPV4, hs)
    # LINKTYPE_IPV6 (229).
    write_pcap(out("raw229.pcap"), LINK_IPV6, l3_pair(ip6, C6, S6, 3229))

    # Linux cooked v1 (113): pkttype, ARPHRD_ETHER, addr len, addr(8), protocol.
    def sll(l3, src=MAC_C, _dst=None):
        pkttype = 0 if src == MAC_S else 4  # to us / outgoing
        mac = bytes(int(x, 16) for x in src.split(":")) + b"\0\0"
        etype = 0x0800 if bytes(l3)[0] >> 4 == 4 else 0x86DD
        return struct.pack("!HHH8sH", pkttype, 1, 6, mac, etype) + bytes(l3)
    clk = Clock()
    write_pcap(out("sll.pcap"), LINK_SLL,
               udp_pair(clk, ip4, C4, S4, 3113, 4000, wrap=sll) +
               udp_pair(clk, ip6, C6, S6, 3114, 4000, wrap=sll))

    # Linux cooked v2 (276): protocol, reserved, ifindex, ARPHRD, pkttype, addr len, addr(8).
    def sll2(l3, src=MAC_C, _dst=None):
        pkttype = 0 if src == MAC_S else 4
        mac = bytes(int(x, 16) for x in src.split(":")) + b"\0\0"
        etype = 0x0800 if bytes(l3)[0] >> 4 == 4 else 0x86DD
        return struct.pack("!HHIHBB8s", etype, 0, 2, 1, pkttype, 6, mac) + bytes(l3)
    clk = Clock()
    write_pcap(out("sll2.pcap"), LINK_SLL2, udp_pair(clk, ip4, C4, S4, 3276, 4000, wrap=sll2))

    # BSD loopback: NULL (0) has the family in host order (little-endian here);
    # LOOP (108) in network order. 30 is AF_INET6 on macOS.
    def null_le(l3, _s=None, _d=None):
        fam = 2 if bytes(l3)[0] >> 4 == 4 else 30
        return struct.pack("<I", fam) + bytes(l3)

    def loop_be(l3, _s=None, _d=None):
        fam = 2 if bytes(l3)[0] >> 4 == 4 else 24
        return struct.pack(">I", fam) + bytes(l3)
    clk = Clock()
    write_pcap(out("null.pcap"), LINK_NULL,
               udp_pair(clk, ip4, "127.0.0.1", "127.0.0.1", 3000, 4000, wrap=null_le) +
               udp_pair(clk, ip6, "::1", "::1", 3001, 4000, wrap=null_le))
    clk = Clock()
    write_pcap(out("loop.pcap"), LINK_LOOP,
               udp_pair(clk, ip4, C4, S4, 3108, 4000, wrap=loop_be) +
               udp_pair(clk, ip6, C6, S6, 3109, 4000, wrap=loop_be))

    # pcapng with nanosecond timestamps: a UDP pair then an ICMP echo pair.
    clk = Clock(step_us=1000)
    recs = udp_pair(clk, ip4, C4, S4, 3333, 4000) + icmp_echo(clk, n=1)
    write_pcapng(out("pcapng.pcapng"), LINK_ETHER, recs)


def cap_ipv4_malformed(out):
    good = lambda sp: (eth(raw_ipv4(C4, S4, 17, udp_bytes(sp, 2000, b"good data"))))

    # Total length 100 but only 20+8+10 bytes present; caplen == wirelen.
    clk = Clock()
    frames = [(clk.tick(), good(1000)),
              (clk.tick(), eth(raw_ipv4(C4, S4, 17, udp_bytes(1001, 2000, b"0123456789"),
                                        total_len=100)))]
    write_pcap(out("ipv4-trunc.pcap"), LINK_ETHER, frames)

    # IHL 4 (16 bytes), below the 20-byte minimum.
    clk = Clock()
    frames = [(clk.tick(), good(1000)),
              (clk.tick(), eth(raw_ipv4(C4, S4, 17, udp_bytes(1001, 2000, b"0123456789"), ihl=4)))]
    write_pcap(out("ipv4-hlen.pcap"), LINK_ETHER, frames)

    # Options: each packet a UDP flow of its own (source ports 1001..1004).
    opts = [
        (1001, b"\x07\x01\x00\x00"),                       # record route, length 1 (< 2)
        (1002, b"\x9e\x04\x00\x00"),                       # unknown option 30 (copied)
        (1003, b"\x94\x04\x00\x00\x94\x04\x00\x00"),       # router alert twice
        (1004, b"\x07\x07\x02\x00\x00\x00\x00\x00"),       # record route, pointer 2 (< 4)
    ]
    clk = Clock()
    frames = [(clk.tick(), eth(raw_ipv4(C4, S4, 17, udp_bytes(sp, 2000, b"opts"), ihl=None,
                                        options=o))) for sp, o in opts]
    write_pcap(out("ipv4-opts.pcap"), LINK_ETHER, frames)


def cap_l4_malformed(out):
    # TCP header length 16 (data offset 4): packet 2, source port 40002.
    clk = Clock()
    syn = ip4(C4, S4) / TCP(sport=40001, dport=80, flags="S", seq=1, window=1024)
    bad = bytes(ip4(C4, S4) / TCP(sport=40002, dport=80, flags="S", seq=1, window=1024) /
                Raw(b"\0" * 8))
    bad = set_bytes(bad, 20 + 12, b"\x40")  # data offset 4
    write_pcap(out("tcp-hlen.pcap"), LINK_ETHER,
               [(clk.tick(), eth(syn)), (clk.tick(), eth(bad))])

    # TCP options: flow 40000 SYN with an MSS of length 5 (then its SYN/ACK);
    # flow 40001 SYN with MSS twice.
    clk = Clock()
    f = [
        (clk.tick(), eth(ip4(C4, S4) / TCP(sport=40000, dport=80, flags="S", seq=100, window=1024,
                                           options=[(2, b"\x05\xb4\x00")]))),
        (clk.tick(), eth(ip4(S4, C4) / TCP(sport=80, dport=40000, flags="SA", seq=900, ack=101,
                                           window=1024, options=[("MSS", 1460)]), MAC_S, MAC_C)),
        (clk.tick(), eth(ip4(C4, S4) / TCP(sport=40001, dport=80, flags="S", seq=100, window=1024,
                                           options=[("MSS", 1460), ("MSS", 1400)]))),
    ]
    write_pcap(out("tcp-badopt.pcap"), LINK_ETHER, f)

    # UDP length field vs IP payload (IP payload is always 8 + 10 bytes):
    #   sport 1000: length 18, correct; 1001: 100 (> payload); 1002: 12 (< payload); 1003: 4 (< 8).
    clk = Clock()
    f = [(clk.tick(), eth(raw_ipv4(C4, S4, 17, udp_bytes(sp, 2000, b"0123456789", length=ln))))
         for sp, ln in ((1000, 18), (1001, 100), (1002, 12), (1003, 4))]
    write_pcap(out("udp-len.pcap"), LINK_ETHER, f)

    # ICMPv4: type 99 (unassigned), then an echo request with code 5.
    clk = Clock()
    f = [(clk.tick(), eth(ip4(C4, S4) / ICMP(type=99, code=0) / Raw(b"x" * 8))),
         (clk.tick(), eth(ip4(C4, "198.19.0.2") / ICMP(type=8, code=5, id=1, seq=1) / Raw(b"x" * 8)))]
    write_pcap(out("icmp-unknown.pcap"), LINK_ETHER, f)

    # GRE: version 2 (does not exist); then version 1 (PPTP) without its key bit.
    clk = Clock()
    inner = ip4("198.18.2.1", "198.19.2.1") / UDP(sport=5000, dport=53) / Raw(b"x")
    v2 = bytes(ip4("198.18.1.1", "198.19.1.1") / GRE(proto=0x0800) / inner)
    v2 = set_bytes(v2, 20, b"\x00\x02")
    v1 = bytes(ip4("198.18.1.1", "198.19.1.1", proto=47)) + \
        struct.pack("!HHHH", 0x0001, 0x880B, 4, 0) + b"ppp!"
    v1 = set_bytes(v1, 2, struct.pack("!H", len(v1)))
    v1 = set_bytes(v1, 10, b"\0\0")
    v1 = set_bytes(v1, 10, struct.pack("!H", ipv4_csum(v1[:20])))
    f = [(clk.tick(), Ether(src=MAC_C, dst=MAC_S, type=0x0800) / Raw(v2)),
         (clk.tick(), Ether(src=MAC_C, dst=MAC_S, type=0x0800) / Raw(v1))]
    write_pcap(out("gre-version.pcap"), LINK_ETHER, f)


def cap_checksums(out):
    """One bad checksum per packet, each its own flow:
    1 IPv4 header, 2 TCP, 3 UDP/IPv4, 4 ICMPv4, 5 UDP/IPv6, 6 ICMPv6; 7 a correct UDP."""
    clk = Clock()
    p = [
        ip4(C4, S4, chksum=0xDEAD) / UDP(sport=1001, dport=2000) / Raw(b"iphdr"),
        ip4(C4, S4) / TCP(sport=1002, dport=80, flags="S", seq=1, window=512, chksum=0xBEEF),
        ip4(C4, S4) / UDP(sport=1003, dport=2000, chksum=0x1234) / Raw(b"udp"),
        ip4(C4, S4) / ICMP(type=8, id=9, seq=1, chksum=0x4321) / Raw(b"icmp"),
        ip6(C6, S6) / UDP(sport=1005, dport=2000, chksum=0x1111) / Raw(b"udp6"),
        ip6(C6, S6) / ICMPv6EchoRequest(id=9, seq=1, cksum=0x2222, data=b"icmp6"),
        ip4(C4, S4) / UDP(sport=1007, dport=2000) / Raw(b"fine"),
    ]
    write_pcap(out("badcsum.pcap"), LINK_ETHER, [(clk.tick(), eth(x)) for x in p])


def cap_bad_files(out):
    # The eth-tcp conversation, cut 10 bytes into the last packet's data.
    clk = Clock()
    data = pcap_bytes(LINK_ETHER, tcp_session(clk, ip4, C4, S4, 40000, 80, HTTP_REQ, HTTP_RESP))
    last = len(bytes(tcp_session(Clock(), ip4, C4, S4, 40000, 80, HTTP_REQ, HTTP_RESP)[-1][1]))
    with open(out("trunc-file.pcap"), "wb") as f:
        f.write(data[:len(data) - last + 10])

    # LINKTYPE_USER0 (147): nothing caracal decodes.
    clk = Clock()
    write_pcap(out("unsupported-linktype.pcap"), LINK_USER0,
               [(clk.tick(), b"\x01\x02\x03\x04" * 10), (clk.tick(), b"\x05\x06\x07\x08" * 10)])

    # A directory with one good capture and one of an unsupported link type.
    d = out("mixed-dir")
    os.makedirs(d, exist_ok=True)
    clk = Clock()
    write_pcap(os.path.join(d, "a-good.pcap"), LINK_ETHER,
               udp_pair(clk, ip4, C4, S4, 3500, 4000))
    write_pcap(os.path.join(d, "b-user0.pcap"), LINK_USER0,
               [(clk.tick(), b"\x01\x02\x03\x04" * 10)])


# ---------------------------------------------------------------- detection

DETECT_REQ = (b"GET /admin.php?id=1%20UNION%20SELECT HTTP/1.1\r\nHost: victim.example.test\r\n"
              b"User-Agent: Mozilla/5.0 (caracal)\r\nAccept: */*\r\n\r\n")
DETECT_BODY = b"<html>uid=0(root) gid=0(root)</html>\n"
DETECT_RESP = (b"HTTP/1.1 200 OK\r\nServer: Apache\r\nContent-Type: text/html\r\n"
               b"Content-Length: %d\r\n\r\n" % len(DETECT_BODY)) + DETECT_BODY


def ip4_ttl_by_side(server_ttl):
    """ip4 with the server's replies (from S4) at another TTL, for ttl: rules."""
    def mk(src, dst, **kw):
        if src == S4:
            kw.setdefault("ttl", server_ttl)
        return ip4(src, dst, **kw)
    return mk


def cap_detect_http(out):
    """10 packets: 1 SYN, 2 SYN/ACK, 3 ACK, 4 request, 5 ACK, 6 response, 7 ACK, 8-10 close.
    Client 198.18.0.1:41000 (TTL 64), server 198.19.0.1:80 (TTL 128)."""
    clk = Clock()
    write_pcap(out("detect-http.pcap"), LINK_ETHER,
               tcp_session(clk, ip4_ttl_by_side(128), C4, S4, 41000, 80, DETECT_REQ, DETECT_RESP))


def detect_bin_payload(skip, number, le32, tail=b"END!"):
    """0: CA FE, 2: u16 BE skip length, 4: 'SKIPME', 10: 'TARGET', 16: 4 ASCII digits,
    20: u32 LE, 24: 01 02 03 04, 28: tail."""
    return (b"\xca\xfe" + struct.pack("!H", skip) + b"SKIPME" + b"TARGET" + number +
            struct.pack("<I", le32) + b"\x01\x02\x03\x04" + tail)


def cap_detect_udp_bin(out):
    """Three datagrams 198.18.0.1:40001 -> 198.19.0.1:9000 with binary headers:
    1: skip 6, "0042", LE 4096; 2: skip 2, "0099", LE 16; 3: skip 8, "0042", LE 70000."""
    clk = Clock()
    frames = []
    for skip, num, le in ((6, b"0042", 4096), (2, b"0099", 16), (8, b"0042", 70000)):
        frames.append((clk.tick(), eth(ip4(C4, S4) / UDP(sport=40001, dport=9000) /
                                       Raw(detect_bin_payload(skip, num, le)))))
    write_pcap(out("detect-udp-bin.pcap"), LINK_ETHER, frames)


def cap_detect_icmp(out):
    """1: echo request 198.18.0.1 -> 198.19.0.1 (id 0x4242 seq 1, payload below),
    2: its echo reply, 3: port unreachable (type 3 code 3) 198.19.0.1 -> 198.18.0.1."""
    clk = Clock()
    data = b"caracal-ping-0123456789abcdef"
    quoted = bytes(ip4(C4, S4) / UDP(sport=40002, dport=9001) / Raw(b"probe"))
    frames = [
        (clk.tick(), eth(ip4(C4, S4) / ICMP(type=8, id=0x4242, seq=1) / Raw(data))),
        (clk.tick(), eth(ip4(S4, C4) / ICMP(type=0, id=0x4242, seq=1) / Raw(data), MAC_S, MAC_C)),
        (clk.tick(), eth(ip4(S4, C4) / ICMP(type=3, code=3) / Raw(quoted), MAC_S, MAC_C)),
    ]
    write_pcap(out("detect-icmp.pcap"), LINK_ETHER, frames)


def tcp_dialog(clock, mkip, cli, srv, sport, dport, turns, isn_c=1000, isn_s=5000):
    """Handshake, then one data segment per turn (("c", data) client to server,
    ("s", data) back), each acking what came before, then FIN/FIN/ACK."""
    def seg(to_srv, flags, seq, ack, data=b""):
        src, dst, sp, dp = (cli, srv, sport, dport) if to_srv else (srv, cli, dport, sport)
        macs = (MAC_C, MAC_S) if to_srv else (MAC_S, MAC_C)
        t = TCP(sport=sp, dport=dp, flags=flags, seq=seq, ack=ack,
                window=64240 if to_srv else 65160)
        return eth(mkip(src, dst) / t / (Raw(data) if data else b""), *macs)

    c, s = isn_c + 1, isn_s + 1
    frames = [
        (clock.tick(), seg(True, "S", isn_c, 0)),
        (clock.tick(), seg(False, "SA", isn_s, c)),
        (clock.tick(), seg(True, "A", c, s)),
    ]
    for who, data in turns:
        if who == "c":
            frames.append((clock.tick(), seg(True, "PA", c, s, data)))
            c += len(data)
        else:
            frames.append((clock.tick(), seg(False, "PA", s, c, data)))
            s += len(data)
    frames += [
        (clock.tick(), seg(True, "FA", c, s)),
        (clock.tick(), seg(False, "FA", s, c + 1)),
        (clock.tick(), seg(True, "A", c + 1, s + 1)),
    ]
    return frames


def cap_detect_dialog(out):
    """12 packets, 198.18.0.1:41001 -> 198.19.0.1:7000: 1-3 handshake, 4 c "HELLO caracal",
    5 s "WELCOME", 6 c "AUTH admin secret", 7 s "AUTH OK", 8 c "GET-FILE /etc/passwd",
    9 s "DATA root:x:0:0", 10-12 close."""
    clk = Clock()
    turns = [("c", b"HELLO caracal\r\n"), ("s", b"WELCOME\r\n"),
             ("c", b"AUTH admin secret\r\n"), ("s", b"AUTH OK\r\n"),
             ("c", b"GET-FILE /etc/passwd\r\n"), ("s", b"DATA root:x:0:0\r\n")]
    write_pcap(out("detect-dialog.pcap"), LINK_ETHER,
               tcp_dialog(clk, ip4, C4, S4, 41001, 7000, turns))


def cap_detect_repeat(out):
    """10 identical datagrams 198.18.0.1:40003 -> 198.19.0.1:9999 "REPEAT-ME", 100 ms apart."""
    clk = Clock(step_us=100000)
    pkt = eth(ip4(C4, S4) / UDP(sport=40003, dport=9999) / Raw(b"REPEAT-ME"))
    write_pcap(out("detect-repeat.pcap"), LINK_ETHER, [(clk.tick(), pkt) for _ in range(10)])


# ---------------------------------------------------------------- evasion: fragments

FRAG_PAYLOAD = b"A" * 40 + b"EVIL-PAYLOAD-XYZ" + b"B" * 40


def ipv4_fragments(src, dst, proto, l4, pieces, ident=0x4242):
    """Raw IPv4 fragments of l4 (transport header + data); pieces: (offset, length[, data])
    in bytes, offsets multiples of 8; data replaces the datagram's bytes when given."""
    out = []
    for piece in pieces:
        off, length = piece[0], piece[1]
        data = piece[2] if len(piece) > 2 else l4[off:off + length]
        more = off + length < len(l4)
        flags_off = (0x2000 if more else 0) | (off // 8)
        hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(data), ident, flags_off,
                                    64, proto, 0, bytes(map(int, src.split("."))),
                                    bytes(map(int, dst.split(".")))))
        hdr[10:12] = struct.pack("!H", ipv4_csum(bytes(hdr)))
        out.append(bytes(hdr) + data)
    return out


def ipv6_fragments(src, dst, nh, l4, pieces, ident=0x4242):
    """IPv6 fragments (a fragment header each) of l4, pieces as for ipv4_fragments."""
    out = []
    for piece in pieces:
        off, length = piece[0], piece[1]
        data = piece[2] if len(piece) > 2 else l4[off:off + length]
        more = 1 if off + length < len(l4) else 0
        out.append(bytes(IPv6(src=src, dst=dst) /
                         IPv6ExtHdrFragment(nh=nh, offset=off // 8, m=more, id=ident) /
                         Raw(data)))
    return out


def cap_frag_evasion(out):
    """A UDP datagram 198.18.0.1:40007 -> 198.19.0.1:7777 carrying "EVIL-PAYLOAD-XYZ",
    whole and as IPv4/IPv6 fragments: in order, reversed, 8-byte pieces shuffled,
    duplicated/overlapping with the same bytes, and overlapping with conflicting bytes."""
    udp = bytes(UDP(sport=40007, dport=7777) / Raw(FRAG_PAYLOAD))
    # let scapy fill the UDP checksum against the real addresses
    udp = bytes(IP(src=C4, dst=S4, proto=17) / UDP(udp))[20:]
    n = len(udp)

    def write(name, frags):
        clk = Clock()
        write_pcap(out(name), LINK_ETHER, [(clk.tick(), eth(f)) for f in frags])

    write("frag-whole.pcap", [bytes(IP(src=C4, dst=S4, id=0x4242) / UDP(udp))])
    inorder = [(o, min(24, n - o)) for o in range(0, n, 24)]
    write("frag-inorder.pcap", ipv4_fragments(C4, S4, 17, udp, inorder))
    write("frag-reverse.pcap", ipv4_fragments(C4, S4, 17, udp, list(reversed(inorder))))
    tiny = [(o, min(8, n - o)) for o in range(0, n, 8)]
    order = [(i * 5) % len(tiny) for i in range(len(tiny))]  # a fixed shuffle (5 is coprime)
    write("frag-tiny.pcap", ipv4_fragments(C4, S4, 17, udp, [tiny[i] for i in order]))
    # A piece spanning two others, and a repeated piece: overlaps with identical bytes.
    dup = [inorder[0], (24, 48), inorder[1], inorder[1], inorder[2]] + inorder[3:]
    write("frag-overlap-same.pcap", ipv4_fragments(C4, S4, 17, udp, dup))
    # The pattern sits at 48..64 of the UDP datagram (8 header + 40 'A').
    # First the honest piece 48..72, then a conflicting one over 48..56 saying "GOOD-BYE":
    # a "first" target keeps EVIL, a "last" target sees GOOD-BYE.
    conflict = [(0, 24), (24, 24), (48, 24), (48, 8, b"GOOD-BYE"), (72, n - 72)]
    write("frag-overlap-conflict.pcap", ipv4_fragments(C4, S4, 17, udp, conflict))
    # IPv6: the same datagram in three fragments, reversed.
    udp6 = bytes(IPv6(src=C6, dst=S6, nh=17) / UDP(sport=40007, dport=7777) / Raw(FRAG_PAYLOAD))[40:]
    n6 = len(udp6)
    thirds = [(o, min(40, n6 - o)) for o in range(0, n6, 40)]
    write("frag6-reverse.pcap", ipv6_fragments(C6, S6, 17, udp6, list(reversed(thirds))))
    # The IPv4 conflicting overlap again, over IPv6: the honest piece 48..72 (the pattern
    # at 48..64), then "GOOD-BYE" over 48..56; "first" keeps EVIL, "last" sees GOOD-BYE.
    conflict6 = [(0, 24), (24, 24), (48, 24), (48, 8, b"GOOD-BYE"), (72, n6 - 72)]
    write("evasion-frag6-overlap.pcap", ipv6_fragments(C6, S6, 17, udp6, conflict6))
    # 8-byte IPv6 fragments in the IPv4 capture's fixed shuffle.
    tiny6 = [(o, min(8, n6 - o)) for o in range(0, n6, 8)]
    order6 = [(i * 5) % len(tiny6) for i in range(len(tiny6))]
    write("evasion-frag6-tiny.pcap", ipv6_fragments(C6, S6, 17, udp6, [tiny6[i] for i in order6]))


# ---------------------------------------------------------------- evasion: TCP segments

EVASION_PATTERN = b"/cgi-bin/evil.sh?cmd=cat%20/etc/passwd"
EVASION_JUNK = b"/images/logo.png?size=large&v=20240501"  # as long as the pattern
# 150 bytes; the request line is 0..79, the pattern 30..68 (an absolute-form target puts
# it far enough in for a 10-byte first piece and a copy that starts 4 bytes earlier).
EVASION_REQ = (b"GET http://victim.example.test" + EVASION_PATTERN + b" HTTP/1.1\r\n"
               b"Host: victim.example.test\r\nUser-Agent: caracal-evasion\r\nAccept: */*\r\n\r\n")
EVASION_REQ_JUNK = EVASION_REQ.replace(EVASION_PATTERN, EVASION_JUNK)
EVASION_RESP = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def tcp_evasion_session(clock, sport, script, request=EVASION_REQ, response=EVASION_RESP,
                        isn_c=1000, isn_s=5000):
    """198.18.0.1:sport -> 198.19.0.1:80: handshake, the request sent the way script says,
    a short response (then the client's ACK), FIN/FIN/ACK.

    script items, in order (offsets are relative to the client's ISN+1):
      (off, data)          a client segment with data at off (PSH/ACK)
      (off, data, opts)    the same; opts "delay": microseconds before it instead of 1 ms,
                           "frags": (offset, length) pieces of the TCP segment, sent as IPv4
                           fragments in that order, "ident": their IP id
      "ack"                the server acks all it holds in order (a dup ACK if nothing new)
    The script must leave the server holding the whole request, acked."""
    def seg(to_srv, flags, seq, ack, data=b""):
        src, dst, sp, dp = (C4, S4, sport, 80) if to_srv else (S4, C4, 80, sport)
        macs = (MAC_C, MAC_S) if to_srv else (MAC_S, MAC_C)
        t = TCP(sport=sp, dport=dp, flags=flags, seq=seq, ack=ack,
                window=64240 if to_srv else 65160)
        return eth(ip4(src, dst) / t / (Raw(data) if data else b""), *macs)

    c, s = isn_c + 1, isn_s + 1
    mss = [("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]
    frames = [
        (clock.tick(), eth(ip4(C4, S4) / TCP(sport=sport, dport=80, flags="S", seq=isn_c,
                                             window=64240, options=mss))),
        (clock.tick(), eth(ip4(S4, C4) / TCP(sport=80, dport=sport, flags="SA", seq=isn_s,
                                             ack=c, window=65160, options=mss), MAC_S, MAC_C)),
        (clock.tick(), seg(True, "A", c, s)),
    ]
    held = bytearray(len(request))  # 1 where the server has a byte
    acked = 0
    for item in script:
        if item == "ack":
            while acked < len(held) and held[acked]:
                acked += 1
            frames.append((clock.tick(), seg(False, "A", s, c + acked)))
            continue
        off, data = item[0], item[1]
        opts = item[2] if len(item) > 2 else {}
        assert 0 <= off and off + len(data) <= len(request)
        held[off:off + len(data)] = b"\1" * len(data)
        ts = clock.tick(opts.get("delay"))
        if "frags" not in opts:
            frames.append((ts, seg(True, "PA", c + off, s, data)))
            continue
        # let scapy fill the TCP checksum, then cut the segment into fragments
        l4 = bytes(ip4(C4, S4) / TCP(sport=sport, dport=80, flags="PA", seq=c + off, ack=s,
                                     window=64240) / Raw(data))[20:]
        for i, f in enumerate(ipv4_fragments(C4, S4, 6, l4, opts["frags"],
                                             ident=opts.get("ident", 0x4242))):
            frames.append((ts if i == 0 else clock.tick(), eth(f)))
    assert acked == len(request), "the script leaves the request unacked"
    c += len(request)
    frames += [
        (clock.tick(), seg(False, "PA", s, c, response)),
        (clock.tick(), seg(True, "A", c, s + len(response))),
    ]
    s += len(response)
    frames += [
        (clock.tick(), seg(True, "FA", c, s)),
        (clock.tick(), seg(False, "FA", s, c + 1)),
        (clock.tick(), seg(True, "A", c + 1, s + 1)),
    ]
    return frames


def cap_tcp_evasion(out):
    """The request EVASION_REQ (150 bytes, the pattern at 30..68) from 198.18.0.1:420xx to
    198.19.0.1:80, one capture per way of cutting it up; offsets below are from ISN+1."""
    req, junk = EVASION_REQ, EVASION_REQ_JUNK
    n = len(req)

    def write(name, sport, script):
        write_pcap(out(name), LINK_ETHER, tcp_evasion_session(Clock(), sport, script))

    def piece(lo, hi, data=req, **opts):
        return (lo, data[lo:hi], opts) if opts else (lo, data[lo:hi])

    # 0..150 in one segment: the non-evasive twin.
    write("evasion-tcp-whole.pcap", 42001, [piece(0, n), "ack"])
    # 150 one-byte segments, in order.
    write("evasion-tcp-split-every-byte.pcap", 42002, [piece(i, i + 1) for i in range(n)] + ["ack"])
    # Eight segments of 19 bytes (the last 17), last one first.
    eighths = [piece(o, min(o + 19, n)) for o in range(0, n, 19)]
    write("evasion-tcp-reverse.pcap", 42003, list(reversed(eighths)) + ["ack"])
    # 0..49 and 49..150: the cut is in the middle of the pattern.
    write("evasion-tcp-boundary.pcap", 42004, [piece(0, 49), piece(49, n), "ack"])
    # 0..40, 40..60 three times (200 ms apart, identical), 60..150: the pattern spans all three.
    write("evasion-tcp-retransmit.pcap", 42005,
          [piece(0, 40), piece(40, 60), piece(40, 60, delay=200000),
           piece(40, 60, delay=200000), piece(60, n), "ack"])
    # The request line 0..79 and the headers 79..150, acked; then 0..79 again with the
    # pattern replaced by junk of its length, which the server answers with a dup ACK.
    write("evasion-tcp-retransmit-diff.pcap", 42006,
          [piece(0, 79), piece(79, n), "ack", piece(0, 79, junk, delay=200000), "ack"])
    # Overlaps while 0..10 is still missing; junk differs from the request only at 30..68.
    #   same-start:    junk 10..68, real 10..68, then 0..10, 68..150
    #   starts-before: junk 14..68, real 10..72 (4 bytes more each side), then 0..10, 72..150
    #   real-first:    real 10..68, junk 10..68, then 0..10, 68..150
    write("evasion-tcp-overlap-same-start.pcap", 42007,
          [piece(10, 68, junk), piece(10, 68), piece(0, 10), piece(68, n), "ack"])
    write("evasion-tcp-overlap-starts-before.pcap", 42008,
          [piece(14, 68, junk), piece(10, 72), piece(0, 10), piece(72, n), "ack"])
    write("evasion-tcp-overlap-real-first.pcap", 42009,
          [piece(10, 68), piece(10, 68, junk), piece(0, 10), piece(68, n), "ack"])
    # 0..50, 50..100, 100..150 last one first, each a 70-byte TCP segment sent as IPv4
    # fragments 48..70, 24..48, 0..24 (IP ids 0x4303, 0x4302, 0x4301).
    frags = [(48, 22), (24, 24), (0, 24)]
    write("evasion-tcp-frag-reordered.pcap", 42010,
          [piece(o, o + 50, frags=frags, ident=0x4301 + o // 50) for o in (100, 50, 0)] + ["ack"])


# ---------------------------------------------------------------- demo

def tls_client_hello(sni, sni_type=0):
    """A TLS 1.2-framed ClientHello with SNI, groups, ALPN and supported_versions.
    sni_type: the server_name entry's name type (0 host_name, the only one defined)."""
    def ext(t, body):
        return struct.pack("!HH", t, len(body)) + body
    name = sni.encode()
    exts = ext(0, struct.pack("!HBH", len(name) + 3, sni_type, len(name)) + name)
    exts += ext(10, struct.pack("!H", 6) + struct.pack("!HHH", 0x001D, 0x0017, 0x0018))
    exts += ext(11, b"\x01\x00")
    exts += ext(13, struct.pack("!H", 8) + struct.pack("!HHHH", 0x0403, 0x0804, 0x0401, 0x0201))
    alpn = b"\x02h2\x08http/1.1"
    exts += ext(16, struct.pack("!H", len(alpn)) + alpn)
    exts += ext(43, b"\x04\x03\x04\x03\x03")
    exts += ext(51, struct.pack("!H", 36) + struct.pack("!HH", 0x001D, 32) + bytes(range(32)))
    suites = struct.pack("!8H", 0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0x009C)
    body = b"\x03\x03" + bytes(range(0x20, 0x40)) + b"\x20" + bytes(range(0x40, 0x60))
    body += struct.pack("!H", len(suites)) + suites + b"\x01\x00"
    body += struct.pack("!H", len(exts)) + exts
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def tls_server_hello():
    """A TLS 1.3 ServerHello, a ChangeCipherSpec and one opaque application-data record."""
    def ext(t, body):
        return struct.pack("!HH", t, len(body)) + body
    exts = ext(43, b"\x03\x04") + ext(51, struct.pack("!HH", 0x001D, 32) + bytes(range(0x80, 0xA0)))
    body = b"\x03\x03" + bytes(range(0x60, 0x80)) + b"\x20" + bytes(range(0x40, 0x60))
    body += b"\x13\x01\x00" + struct.pack("!H", len(exts)) + exts
    hs = b"\x02" + struct.pack("!I", len(body))[1:] + body
    rec = b"\x16\x03\x03" + struct.pack("!H", len(hs)) + hs
    rec += b"\x14\x03\x03\x00\x01\x01"
    app = bytes((i * 7) & 0xFF for i in range(300))
    rec += b"\x17\x03\x03" + struct.pack("!H", len(app)) + app
    return rec


def make_demo(path):
    lan4, lan6 = "198.18.10.20", "2001:db8:10::20"
    dns4, dns6 = "198.18.10.1", "2001:db8:10::1"
    web4, tls4, web6 = "198.19.80.80", "198.19.44.3", "2001:db8:80::80"
    clk = Clock(step_us=2500)
    f = []
    f += dns_pair(clk, ip4, lan4, dns4, 51000, "www.example.test", answer=web4, qid=0x0101)
    f += dns_pair(clk, ip6, lan6, dns6, 51001, "www.example.test", qtype="AAAA", answer=web6,
                  qid=0x0102)
    req = (b"GET /index.html HTTP/1.1\r\nHost: www.example.test\r\n"
           b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0\r\n"
           b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
           b"Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\n"
           b"Connection: keep-alive\r\n\r\n")
    para = b"<p>caracal is an IDS/IPS sensor; this page is part of its demo capture.</p>\n"
    page = (b"<!DOCTYPE html>\n<html><head><title>Example</title></head>\n<body><h1>It works</h1>\n"
            + para * 110 + b"</body></html>\n")
    resp = (b"HTTP/1.1 200 OK\r\nDate: Wed, 01 May 2024 12:00:00 GMT\r\nServer: nginx/1.24.0\r\n"
            b"Content-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n"
            b"Last-Modified: Tue, 30 Apr 2024 08:00:00 GMT\r\nConnection: keep-alive\r\n\r\n"
            % len(page)) + page
    f += tcp_session(clk, ip4, lan4, web4, 49152, 80, req, resp, isn_c=0x1000, isn_s=0x9000)
    clk.tick(400000)
    f += dns_pair(clk, ip4, lan4, dns4, 51002, "api.example.test", answer=tls4, qid=0x0103)
    f += tcp_session(clk, ip4, lan4, tls4, 49153, 443, tls_client_hello("api.example.test"),
                     tls_server_hello(), isn_c=0x2000, isn_s=0xA000)
    req6 = (b"GET /robots.txt HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: curl/8.5.0\r\n"
            b"Accept: */*\r\n\r\n")
    resp6 = (b"HTTP/1.1 404 Not Found\r\nServer: nginx/1.24.0\r\nContent-Type: text/html\r\n"
             b"Content-Length: 9\r\nConnection: close\r\n\r\nnot found")
    clk.tick(400000)
    f += tcp_session(clk, ip6, lan6, web6, 49154, 80, req6, resp6, isn_c=0x3000, isn_s=0xB000)
    clk.tick(400000)
    f += icmp_echo(clk, n=3, src=lan4, dst=dns4, ident=0x0042)
    clk.tick(400000)
    f += dns_pair(clk, ip4, lan4, dns4, 51003, "nonexistent.example.test", answer=None,
                  qid=0x0104)
    clk.tick(400000)
    # Malformed: an IPv4 packet whose total length runs past the capture,
    # a TCP header of 16 bytes, a UDP length that overruns the datagram.
    f.append((clk.tick(), eth(raw_ipv4(lan4, web4, 17, udp_bytes(51004, 53, b"cut short"),
                                       total_len=200))))
    bad = bytes(ip4(lan4, web4) / TCP(sport=49155, dport=80, flags="S", seq=7, window=512) /
                Raw(b"\0" * 8))
    f.append((clk.tick(), eth(set_bytes(bad, 32, b"\x40"))))
    f.append((clk.tick(), eth(raw_ipv4(lan4, dns4, 17, udp_bytes(51005, 53, b"short", length=64)))))
    write_pcap(path, LINK_ETHER, f)


# ---------------------------------------------------------------- app layer

def dns_header(qid, flags, qd=0, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def dns_name(labels):
    """Wire form of a name from its labels (bytes), no compression."""
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"


def dns_question(labels, qtype=1):
    return dns_name(labels) + struct.pack("!HH", qtype, 1)


def udp_dns(clk, sport, messages, srv="198.19.0.53"):
    """One UDP flow 198.18.0.1:sport <-> srv:53; messages: ("c"|"s", DNS bytes)."""
    frames = []
    for who, msg in messages:
        if who == "c":
            pkt = eth(ip4(C4, srv) / UDP(sport=sport, dport=53) / Raw(msg))
        else:
            pkt = eth(ip4(srv, C4) / UDP(sport=53, dport=sport) / Raw(msg), MAC_S, MAC_C)
        frames.append((clk.tick(), pkt))
    return frames


def tls_record(ctype, body, version=0x0303):
    return struct.pack("!BHH", ctype, version, len(body)) + body


def tls_handshake(htype, body):
    return bytes([htype]) + struct.pack("!I", len(body))[1:] + body


def tls12_server_hello():
    """A TLS 1.2 ServerHello (no supported_versions): ECDHE-RSA-AES128-GCM-SHA256 with
    renegotiation_info."""
    exts = struct.pack("!HHB", 0xFF01, 1, 0)
    body = b"\x03\x03" + bytes(range(0xA0, 0xC0)) + b"\x00" + b"\xc0\x2f\x00"
    body += struct.pack("!H", len(exts)) + exts
    return tls_handshake(2, body)


def cap_app_http_xff(out):
    """app-http-xff.pcap: 198.18.0.1:43301 -> 198.19.0.1:80, one GET through a proxy chain
    (X-Forwarded-For: 203.0.113.7, 198.51.100.23), answered 200 with 2 bytes of text/plain."""
    req = (b"GET /via-proxy HTTP/1.1\r\nHost: xff.example.test\r\nUser-Agent: caracal-test\r\n"
           b"X-Forwarded-For: 203.0.113.7, 198.51.100.23\r\nAccept: */*\r\n\r\n")
    write_pcap(out("app-http-xff.pcap"), LINK_ETHER,
               tcp_session(Clock(), ip4, C4, S4, 43301, 80, req, HTTP_RESP))


def cap_app_hostile(out):
    """App-layer parsers fed hostile input: one flow per capture, from 198.18.0.1.

    The protocol probes only take up a flow whose first message is sound, so where the
    hostile part would fail the probe it comes after a sound exchange in the same flow.

    DNS over UDP (server 198.19.0.53:53), client ports 43001..43004:
      app-hostile-dns-loop.pcap       1 query loop.example.test A (id 0x4c01), 2 a response
                                      whose answer name is the label "loop" followed by a
                                      pointer back to that label (a compression loop)
      app-hostile-dns-name-long.pcap  1-2 query and answer ok.example.test A (id 0x4c02),
                                      3 a query (id 0x4c12) for a name of 100 two-byte labels
                                      "l0".."l9" ten times (dotted 299 bytes, over 255;
                                      under 127 labels)
      app-hostile-dns-labels.pcap     1-2 as above (id 0x4c03), 3 a query (id 0x4c13) for a
                                      name of 150 one-byte labels "a" (over 127 labels)
      app-hostile-dns-truncated.pcap  1 query trunc.example.test A (id 0x4c04), 2 a response
                                      whose header counts 1 question and 4 answers but that
                                      ends after the question
    TLS over TCP to 198.19.0.1:443, client ports 43101..43103 (tcp_dialog: data from packet 4):
      app-hostile-tls-reclen.pcap     4 a ClientHello, 5 a handshake record header announcing
                                      0x4801 bytes (18433, one over 2^14 + 2048) holding a
                                      ServerHello
      app-hostile-tls-sni-type.pcap   4 a ClientHello whose server_name entry has name type 1
      app-hostile-tls-cert.pcap       4 a ClientHello, 5 a TLS 1.2 ServerHello and a
                                      Certificate message whose one certificate, 20 bytes
                                      in the chain, is a DER SEQUENCE announcing 4096 bytes
    HTTP over TCP to 198.19.0.1:80, client ports 43201..43203:
      app-hostile-http-longhdr.pcap   4-18 a GET with a 20480-byte X-Long header line in
                                      1400-byte segments, 19 answered 400
      app-hostile-http-chunk.pcap     4 a chunked POST whose first chunk-size line is "zz",
                                      5 answered 400
      app-hostile-http-nohost.pcap    4 GET / HTTP/1.1 without a Host header, 5 answered 400
    """
    # DNS: a compression loop. The answer's name starts right after the question.
    q = dns_question([b"loop", b"example", b"test"])
    query = dns_header(0x4C01, 0x0100, qd=1) + q
    at = 12 + len(q)
    loop_name = b"\x04loop" + struct.pack("!H", 0xC000 | at)
    answer = loop_name + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([198, 19, 0, 80])
    resp = dns_header(0x4C01, 0x8180, qd=1, an=1) + q + answer
    write_pcap(out("app-hostile-dns-loop.pcap"), LINK_ETHER,
               udp_dns(Clock(), 43001, [("c", query), ("s", resp)]))

    # DNS: after a sound exchange, a 299-byte name of 100 two-byte labels; and one of
    # 150 one-byte labels.
    def sound(qid):
        q = dns_question([b"ok", b"example", b"test"])
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([198, 19, 0, 80])
        return [("c", dns_header(qid, 0x0100, qd=1) + q),
                ("s", dns_header(qid, 0x8180, qd=1, an=1) + q + rr)]
    labels = [b"l" + (b"%d" % i)[-1:] for i in range(100)]
    query = dns_header(0x4C12, 0x0100, qd=1) + dns_question(labels)
    write_pcap(out("app-hostile-dns-name-long.pcap"), LINK_ETHER,
               udp_dns(Clock(), 43002, sound(0x4C02) + [("c", query)]))
    query = dns_header(0x4C13, 0x0100, qd=1) + dns_question([b"a"] * 150)
    write_pcap(out("app-hostile-dns-labels.pcap"), LINK_ETHER,
               udp_dns(Clock(), 43003, sound(0x4C03) + [("c", query)]))

    # DNS: a response cut short of the records its header counts.
    q = dns_question([b"trunc", b"example", b"test"])
    query = dns_header(0x4C04, 0x0100, qd=1) + q
    resp = dns_header(0x4C04, 0x8180, qd=1, an=4) + q
    write_pcap(out("app-hostile-dns-truncated.pcap"), LINK_ETHER,
               udp_dns(Clock(), 43004, [("c", query), ("s", resp)]))

    # TLS: the server's first record header over the TLSCiphertext bound.
    rec = struct.pack("!BHH", 22, 0x0303, 0x4801) + tls12_server_hello()
    write_pcap(out("app-hostile-tls-reclen.pcap"), LINK_ETHER,
               tcp_dialog(Clock(), ip4, C4, S4, 43101, 443,
                          [("c", tls_client_hello("rec.example.test")), ("s", rec)]))

    # TLS: server_name type 1 (only host_name, 0, is defined).
    write_pcap(out("app-hostile-tls-sni-type.pcap"), LINK_ETHER,
               tcp_dialog(Clock(), ip4, C4, S4, 43102, 443,
                          [("c", tls_client_hello("sni.example.test", sni_type=1))]))

    # TLS: a certificate whose DER length runs past its 20 bytes.
    der = b"\x30\x82\x10\x00" + b"\x30\x82\x0f\xfc" + bytes(range(12))
    chain = struct.pack("!I", len(der))[1:] + der
    cert = tls_handshake(11, struct.pack("!I", len(chain))[1:] + chain)
    flight = tls_record(22, tls12_server_hello() + cert)
    write_pcap(out("app-hostile-tls-cert.pcap"), LINK_ETHER,
               tcp_dialog(Clock(), ip4, C4, S4, 43103, 443,
                          [("c", tls_client_hello("cert.example.test")), ("s", flight)]))

    # HTTP: a 20 KB header line, sent in 1400-byte segments.
    req = (b"GET /long HTTP/1.1\r\nHost: long.example.test\r\nX-Long: " + b"a" * 20480 +
           b"\r\nAccept: */*\r\n\r\n")
    resp = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    turns = [("c", req[i:i + 1400]) for i in range(0, len(req), 1400)] + [("s", resp)]
    write_pcap(out("app-hostile-http-longhdr.pcap"), LINK_ETHER,
               tcp_dialog(Clock(), ip4, C4, S4, 43201, 80, turns))

    # HTTP: a chunked request body whose chunk-size line is not hex.
    req = (b"POST /upload HTTP/1.1\r\nHost: chunk.example.test\r\n"
           b"Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
           b"zz\r\nhello\r\n0\r\n\r\n")
    write_pcap(out("app-hostile-http-chunk.pcap"), LINK_ETHER,
               tcp_dialog(Clock(), ip4, C4, S4, 43202, 80, [("c", req), ("s", resp)]))

    # HTTP: HTTP/1.1 without Host.
    req = b"GET / HTTP/1.1\r\nUser-Agent: caracal-test\r\nAccept: */*\r\n\r\n"
    write_pcap(out("app-hostile-http-nohost.pcap"), LINK_ETHER,
               tcp_dialog(Clock(), ip4, C4, S4, 43203, 80, [("c", req), ("s", resp)]))


def main(argv):
    if len(argv) == 3 and argv[1] == "--demo":
        make_demo(argv[2])
        return 0
    if len(argv) != 2 or argv[1].startswith("-"):
        sys.stderr.write("usage: make-captures.py OUTDIR | --demo FILE\n")
        return 1
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    out = lambda name: os.path.join(outdir, name)
    for fn in (cap_eth_tcp, cap_eth_udp, cap_eth_icmp, cap_ipv6, cap_ipv6_exthdrs, cap_vlan,
               cap_tunnels, cap_linktypes, cap_ipv4_malformed, cap_l4_malformed, cap_checksums,
               cap_bad_files, cap_detect_http, cap_detect_udp_bin, cap_detect_icmp,
               cap_detect_dialog, cap_detect_repeat, cap_frag_evasion, cap_tcp_evasion,
               cap_app_http_xff, cap_app_hostile):
        fn(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
