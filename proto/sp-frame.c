/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-frame.c: COBS + CRC-32 framing of the serial device link.
 *
 * Written for a small microcontroller first: no heap, no state outside the
 * caller's structs, no mutable globals. Everything works on runs of bytes
 * (memchr, memcpy, a CRC loop over whole blocks) rather than one byte per
 * call, so that bulk transfers keep up with a pseudo-terminal on a host;
 * decoding checks a frame completely before it writes anything, which is
 * what "the output is written only on success" costs: a few cheap passes
 * over at most 2061 bytes instead of one.
 *
 * The CRC-32 is a compile-time choice (see sp-frame.h): slice-by-8 with
 * 8 KiB of const tables by default, or with SP_FRAME_SMALL a 64-byte table
 * for a device, where the serial link is the bottleneck anyway.
 */
#include <string.h>

#include "sp-frame.h"

/* CRC-32 ------------------------------------------------------------------ */

/* Inside this file the CRC register is kept in its inverted (working)
 * form: crc32_raw () continues it over p[0..len). */

#ifdef SP_FRAME_SMALL

/* Four bits at a time: 64 bytes of table instead of zlib's 1 KiB, which
 * matters more on a device than the speed (a 2 KiB frame at a serial link's
 * rate leaves the CPU idle anyway). */
static const uint32_t crc32_nibble[16] = {
  0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
  0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
  0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
  0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

static uint32_t
crc32_raw (uint32_t c, const uint8_t *p, size_t len)
{
  while (len--)
    {
      c ^= *p++;
      c = (c >> 4) ^ crc32_nibble[c & 0x0f];
      c = (c >> 4) ^ crc32_nibble[c & 0x0f];
    }
  return c;
}

#else /* !SP_FRAME_SMALL */

/* Slice-by-8 (Kounavis and Berry, 2005): eight bytes per step, through
 * eight tables. crc32_table[k][n] is the register after byte n followed by
 * k zero bytes, starting from 0. That is linear in n, so every entry is the
 * xor of the entries for the bits set in n, and the preprocessor builds the
 * 8 KiB of const tables from the 8 x 8 single-bit entries below: nothing is
 * computed at run time, nothing is writable.
 *
 * The single-bit entries are successive states of the CRC shift register:
 * with s(0) = 0xedb88320 and s(j + 1) = s(j) >> 1 ^ (s(j) & 1 ? 0xedb88320
 * : 0), crc32_table[k][1 << i] = s(8k + 7 - i). Each row lists the entries
 * for bits 0 to 7; test-frame checks all 2048 entries against a bitwise
 * CRC. */
#define CRC32_BITS(n, b0, b1, b2, b3, b4, b5, b6, b7) \
  ((uint32_t) (((n) & 0x01 ? (b0) : 0) ^ ((n) & 0x02 ? (b1) : 0) ^ \
               ((n) & 0x04 ? (b2) : 0) ^ ((n) & 0x08 ? (b3) : 0) ^ \
               ((n) & 0x10 ? (b4) : 0) ^ ((n) & 0x20 ? (b5) : 0) ^ \
               ((n) & 0x40 ? (b6) : 0) ^ ((n) & 0x80 ? (b7) : 0)))
#define CRC32_T0(n) CRC32_BITS (n, 0x77073096, 0xee0e612c, 0x076dc419, 0x0edb8832, \
                                0x1db71064, 0x3b6e20c8, 0x76dc4190, 0xedb88320)
#define CRC32_T1(n) CRC32_BITS (n, 0x191b3141, 0x32366282, 0x646cc504, 0xc8d98a08, \
                                0x4ac21251, 0x958424a2, 0xf0794f05, 0x3b83984b)
#define CRC32_T2(n) CRC32_BITS (n, 0x01c26a37, 0x0384d46e, 0x0709a8dc, 0x0e1351b8, \
                                0x1c26a370, 0x384d46e0, 0x709a8dc0, 0xe1351b80)
#define CRC32_T3(n) CRC32_BITS (n, 0xb8bc6765, 0xaa09c88b, 0x8f629757, 0xc5b428ef, \
                                0x5019579f, 0xa032af3e, 0x9b14583d, 0xed59b63b)
#define CRC32_T4(n) CRC32_BITS (n, 0x3d6029b0, 0x7ac05360, 0xf580a6c0, 0x30704bc1, \
                                0x60e09782, 0xc1c12f04, 0x58f35849, 0xb1e6b092)
#define CRC32_T5(n) CRC32_BITS (n, 0xcb5cd3a5, 0x4dc8a10b, 0x9b914216, 0xec53826d, \
                                0x03d6029b, 0x07ac0536, 0x0f580a6c, 0x1eb014d8)
#define CRC32_T6(n) CRC32_BITS (n, 0xa6770bb4, 0x979f1129, 0xf44f2413, 0x33ef4e67, \
                                0x67de9cce, 0xcfbd399c, 0x440b7579, 0x8816eaf2)
#define CRC32_T7(n) CRC32_BITS (n, 0xccaa009e, 0x4225077d, 0x844a0efa, 0xd3e51bb5, \
                                0x7cbb312b, 0xf9766256, 0x299dc2ed, 0x533b85da)
#define CRC32_R4(t, n) t (n), t ((n) + 1), t ((n) + 2), t ((n) + 3)
#define CRC32_R16(t, n) \
  CRC32_R4 (t, n), CRC32_R4 (t, (n) + 4), CRC32_R4 (t, (n) + 8), CRC32_R4 (t, (n) + 12)
#define CRC32_R64(t, n) \
  CRC32_R16 (t, n), CRC32_R16 (t, (n) + 16), CRC32_R16 (t, (n) + 32), CRC32_R16 (t, (n) + 48)
#define CRC32_TABLE(t) \
  { CRC32_R64 (t, 0), CRC32_R64 (t, 64), CRC32_R64 (t, 128), CRC32_R64 (t, 192) }

static const uint32_t crc32_table[8][256] = {
  CRC32_TABLE (CRC32_T0), CRC32_TABLE (CRC32_T1),
  CRC32_TABLE (CRC32_T2), CRC32_TABLE (CRC32_T3),
  CRC32_TABLE (CRC32_T4), CRC32_TABLE (CRC32_T5),
  CRC32_TABLE (CRC32_T6), CRC32_TABLE (CRC32_T7),
};

static uint32_t
crc32_raw (uint32_t c, const uint8_t *p, size_t len)
{
  const uint32_t (*t)[256] = crc32_table;

  for (; len >= 8; p += 8, len -= 8)
    {
      /* Assembled from single bytes, little-endian: the same on every
       * host and for any alignment; compilers merge the loads where
       * the target allows it. */
      uint32_t lo = c ^ ((uint32_t) p[0] | (uint32_t) p[1] << 8 |
                         (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24);
      uint32_t hi = (uint32_t) p[4] | (uint32_t) p[5] << 8 |
                    (uint32_t) p[6] << 16 | (uint32_t) p[7] << 24;

      c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^
          t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
          t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
          t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    }
  while (len--)
    c = (c >> 8) ^ t[0][(c ^ *p++) & 0xff];
  return c;
}

#endif /* SP_FRAME_SMALL */

uint32_t
sp_crc32_update (uint32_t crc, const void *data, size_t len)
{
  return ~crc32_raw (~crc, data, len);
}

uint32_t
sp_crc32 (const void *data, size_t len)
{
  return sp_crc32_update (0, data, len);
}

/* COBS encoding ----------------------------------------------------------- */

/* An encoder fed in pieces, so that the CRC trailer is encoded straight
 * after the payload without copying both into one buffer. Runs of non-zero
 * bytes are found with memchr and copied with memcpy. The caller has
 * checked the size of out against the worst case, so there are no bounds
 * checks here. */
typedef struct {
  uint8_t *out;
  size_t pos;        /* next free byte of out */
  size_t code_pos;   /* where the open block's code byte goes */
  size_t run;        /* data bytes in the open block, up to 254 */
} cobs_enc;

static void
cobs_enc_init (cobs_enc *e, uint8_t *out)
{
  e->out = out;
  e->code_pos = 0;
  e->pos = 1;
  e->run = 0;
}

static void
cobs_enc_put (cobs_enc *e, const uint8_t *p, size_t len)
{
  while (len > 0)
    {
      const uint8_t *z;
      size_t k;

      /* A full block (254 bytes) is closed, and its successor opened,
       * only when more data comes: that keeps the encoding minimal. */
      if (e->run == 254)
        {
          e->out[e->code_pos] = 0xff;
          e->code_pos = e->pos++;
          e->run = 0;
        }
      k = len < 254 - e->run ? len : 254 - e->run;
      z = memchr (p, 0, k);
      if (z != NULL)
        k = (size_t) (z - p);
      memcpy (e->out + e->pos, p, k);
      e->pos += k;
      e->run += k;
      p += k;
      len -= k;
      if (z != NULL)
        {
          /* A zero ends the block, and takes the place of the next code
           * byte. The next block opens now, even if no data follows: the
           * decoder needs it to emit the zero. */
          e->out[e->code_pos] = (uint8_t) (e->run + 1);
          e->code_pos = e->pos++;
          e->run = 0;
          p++;
          len--;
        }
    }
}

static size_t
cobs_enc_finish (cobs_enc *e)
{
  e->out[e->code_pos] = (uint8_t) (e->run + 1);
  return e->pos;
}

sp_err
sp_cobs_encode (const uint8_t *in, size_t len,
                uint8_t *out, size_t cap, size_t *out_len)
{
  cobs_enc e;

  /* The first test keeps the size computation from wrapping around. */
  if (len > SIZE_MAX / 2 || cap < SP_COBS_MAX_ENCODED (len))
    return SP_ERR_BUFFER_TOO_SMALL;
  cobs_enc_init (&e, out);
  cobs_enc_put (&e, in, len);
  *out_len = cobs_enc_finish (&e);
  return SP_OK;
}

/* COBS decoding ----------------------------------------------------------- */

/* Decoding is checked completely before anything is written, in passes
 * that each work a block at a time: cobs_check () validates the structure
 * and counts the decoded bytes, stepping from code byte to code byte;
 * cobs_crc () runs the CRC over the decoded bytes straight from the input;
 * cobs_store () writes them out. */

/* Checks that in[0..len) is minimal COBS, and sets *n to the length it
 * decodes to. */
static sp_err
cobs_check (const uint8_t *in, size_t len, size_t *n)
{
  size_t i = 0, m = 0;
  bool full = false;

  /* No 0x00 anywhere: one scan covers code bytes and data bytes. */
  if (len == 0 || memchr (in, 0, len) != NULL)
    return SP_ERR_FRAME_COBS;
  while (i < len)
    {
      uint8_t code = in[i++];

      if ((size_t) (code - 1) > len - i)
        return SP_ERR_FRAME_COBS;
      /* An empty last block after a full one adds nothing; the minimal
       * encoding leaves it out, and accepting it would give one payload
       * two wire forms (see sp-frame.h). */
      if (code == 1 && full && i == len)
        return SP_ERR_FRAME_COBS;
      full = code == 0xff;
      i += code - 1u;
      m += code - 1u;
      /* Every block but a full one stands for a zero after it, except at
       * the very end, where that zero is the one the encoder appended. */
      if (code != 0xff && i < len)
        m++;
    }
  *n = m;
  return SP_OK;
}

/* Where cobs_crc () sends decoded bytes: the first `left` through the CRC,
 * the rest (the four trailer bytes) into `tail`, little-endian. */
typedef struct {
  size_t left;
  uint32_t crc;      /* inverted working form */
  uint32_t tail;
} crc_sink;

static void
crc_sink_put (crc_sink *s, const uint8_t *p, size_t k)
{
  size_t a = k < s->left ? k : s->left;

  s->crc = crc32_raw (s->crc, p, a);
  s->left -= a;
  for (; a < k; a++)
    s->tail = (s->tail >> 8) | (uint32_t) p[a] << 24;
}

/* For checked COBS in[0..len) that decodes to body_len + SP_CRC32_LEN
 * bytes: whether the CRC-32 of the first body_len matches the last four. */
static bool
cobs_crc_ok (const uint8_t *in, size_t len, size_t body_len)
{
  static const uint8_t zero = 0;
  crc_sink s = { body_len, 0xffffffff, 0 };
  size_t i = 0;

  while (i < len)
    {
      uint8_t code = in[i];

      crc_sink_put (&s, in + i + 1, code - 1u);
      i += code;
      if (code != 0xff && i < len)
        crc_sink_put (&s, &zero, 1);
    }
  return ~s.crc == s.tail;
}

/* Writes the first keep bytes that checked COBS in[0..len) decodes to into
 * out, which may be in itself: each block moves down by at least its code
 * byte, so nothing is overwritten before it is read, and memmove takes
 * care of the overlap within a block. */
static void
cobs_store (const uint8_t *in, size_t len, uint8_t *out, size_t keep)
{
  size_t i = 0, o = 0;

  while (i < len && o < keep)
    {
      uint8_t code = in[i];
      size_t k = code - 1u;

      if (k > keep - o)
        k = keep - o;
      memmove (out + o, in + i + 1, k);
      o += k;
      i += code;
      if (code != 0xff && i < len && o < keep)
        out[o++] = 0;
    }
}

sp_err
sp_cobs_decode (const uint8_t *in, size_t len,
                uint8_t *out, size_t cap, size_t *out_len)
{
  size_t n;
  sp_err err;

  err = cobs_check (in, len, &n);   /* even empty data encodes as 0x01 */
  if (err != SP_OK)
    return err;
  if (n > cap)
    return SP_ERR_BUFFER_TOO_SMALL;
  cobs_store (in, len, out, n);
  *out_len = n;
  return SP_OK;
}

/* Frames ------------------------------------------------------------------ */

sp_err
sp_frame_encode (const uint8_t *payload, size_t len,
                 uint8_t *out, size_t cap, size_t *out_len)
{
  uint8_t trailer[SP_CRC32_LEN];
  cobs_enc e;
  uint32_t crc;
  size_t i;

  if (len > SP_FRAME_MAX_PAYLOAD)
    return SP_ERR_FRAME_TOO_LARGE;
  if (cap < SP_FRAME_ENCODED_SIZE (len))
    return SP_ERR_BUFFER_TOO_SMALL;
  crc = sp_crc32 (payload, len);
  for (i = 0; i < SP_CRC32_LEN; i++, crc >>= 8)
    trailer[i] = (uint8_t) crc;
  cobs_enc_init (&e, out);
  cobs_enc_put (&e, payload, len);
  cobs_enc_put (&e, trailer, SP_CRC32_LEN);
  i = cobs_enc_finish (&e);
  out[i++] = SP_FRAME_DELIMITER;
  *out_len = i;
  return SP_OK;
}

sp_err
sp_frame_decode (const uint8_t *frame, size_t len,
                 uint8_t *out, size_t cap, size_t *payload_len)
{
  size_t n, plen;
  sp_err err;

  if (len == 0)
    return SP_ERR_FRAME_EMPTY;
  /* Before any work, so that a flood of junk costs nothing. */
  if (len > SP_DEFRAMER_BUF_MAX)
    return SP_ERR_FRAME_TOO_LARGE;

  /* Checks first: COBS, sizes and CRC, writing nothing. */
  err = cobs_check (frame, len, &n);
  if (err != SP_OK)
    return err;
  if (n < SP_CRC32_LEN)
    return SP_ERR_FRAME_CRC;
  plen = n - SP_CRC32_LEN;
  if (plen > SP_FRAME_MAX_PAYLOAD)
    return SP_ERR_FRAME_TOO_LARGE;
  if (!cobs_crc_ok (frame, len, plen))
    return SP_ERR_FRAME_CRC;
  if (plen > cap)
    return SP_ERR_BUFFER_TOO_SMALL;

  /* Then the payload; this cannot fail now. */
  cobs_store (frame, len, out, plen);
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
