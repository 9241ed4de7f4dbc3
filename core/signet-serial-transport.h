/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-serial-transport.h: SignetTransport on a tty -- a USB CDC-ACM
 * device (/dev/ttyACM0) or the pseudo-terminal of signet-devsim
 * (docs/transport.md, docs/devsim.md).
 *
 * Each message is one frame of proto/sp-frame.h, COBS (message ||
 * CRC-32) || 0x00 (DESIGN.md §4, docs/protocol.md "Transport and
 * framing"). Open (in a worker thread: a tcsetattr on a ttyACM is a USB
 * control transfer that can stall) takes the tty with O_RDWR | O_NOCTTY |
 * O_NONBLOCK, an exclusive flock() and TIOCEXCL, sets raw mode (cfmakeraw,
 * 8N1, no flow control; the baud rate means nothing on CDC-ACM), raises
 * DTR/RTS where the tty has them and flushes stale input. Then the tty is
 * watched by the main loop (GUnixFDSource): reads feed a streaming
 * sp_deframer, writes go through a queue that survives partial writes.
 * Frames with a bad CRC, bad COBS or over the size are dropped and counted
 * (signet_serial_transport_get_stats()), never delivered. The first frame
 * after open, and the first after a frame that was abandoned halfway
 * (cancel, timeout), is preceded by one 0x00 so the device's receiver
 * resyncs. A hang-up (POLLHUP, read () == 0, EIO) ends the link with
 * SIGNET_TRANSPORT_ERROR_DISCONNECTED.
 */
#pragma once

#include "signet-transport.h"

G_BEGIN_DECLS

/* Defaults of the two timeouts, in milliseconds (0: none). A device
 * answers a request at once, but APPLY runs a health check
 * (docs/protocol.md): the session engine may raise the receive timeout for
 * it. */
#define SIGNET_SERIAL_TRANSPORT_RECEIVE_TIMEOUT_DEFAULT 5000
#define SIGNET_SERIAL_TRANSPORT_SEND_TIMEOUT_DEFAULT 5000
/* Messages kept for later receives; when full, the transport stops
 * reading (the tty's buffers and the device wait), so nothing is lost. */
#define SIGNET_SERIAL_TRANSPORT_INBOX_MAX 32

/* Counters since the transport was made (they survive close and reopen). */
typedef struct {
  guint64 frames_received;   /* good frames delivered */
  guint64 frames_sent;       /* frames handed whole to the tty */
  guint64 bad_crc;           /* dropped: CRC mismatch or too short for one */
  guint64 bad_cobs;          /* dropped: not valid (minimal) COBS */
  guint64 oversize;          /* dropped: longer than a message may be */
  guint64 empty;             /* lone delimiters (a peer's resync): not errors */
  guint64 bytes_received;
  guint64 bytes_sent;
  guint64 sends_abandoned;   /* frames cut off halfway by a cancel or timeout */
} SignetSerialStats;

#define SIGNET_TYPE_SERIAL_TRANSPORT (signet_serial_transport_get_type ())
G_DECLARE_FINAL_TYPE (SignetSerialTransport, signet_serial_transport, SIGNET, SERIAL_TRANSPORT,
                      GObject)

/* A transport for the tty at path (not opened yet). Returns: (transfer full) */
SignetSerialTransport *signet_serial_transport_new                 (const char            *path);

const char            *signet_serial_transport_get_path            (SignetSerialTransport *self);

/* "receive-timeout": ms from receive_async until a message arrives, then
 * SIGNET_TRANSPORT_ERROR_TIMEOUT; 0 waits for ever. Applies to receives
 * started after the change. */
guint                  signet_serial_transport_get_receive_timeout (SignetSerialTransport *self);
void                   signet_serial_transport_set_receive_timeout (SignetSerialTransport *self,
                                                                    guint                  ms);
/* "send-timeout": ms from send_async until the whole frame was written to
 * the tty (a device that stopped reading), then TIMEOUT; 0: for ever. */
guint                  signet_serial_transport_get_send_timeout    (SignetSerialTransport *self);
void                   signet_serial_transport_set_send_timeout    (SignetSerialTransport *self,
                                                                    guint                  ms);

void                   signet_serial_transport_get_stats           (SignetSerialTransport *self,
                                                                    SignetSerialStats     *stats);
/* bad_crc + bad_cobs + oversize; also the "frames-dropped" property
 * (guint64, notified when it changes). */
guint64                signet_serial_transport_get_frames_dropped  (SignetSerialTransport *self);

G_END_DECLS
