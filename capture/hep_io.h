/* HEP on the wire, both ways: in, a socket that Kamailio, OpenSIPS, FreeSWITCH,
 * heplify or another sipscope sends HEPv2/v3 to, read as a capture source; out, a UDP
 * socket to a collector that takes packets decode/hep.h's hep_encode() built. Bytes only:
 * what goes in them is the caller's. */
#ifndef SIPSCOPE_HEP_IO_H
#define SIPSCOPE_HEP_IO_H

#include <stdbool.h>
#include <stddef.h>

#include "capture.h"

/* HEPv2/v3 over UDP at listen ("ADDR:PORT", "[v6]:PORT", ":PORT" for any IPv4): each
 * datagram is handed out as an Ethernet frame from its sender to us, which the decoder
 * reads as HEP; next() says CAPTURE_IDLE after 200 ms without one. */
bool capture_open_hep(struct capture_source *src, const char *listen, char *err, size_t errlen);

struct hep_sender;

/* A UDP socket connected to `to` ("HOST:PORT" or "[v6]:PORT", an address, not a name):
 * send() then needs no address, and errors come back. NULL with err set (without `to`)
 * when it cannot. */
struct hep_sender *hep_sender_open(const char *to, char *err, size_t errlen);
/* One datagram; false when it was not sent whole. */
bool hep_sender_send(struct hep_sender *s, const void *buf, size_t n);
void hep_sender_close(struct hep_sender *s);

#endif
