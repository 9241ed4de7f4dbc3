/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-frame.h: serial framing of the device link (USB CDC-ACM).
 *
 * A frame on the wire is
 *
 *     COBS (payload || CRC-32 (payload), little-endian) || 0x00
 *
 * COBS (Cheshire and Baker, 1999) removes every 0x00 from the body, so the
 * single 0x00 delimiter can only mean "end of frame" and a receiver that
 * starts listening in the middle of a byte stream, or loses bytes, resyncs
 * at the next delimiter. The CRC-32 is the zlib/IEEE 802.3 one (reflected
 * polynomial 0xEDB88320, initial value and final xor 0xFFFFFFFF); it guards
 * against line noise, not against an attacker: authenticity comes from the
 * COSE layer above.
 *
 * Sizes: a payload is at most SP_FRAME_MAX_PAYLOAD (2048) bytes, a whole
 * device message (SP_MSG_MAX, docs/protocol.md); on the wire it takes at
 * most SP_FRAME_ENCODED_SIZE (2048) = 2062 bytes (2052 bytes of payload
 * and CRC, at most 9 COBS code bytes, the delimiter).
 * All sizes are macros so that callers size their static buffers at compile
 * time; nothing here allocates or keeps global state.
 *
 * Encoding is the minimal COBS form: a final block of 254 non-zero bytes
 * gets no extra 0x01 code byte, as the paper's reference encoder would
 * add. Decoding is strict and refuses that extra 0x01, so every payload has
 * exactly one wire form: otherwise a delimiter hit by noise (0x00 -> 0x01)
 * and followed by another 0x00 would deliver the frame as if nothing had
 * happened. Peers must therefore use this encoder, or another minimal one.
 *
 * Resync: a sender may write one extra 0x00 before a frame (for example the
 * first frame after opening the port, or after a write timeout). If the
 * peer's receiver holds a half-received frame from earlier noise, that 0x00
 * ends it there (it is counted as a bad frame and dropped) instead of the
 * noise corrupting the new frame; if the receiver was idle, it sees an empty
 * frame, which is not an error (sp_deframer_stats.empty).
 *
 * Build option: by default sp-frame.c computes the CRC-32 by slice-by-8,
 * with 8 KiB of const tables, for bulk transfers on a host. Compiled with
 * -DSP_FRAME_SMALL (a device build), it uses a 64-byte table instead, four
 * bits at a time: several times slower, which a serial link never notices.
 * Only speed and code size differ; the API, the results and the wire
 * format are the same. Both builds run the same tests (test-frame and
 * test-frame-small).
 */
#ifndef SP_FRAME_H
#define SP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp-error.h"

#define SP_FRAME_DELIMITER 0x00
#define SP_CRC32_LEN 4
#define SP_FRAME_MAX_PAYLOAD 2048

/* Worst-case (minimal) COBS encoding of n bytes: one code byte per started
 * block of 254 bytes; n == 0 encodes as the single byte 0x01. Reached when
 * the n bytes hold no zero. */
#define SP_COBS_MAX_ENCODED(n) ((n) + ((n) + 253) / 254 + ((n) == 0))

/* Worst-case bytes on the wire for a payload of n bytes, delimiter
 * included: the buffer size sp_frame_encode() needs. */
#define SP_FRAME_ENCODED_SIZE(n) (SP_COBS_MAX_ENCODED ((n) + SP_CRC32_LEN) + 1)
#define SP_FRAME_MAX_ENCODED SP_FRAME_ENCODED_SIZE (SP_FRAME_MAX_PAYLOAD) /* 2062 */

/* Receive buffer that holds any frame of a payload up to n bytes (the
 * delimiter is never stored), and the largest useful one. */
#define SP_DEFRAMER_BUF_SIZE(n) (SP_FRAME_ENCODED_SIZE (n) - 1)
#define SP_DEFRAMER_BUF_MAX SP_DEFRAMER_BUF_SIZE (SP_FRAME_MAX_PAYLOAD) /* 2061 */

/* CRC-32 ------------------------------------------------------------------ */

/* Continues a CRC-32 with data[0..len), with zlib's convention: start from
 * 0, and sp_crc32_update (sp_crc32_update (0, a), b) == sp_crc32 (a || b).
 * data may be NULL when len is 0. */
uint32_t sp_crc32_update (uint32_t crc, const void *data, size_t len);

/* CRC-32 of data[0..len); sp_crc32 ("123456789", 9) == 0xCBF43926. */
uint32_t sp_crc32 (const void *data, size_t len);

/* Bare COBS (no CRC, no delimiter), for tests and other framings --------- */

/* Encodes in[0..len) into out, which must hold SP_COBS_MAX_ENCODED (len)
 * bytes (checked up front, so the result does not depend on the data):
 * SP_ERR_BUFFER_TOO_SMALL otherwise. The output has no 0x00 byte. */
sp_err sp_cobs_encode (const uint8_t *in, size_t len,
                       uint8_t *out, size_t cap, size_t *out_len);

/* Decodes in[0..len). SP_ERR_FRAME_COBS if in is empty, holds a 0x00, a
 * code byte runs past its end, or it ends with a needless 0x01 after a
 * full block (not the minimal form); SP_ERR_BUFFER_TOO_SMALL if the result does
 * not fit in cap bytes. out is written only on success; out == in (decoding
 * in place) is allowed, any other overlap is not. */
sp_err sp_cobs_decode (const uint8_t *in, size_t len,
                       uint8_t *out, size_t cap, size_t *out_len);

/* Frames ------------------------------------------------------------------ */

/* Writes the frame of payload[0..len) to out, delimiter included, and its
 * length to *out_len. SP_ERR_FRAME_TOO_LARGE if len > SP_FRAME_MAX_PAYLOAD;
 * SP_ERR_BUFFER_TOO_SMALL if cap < SP_FRAME_ENCODED_SIZE (len). */
sp_err sp_frame_encode (const uint8_t *payload, size_t len,
                        uint8_t *out, size_t cap, size_t *out_len);

/* Decodes one frame: frame[0..len) are the bytes between two delimiters
 * (no 0x00). Checked in this order, the first failure is returned:
 *  - SP_ERR_FRAME_EMPTY: len is 0 (consecutive delimiters);
 *  - SP_ERR_FRAME_TOO_LARGE: len > SP_DEFRAMER_BUF_MAX;
 *  - SP_ERR_FRAME_COBS: a 0x00 inside, a code byte past the end, or not
 *    the minimal encoding;
 *  - SP_ERR_FRAME_CRC: fewer than SP_CRC32_LEN decoded bytes (there is no
 *    CRC to check, so the frame fails its integrity check);
 *  - SP_ERR_FRAME_TOO_LARGE: a payload longer than SP_FRAME_MAX_PAYLOAD;
 *  - SP_ERR_FRAME_CRC: the CRC-32 does not match;
 *  - SP_ERR_BUFFER_TOO_SMALL: the payload does not fit in cap bytes.
 * On success the payload is in out[0..*payload_len). out is written only on
 * success, and may be frame itself (decoding in place); any other overlap
 * is not allowed. */
sp_err sp_frame_decode (const uint8_t *frame, size_t len,
                        uint8_t *out, size_t cap, size_t *payload_len);

/* Streaming receiver ------------------------------------------------------ */

/* What a deframer dropped, per reason (each counter wraps at 2^32). A
 * frame is counted when its delimiter arrives. */
typedef struct sp_deframer_stats {
  uint32_t frames;     /* good frames delivered */
  uint32_t crc;        /* CRC mismatch, or too short to hold a CRC-32 */
  uint32_t cobs;       /* not valid COBS */
  uint32_t oversize;   /* longer than the buffer or SP_FRAME_MAX_PAYLOAD */
  uint32_t empty;      /* consecutive delimiters: resync, not an error */
} sp_deframer_stats;

/* Fields are private except stats, which the caller may read or clear. */
typedef struct sp_deframer {
  uint8_t *buf;
  size_t cap;
  size_t len;          /* bytes of the current frame in buf */
  bool skipping;       /* the current frame overflowed: drop to delimiter */
  sp_deframer_stats stats;
} sp_deframer;

/* Receives into buf[0..cap), which the deframer uses until the caller stops
 * using d. With cap = SP_DEFRAMER_BUF_MAX every valid frame fits; a smaller
 * buffer (SP_DEFRAMER_BUF_SIZE (n) for payloads up to n bytes) drops longer
 * frames as oversize; a larger one is used up to SP_DEFRAMER_BUF_MAX only.
 * The deframer starts as if a delimiter had just been received, so a first
 * frame on a clean line is not lost; noise before the first delimiter is
 * dropped as one bad frame. */
void sp_deframer_init (sp_deframer *d, uint8_t *buf, size_t cap);

/* Drops a half-received frame without counting it (say, after reopening
 * the port or an idle timeout); the stats are kept. */
void sp_deframer_reset (sp_deframer *d);

/* Feeds data[0..len) as received, in chunks of any size, and returns how
 * many bytes it consumed. It stops right after the first delimiter that
 * completes a valid frame: then *payload points to its payload (in buf,
 * decoded in place) and *payload_len is its length, valid until the next
 * call on d; otherwise *payload is NULL and all len bytes were consumed.
 * Bad frames are dropped and counted in d->stats, never delivered. With
 * len > 0 it always consumes at least one byte, so this loop loses nothing:
 *
 *     while (len > 0)
 *       {
 *         size_t n = sp_deframer_push (&d, data, len, &payload, &payload_len);
 *
 *         data += n;
 *         len -= n;
 *         if (payload != NULL)
 *           handle_message (payload, payload_len);
 *       }
 */
size_t sp_deframer_push (sp_deframer *d, const uint8_t *data, size_t len,
                         const uint8_t **payload, size_t *payload_len);

#endif /* SP_FRAME_H */
