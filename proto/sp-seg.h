/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-seg.h: Signet messages over BLE GATT -- segmentation to the ATT MTU,
 * reassembly, and a go-back-N receive window with cumulative
 * acknowledgements (docs/ble.md "Segments"). Shared by the tool
 * (core/signet-ble-transport.c) and the device agent.
 *
 * One sp_seg is one end of one link: it turns queued messages into
 * segments (sp_seg_poll) and received segments into messages
 * (sp_seg_input). It is deterministic and does no I/O: no clock (the
 * caller passes a monotonic time in ms, wrapping at 2^32 is fine), no
 * heap (the caller gives the receive buffer and keeps each sent message's
 * bytes until sp_seg_take_sent says it was acknowledged), no GLib.
 *
 * Segment (one ATT write or notification, at most ATT_MTU - 3 bytes):
 *   DATA   type | seq | [len16 LE, FIRST only] | stream bytes
 *   ACK    0x80 | next | window          NAK 0x81 | next | window
 *   RESET  0xC0 | id | window            RESET_ACK 0xC1 | id | window
 * where the stream of a message is message || CRC-32 (message) (LE, the
 * CRC of sp-frame.h), and DATA's type has bit 0 FIRST and bit 1 LAST.
 */
#ifndef SP_SEG_H
#define SP_SEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The Signet GATT service and its characteristics (docs/ble.md). */
#define SP_SEG_UUID_SERVICE "5c3a0001-9d2e-4b8f-a6e1-3f7c2b9e4d10"
#define SP_SEG_UUID_RX "5c3a0002-9d2e-4b8f-a6e1-3f7c2b9e4d10" /* tool -> device, write */
#define SP_SEG_UUID_TX "5c3a0003-9d2e-4b8f-a6e1-3f7c2b9e4d10" /* device -> tool, notify */

#define SP_SEG_ATT_MTU_MIN 23
/* An attribute value is at most 512 bytes (Bluetooth Core, Vol 3 Part F
 * 3.2.9) whatever the ATT MTU, and BlueZ's notify socket reads no more:
 * an ATT MTU above 515 is used as 515, so a segment is at most 512. */
#define SP_SEG_ATT_MTU_MAX 515
/* The longest segment: an ATT value at the largest MTU. */
#define SP_SEG_MAX (SP_SEG_ATT_MTU_MAX - 3)
/* The largest ATT MTU a tool cuts its segments for (a 510-byte value):
 * BlueZ as a GATT server (5.66, Debian 12; bluez/bluez issue 570) checks
 * a write's length with the handle's 2 bytes included and drops a Write
 * Command of a 511- or 512-byte value without a word, so at MTU 515+ no
 * full segment from the tool ever reached such a device. Receivers still
 * take up to SP_SEG_MAX. */
#define SP_SEG_WRITE_ATT_MTU_MAX 513
#define SP_SEG_MSG_MAX 2048            /* = SP_MSG_MAX */
#define SP_SEG_CRC_LEN 4
/* A receive buffer for messages of up to n bytes. */
#define SP_SEG_RXBUF_SIZE(n) ((n) + SP_SEG_CRC_LEN)

#define SP_SEG_WINDOW_MIN 2
#define SP_SEG_WINDOW_MAX 64
#define SP_SEG_WINDOW_DEFAULT 32
#define SP_SEG_TX_SLOTS 8              /* messages queued or in flight */
#define SP_SEG_RTO_DEFAULT 500         /* ms without progress: go back */
/* Segments received ahead of a gap before the receiver NAKs it: a gap
 * that fills sooner was reordering, not loss (BlueZ spreads write
 * commands and notifications over its EATT bearers, docs/ble.md). */
#define SP_SEG_REORDER_TOLERANCE 8
#define SP_SEG_RETRIES_DEFAULT 8       /* timeouts in a row: give up */

/* Segment types. */
#define SP_SEG_T_MIDDLE 0x00
#define SP_SEG_T_FIRST 0x01
#define SP_SEG_T_LAST 0x02
#define SP_SEG_T_ONLY 0x03
#define SP_SEG_T_ACK 0x80
#define SP_SEG_T_NAK 0x81
#define SP_SEG_T_RESET 0xC0
#define SP_SEG_T_RESET_ACK 0xC1

/* Bytes of one ATT value: DATA header, and the first segment's extra. */
#define SP_SEG_HDR 2
#define SP_SEG_FIRST_HDR 4

typedef enum {
  SP_SEG_ROLE_TOOL,    /* the central: sends RESET at start, waits for RESET_ACK */
  SP_SEG_ROLE_DEVICE,  /* the peripheral: open at once, answers RESET */
} sp_seg_role;

typedef enum {
  SP_SEG_STATE_SYNC,   /* tool: RESET sent, no RESET_ACK yet */
  SP_SEG_STATE_OPEN,
  SP_SEG_STATE_FAILED, /* the peer stopped acknowledging (or answering RESET) */
} sp_seg_state;

/* Results of sp_seg_send. */
typedef enum {
  SP_SEG_OK = 0,
  SP_SEG_ERR_FULL = -1,      /* SP_SEG_TX_SLOTS messages queued: wait for take_sent */
  SP_SEG_ERR_TOO_LARGE = -2, /* empty or over SP_SEG_MSG_MAX */
  SP_SEG_ERR_FAILED = -3,    /* the link failed */
} sp_seg_result;

/* Events of sp_seg_input (a bit set). */
#define SP_SEG_EV_MESSAGE 1u   /* a whole message is in the receive buffer */
#define SP_SEG_EV_ACKED 2u     /* queued messages were acknowledged: sp_seg_take_sent */
#define SP_SEG_EV_OPEN 4u      /* tool: RESET_ACK came, the link is open */
#define SP_SEG_EV_RESET 8u     /* device: the tool reset the link; every queued
                                * message was dropped (sp_seg_take_sent counts them) */
#define SP_SEG_EV_DROPPED 16u  /* the segment was not valid, or a message was
                                * dropped (CRC, size): see stats */

typedef struct {
  uint64_t segments_sent;      /* DATA, first transmissions and again */
  uint64_t segments_resent;    /* DATA sent again (go-back) */
  uint64_t control_sent;       /* ACK, NAK, RESET, RESET_ACK */
  uint64_t segments_received;  /* DATA accepted in order */
  uint64_t duplicates;         /* DATA behind the expected seq */
  uint64_t out_of_order;       /* DATA ahead of it (a gap) */
  uint64_t naks_sent;
  uint64_t naks_received;
  uint64_t timeouts;           /* RTO expiries */
  uint64_t bad_segment;        /* malformed: short, unknown type, too long */
  uint64_t bad_crc;            /* messages dropped: CRC mismatch */
  uint64_t bad_length;         /* messages dropped: stream not len + 4, no FIRST */
  uint64_t oversize;           /* messages dropped: len over the buffer */
  uint64_t messages_sent;      /* acknowledged whole */
  uint64_t messages_received;  /* delivered */
  uint64_t bytes_sent;         /* ATT value bytes, all segments */
  uint64_t bytes_received;
} sp_seg_stats;

typedef struct {
  const uint8_t *data;
  uint16_t len;
  uint32_t crc;
  uint32_t first;     /* absolute segment number of its first segment */
  uint32_t nsegs;
  uint16_t mtu;       /* the ATT MTU it was cut for */
} sp_seg_txmsg;

typedef struct {
  sp_seg_role role;
  sp_seg_state state;
  uint16_t mtu;           /* ATT MTU: segments are at most mtu - 3 */
  uint8_t window;         /* ours, advertised */
  uint8_t peer_window;
  uint32_t rto_ms;
  uint8_t max_retries;
  uint8_t reset_id;       /* tool: of its RESET; device: of the last one taken */
  bool reset_seen;        /* device: reset_id is valid */

  /* send side; absolute segment numbers (the wire has them mod 256) */
  sp_seg_txmsg tx[SP_SEG_TX_SLOTS];
  uint8_t tx_head;        /* oldest queued message */
  uint8_t tx_count;
  uint8_t tx_done;        /* acknowledged (or dropped by RESET), not yet taken */
  uint32_t tx_base;       /* oldest unacknowledged */
  uint32_t tx_next;       /* next to send */
  uint32_t tx_high;       /* one past the highest ever sent */
  uint32_t tx_end;        /* one past the last segment of the queued messages */
  uint32_t last_nak;
  bool nak_seen;
  bool timer_on;
  uint32_t timer_start;
  uint8_t retries;

  /* control to send */
  bool ack_pending;
  bool nak_pending;
  bool reset_pending;
  bool reset_ack_pending;

  /* receive side */
  uint8_t *rxbuf;
  size_t rxcap;
  uint8_t rx_next;        /* next expected seq */
  uint8_t rx_since_ack;
  bool rx_active;         /* a message is being reassembled */
  bool rx_discard;        /* ... and will be dropped */
  bool nak_sent;          /* for the current gap */
  bool dup_run;
  uint8_t last_dup;
  uint16_t rx_len;
  uint32_t rx_got;
  /* segments ahead of rx_next kept in rxbuf (reordering): bit d is seq
   * rx_next + d; only MIDDLE/LAST segments of the message being (or
   * about to be) reassembled, placed by their seq */
  uint64_t rx_ahead;
  uint8_t rx_first;       /* seq of the current message's FIRST */
  uint16_t rx_cap;        /* stream bytes of its full MIDDLE segments (0: not known) */
  bool rx_last_known;     /* its LAST is among rx_ahead */
  uint8_t rx_last_seq;
  uint16_t rx_last_n;
  uint8_t rx_gap_count;   /* segments seen ahead of the current gap */

  sp_seg_stats stats;
} sp_seg;

/* Stream bytes of a message of len bytes, and the segments it takes at an
 * ATT MTU (23..517). */
uint32_t sp_seg_count (uint16_t mtu, size_t len);

/* Set up one end. mtu: the ATT MTU (clamped to 23..517); window: ours
 * (clamped to 2..64; 0 for the default); rxbuf: room for the stream of
 * the largest message taken (SP_SEG_RXBUF_SIZE (SP_SEG_MSG_MAX)), kept by
 * the caller. now: the time (ms). A tool starts in SYNC with a RESET to
 * send; a device starts OPEN. The peer's window is taken as ours until
 * it says otherwise. */
void sp_seg_init (sp_seg *s, sp_seg_role role, uint16_t mtu, uint8_t window, uint8_t *rxbuf,
                  size_t rxcap, uint32_t now);
/* Tool: the id its RESET carries (by default the low byte of init's
 * now); a device resets once per id, so a late copy of a RESET cannot
 * reset it again. Use a different one at each open. */
void sp_seg_set_reset_id (sp_seg *s, uint8_t id);
/* Timeouts (0 keeps the default). */
void sp_seg_set_timeouts (sp_seg *s, uint32_t rto_ms, uint8_t max_retries);
/* A new ATT MTU, for messages not yet started (a tool sets it before the
 * first message, once BlueZ told it). */
void sp_seg_set_mtu (sp_seg *s, uint16_t mtu);

/* Queue a message (1..SP_SEG_MSG_MAX bytes). The bytes must stay valid
 * and unchanged until sp_seg_take_sent has counted it. Messages go out in
 * order, several in flight. */
sp_seg_result sp_seg_send (sp_seg *s, const void *msg, size_t len);

/* Feed one received segment. Returns SP_SEG_EV_* bits. With
 * SP_SEG_EV_MESSAGE, *msg_len is the message's length and its bytes are
 * at the start of rxbuf until the next sp_seg_input. msg_len: nullable */
unsigned sp_seg_input (sp_seg *s, uint32_t now, const uint8_t *seg, size_t len,
                       size_t *msg_len);

/* The next segment to transmit into out (cap >= mtu - 3 for data;
 * control segments need 3): its length, or 0 when there is nothing to
 * send now (window full, nothing queued, link failed). Control segments
 * come first. Also runs the retransmission timer. */
size_t sp_seg_poll (sp_seg *s, uint32_t now, uint8_t *out, size_t cap);

/* When sp_seg_poll must next be called even if nothing else happens (the
 * retransmission timer): TRUE and *deadline, or FALSE for no timer. */
bool sp_seg_next_deadline (const sp_seg *s, uint32_t *deadline);

/* Messages acknowledged (or dropped by a RESET) since the last call, in
 * the order they were queued: the caller may free that many of its
 * oldest. */
unsigned sp_seg_take_sent (sp_seg *s);

/* Queued messages (acknowledged ones not yet taken excluded), and how
 * many of the oldest of them have had every segment transmitted at least
 * once ("handed to the link"). */
unsigned sp_seg_queued (const sp_seg *s);
unsigned sp_seg_handed (const sp_seg *s);

static inline sp_seg_state
sp_seg_get_state (const sp_seg *s)
{
  return s->state;
}

/* The longest message that fits one segment at this MTU. */
static inline size_t
sp_seg_single_max (uint16_t mtu)
{
  return (size_t) mtu - 3 - SP_SEG_FIRST_HDR - SP_SEG_CRC_LEN;
}

#ifdef __cplusplus
}
#endif

#endif /* SP_SEG_H */
