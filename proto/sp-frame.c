/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-frame.c: COBS + CRC-32 framing of the serial device link.
 *
 * Written for a small microcontroller first: no heap, no tables beyond 64
 * bytes, no state outside the caller's structs, one pass per operation
 * where possible and two short ones where it buys "the output is written
 * only on success".
 */
#include <string.h>

#include "sp-frame.h"

/* CRC-32 ------------------------------------------------------------------ */

/* Four bits at a time: 64 bytes of table instead of zlib's 1 KiB, which
 * matters more on a device than the speed (a 1 KiB frame at a serial link's
 * rate leaves the CPU idle anyway). */
static const uint32_t crc32_nibble[16] = {
  0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
  0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
  0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
  0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

/* One byte into a CRC register held in its inverted (working) form. */
static uint32_t
crc32_byte (uint32_t c, uint8_t b)
{
  c ^= b;
  c = (c >> 4) ^ crc32_nibble[c & 0x0f];
  c = (c >> 4) ^ crc32_nibble[c & 0x0f];
  return c;
}

uint32_t
sp_crc32_update (uint32_t crc, const void *data, size_t len)
{
  const uint8_t *p = data;

  crc = ~crc;
  while (len--)
    crc = crc32_byte (crc, *p++);
  return ~crc;
}

uint32_t
sp_crc32 (const void *data, size_t len)
{
  return sp_crc32_update (0, data, len);
}

/* COBS encoding ----------------------------------------------------------- */

/* An encoder that takes one byte at a time, so that the CRC trailer is
 * encoded straight after the payload without copying both into one
 * buffer. The caller has checked the size of out against the worst case,
 * so there are no bounds checks per byte. */
typedef struct {
  uint8_t *out;
  size_t pos;        /* next free byte of out */
  size_t code_pos;   /* where the open block's code byte goes */
  uint8_t code;      /* 1 + bytes in the open block; 0 when none is open */
} cobs_enc;

static void
cobs_enc_init (cobs_enc *e, uint8_t *out)
{
  e->out = out;
  e->code_pos = 0;
  e->pos = 1;
  e->code = 1;
}

static void
cobs_enc_put (cobs_enc *e, uint8_t b)
{
  /* A block closed because it was full (254 bytes) opens its successor
   * only when more data comes: that keeps the encoding minimal. */
  if (e->code == 0)
    {
      e->code_pos = e->pos++;
      e->code = 1;
    }
  if (b == 0)
    {
      /* The zero becomes the next code byte. The next block opens now,
       * even if no data follows: the decoder needs it to emit the zero. */
      e->out[e->code_pos] = e->code;
      e->code_pos = e->pos++;
      e->code = 1;
      return;
    }
  e->out[e->pos++] = b;
  if (++e->code == 0xff)
    {
      e->out[e->code_pos] = 0xff;
      e->code = 0;
    }
}

static size_t
cobs_enc_finish (cobs_enc *e)
{
  if (e->code != 0)
    e->out[e->code_pos] = e->code;
  return e->pos;
}

sp_err
sp_cobs_encode (const uint8_t *in, size_t len,
                uint8_t *out, size_t cap, size_t *out_len)
{
  cobs_enc e;
  size_t i;

  /* The first test keeps the size computation from wrapping around. */
  if (len > SIZE_MAX / 2 || cap < SP_COBS_MAX_ENCODED (len))
    return SP_ERR_BUFFER_TOO_SMALL;
  cobs_enc_init (&e, out);
  for (i = 0; i < len; i++)
    cobs_enc_put (&e, in[i]);
  *out_len = cobs_enc_finish (&e);
  return SP_OK;
}

/* COBS decoding ----------------------------------------------------------- */

/* Where decoded bytes go. The first `keep` bytes are stored in out (none
 * on a validating pass); every byte also goes through a 4-byte delay line,
 * so that at the end `tail` holds the last four bytes (the CRC trailer,
 * little-endian) and `crc` covers everything before them. That way a frame
 * is fully checked before anything is written, and out needs no room for
 * the trailer. */
typedef struct {
  uint8_t *out;
  size_t keep;
  size_t n;          /* bytes decoded so far */
  uint32_t tail;
  uint32_t crc;      /* inverted working form */
} cobs_sink;

static void
cobs_sink_put (cobs_sink *s, uint8_t b)
{
  if (s->n >= SP_CRC32_LEN)
    s->crc = crc32_byte (s->crc, (uint8_t) s->tail);
  s->tail = (s->tail >> 8) | ((uint32_t) b << 24);
  /* In place, out[n] is never ahead of the byte just read: each code byte
   * read yields at most one zero. */
  if (s->n < s->keep)
    s->out[s->n] = b;
  s->n++;
}

static sp_err
cobs_decode_into (const uint8_t *in, size_t len, cobs_sink *s)
{
  size_t i = 0;
  bool full = false;

  s->n = 0;
  s->tail = 0;
  s->crc = 0xffffffff;
  while (i < len)
    {
      uint8_t code = in[i++];
      uint8_t k;

      if (code == 0 || (size_t) (code - 1) > len - i)
        return SP_ERR_FRAME_COBS;
      /* An empty last block after a full one adds nothing; the minimal
       * encoding leaves it out, and accepting it would give one payload
       * two wire forms (see sp-frame.h). */
      if (code == 1 && full && i == len)
        return SP_ERR_FRAME_COBS;
      full = code == 0xff;
      for (k = 1; k < code; k++)
        {
          uint8_t b = in[i++];

          if (b == 0)
            return SP_ERR_FRAME_COBS;
          cobs_sink_put (s, b);
        }
      /* Every block but a full one stands for a zero after it, except at
       * the very end, where that zero is the one the encoder appended. */
      if (code != 0xff && i < len)
        cobs_sink_put (s, 0);
    }
  return SP_OK;
}

sp_err
sp_cobs_decode (const uint8_t *in, size_t len,
                uint8_t *out, size_t cap, size_t *out_len)
{
  cobs_sink s = { NULL, 0, 0, 0, 0 };
  sp_err err;

  if (len == 0)
    return SP_ERR_FRAME_COBS;   /* even empty data encodes as 0x01 */
  err = cobs_decode_into (in, len, &s);
  if (err != SP_OK)
    return err;
  if (s.n > cap)
    return SP_ERR_BUFFER_TOO_SMALL;
  s.out = out;
  s.keep = s.n;
  (void) cobs_decode_into (in, len, &s);
  *out_len = s.n;
  return SP_OK;
}

/* Frames ------------------------------------------------------------------ */

sp_err
sp_frame_encode (const uint8_t *payload, size_t len,
                 uint8_t *out, size_t cap, size_t *out_len)
{
  cobs_enc e;
  uint32_t crc;
  size_t i;

  if (len > SP_FRAME_MAX_PAYLOAD)
    return SP_ERR_FRAME_TOO_LARGE;
  if (cap < SP_FRAME_ENCODED_SIZE (len))
    return SP_ERR_BUFFER_TOO_SMALL;
  crc = sp_crc32 (payload, len);
  cobs_enc_init (&e, out);
  for (i = 0; i < len; i++)
    cobs_enc_put (&e, payload[i]);
  for (i = 0; i < SP_CRC32_LEN; i++, crc >>= 8)
    cobs_enc_put (&e, (uint8_t) crc);
  i = cobs_enc_finish (&e);
  out[i++] = SP_FRAME_DELIMITER;
  *out_len = i;
  return SP_OK;
}

sp_err
sp_frame_decode (const uint8_t *frame, size_t len,
                 uint8_t *out, size_t cap, size_t *payload_len)
{
  cobs_sink s = { NULL, 0, 0, 0, 0 };
  size_t plen;
  sp_err err;

  if (len == 0)
    return SP_ERR_FRAME_EMPTY;
  /* Before any work, so that a flood of junk costs nothing. */
  if (len > SP_DEFRAMER_BUF_MAX)
    return SP_ERR_FRAME_TOO_LARGE;

  /* Validating pass: COBS, sizes and CRC, writing nothing. */
  err = cobs_decode_into (frame, len, &s);
  if (err != SP_OK)
    return err;
  if (s.n < SP_CRC32_LEN)
    return SP_ERR_FRAME_CRC;
  plen = s.n - SP_CRC32_LEN;
  if (plen > SP_FRAME_MAX_PAYLOAD)
    return SP_ERR_FRAME_TOO_LARGE;
  if (~s.crc != s.tail)
    return SP_ERR_FRAME_CRC;
  if (plen > cap)
    return SP_ERR_BUFFER_TOO_SMALL;

  /* Storing pass; it cannot fail now. */
  s.out = out;
  s.keep = plen;
  (void) cobs_decode_into (frame, len, &s);
  *payload_len = plen;
  return SP_OK;
}

/* Streaming receiver ------------------------------------------------------ */

void
sp_deframer_init (sp_deframer *d, uint8_t *buf, size_t cap)
{
  memset (d, 0, sizeof *d);
  d->buf = buf;
  d->cap = cap < SP_DEFRAMER_BUF_MAX ? cap : SP_DEFRAMER_BUF_MAX;
}

void
sp_deframer_reset (sp_deframer *d)
{
  d->len = 0;
  d->skipping = false;
}

/* A delimiter arrived: decide what the buffered frame was. Returns true
 * if it is a good one, now decoded at the start of buf. */
static bool
sp_deframer_end_frame (sp_deframer *d, size_t *payload_len)
{
  size_t len = d->len;
  bool skipped = d->skipping;

  sp_deframer_reset (d);
  if (skipped)
    {
      d->stats.oversize++;
      return false;
    }
  switch (sp_frame_decode (d->buf, len, d->buf, len, payload_len))
    {
    case SP_OK:
      d->stats.frames++;
      return true;
    case SP_ERR_FRAME_EMPTY:
      d->stats.empty++;
      break;
    case SP_ERR_FRAME_COBS:
      d->stats.cobs++;
      break;
    case SP_ERR_FRAME_TOO_LARGE:
      d->stats.oversize++;
      break;
    default:
      /* SP_ERR_FRAME_CRC; a payload always fits in the frame's own
       * bytes, so SP_ERR_BUFFER_TOO_SMALL cannot happen. */
      d->stats.crc++;
      break;
    }
  return false;
}

size_t
sp_deframer_push (sp_deframer *d, const uint8_t *data, size_t len,
                  const uint8_t **payload, size_t *payload_len)
{
  size_t used = 0;

  *payload = NULL;
  *payload_len = 0;
  while (used < len)
    {
      const uint8_t *p = data + used;
      const uint8_t *z = memchr (p, SP_FRAME_DELIMITER, len - used);
      size_t run = z != NULL ? (size_t) (z - p) : len - used;

      if (!d->skipping)
        {
          if (run <= d->cap - d->len)
            {
              memcpy (d->buf + d->len, p, run);
              d->len += run;
            }
          else
            {
              /* Too long for any valid frame: drop what is buffered and
               * the rest up to the next delimiter, without storing it. */
              d->skipping = true;
              d->len = 0;
            }
        }
      used += run;
      if (z == NULL)
        break;
      used++;
      if (sp_deframer_end_frame (d, payload_len))
        {
          *payload = d->buf;
          return used;
        }
    }
  return used;
}
