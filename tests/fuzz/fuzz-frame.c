/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-frame.c: libFuzzer harness for sp-frame (COBS, CRC-32, deframer).
 *
 * The first input byte picks a mode and some knobs; the rest is the data:
 *
 *  (a) & 3 == 0: a raw byte stream, pushed into a deframer in chunks;
 *  (b) & 3 == 1: a payload, encoded and decoded back; and the same bytes
 *      as a bare COBS input;
 *  (c) & 3 >= 2: a script that builds a stream of frames with CORRECT
 *      CRCs (then maybe mutated, truncated, padded or made non-minimal),
 *      garbage and delimiters, so that the code behind the CRC check is
 *      reachable: random bytes almost never carry a valid CRC-32.
 *
 * Every stream is checked against a reference model written here, in a
 * different style from sp-frame.c: a bitwise CRC, a textbook COBS, and
 * "minimal" defined as "decodes, and re-encodes to the same bytes". Any
 * disagreement abort()s. Standard C only: this also links with replay.c
 * under gcc.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp-frame.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort (); } while (0)

#define STREAM_MAX 65536
#define FRAMES_MAX (STREAM_MAX / 2)

/* Reference model --------------------------------------------------------- */

static uint32_t
ref_crc32 (const uint8_t *p, size_t len)
{
  uint32_t c = 0xffffffff;
  size_t i;
  int k;

  for (i = 0; i < len; i++)
    {
      c ^= p[i];
      for (k = 0; k < 8; k++)
        c = (c >> 1) ^ (0xedb88320 & (0u - (c & 1)));
    }
  return ~c;
}

/* Minimal COBS: split at zeros, then each piece into runs of 254. Returns
 * the length; out must hold len + len / 254 + 1 bytes. */
static size_t
ref_cobs_encode (const uint8_t *in, size_t len, uint8_t *out)
{
  size_t o = 0, start = 0;

  for (;;)
    {
      size_t end = start;
      size_t run;

      while (end < len && in[end] != 0 && end - start < 254)
        end++;
      run = end - start;
      out[o++] = (uint8_t) (run + 1);
      memcpy (out + o, in + start, run);
      o += run;
      if (end == len)
        break;           /* the zero after the data is implicit */
      if (run == 254)
        start = end;     /* a full block implies no zero */
      else
        start = end + 1; /* in[end] is the zero this block implies */
    }
  return o;
}

/* Lenient textbook decoding; 0 on success, -1 if not COBS at all. */
static int
ref_cobs_decode_lenient (const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
  size_t i = 0, o = 0;

  if (len == 0)
    return -1;
  while (i < len)
    {
      size_t code = in[i], j;

      if (code == 0 || i + code > len)
        return -1;
      for (j = 1; j < code; j++)
        {
          if (in[i + j] == 0)
            return -1;
          out[o++] = in[i + j];
        }
      i += code;
      if (code < 0xff && i < len)
        out[o++] = 0;
    }
  *out_len = o;
  return 0;
}

static uint8_t ref_tmp[STREAM_MAX + STREAM_MAX / 254 + 8];
static uint8_t enc_ref[STREAM_MAX + STREAM_MAX / 254 + 8];
static uint8_t body[STREAM_MAX];

/* Strict decoding: the minimal form only. */
static int
ref_cobs_decode (const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
  size_t n;

  if (ref_cobs_decode_lenient (in, len, out, out_len) != 0)
    return -1;
  n = ref_cobs_encode (out, *out_len, ref_tmp);
  return n == len && memcmp (ref_tmp, in, len) == 0 ? 0 : -1;
}

/* What a deframer must deliver and count for a stream. */
typedef struct {
  uint8_t payloads[STREAM_MAX];
  size_t off[FRAMES_MAX];
  size_t len[FRAMES_MAX];
  size_t n;
  sp_deframer_stats st;
} model;

static model expect;
static uint8_t dec[STREAM_MAX];

/* One segment between delimiters; also checks sp_frame_decode and
 * sp_cobs_decode on it, each from an exact-size copy so that ASan sees
 * any read past the end. */
static void
model_segment (model *m, const uint8_t *seg, size_t len, size_t cap)
{
  uint8_t *copy;
  uint8_t *out;
  size_t n = 0, plen = 0, got_len = (size_t) -1;
  sp_err want = SP_OK, got;
  int cobs_ok;

  if (len == 0)
    want = SP_ERR_FRAME_EMPTY;
  cobs_ok = len > 0 && ref_cobs_decode (seg, len, dec, &n) == 0;

  if (len > 0 && len <= SP_DEFRAMER_BUF_MAX)
    {
      if (!cobs_ok)
        want = SP_ERR_FRAME_COBS;
      else if (n < SP_CRC32_LEN)
        want = SP_ERR_FRAME_CRC;
      else if ((plen = n - SP_CRC32_LEN) > SP_FRAME_MAX_PAYLOAD)
        want = SP_ERR_FRAME_TOO_LARGE;
      else if (ref_crc32 (dec, plen) != ((uint32_t) dec[plen] |
                                         (uint32_t) dec[plen + 1] << 8 |
                                         (uint32_t) dec[plen + 2] << 16 |
                                         (uint32_t) dec[plen + 3] << 24))
        want = SP_ERR_FRAME_CRC;
    }
  else if (len > SP_DEFRAMER_BUF_MAX)
    want = SP_ERR_FRAME_TOO_LARGE;

  /* sp_frame_decode, from and into exact-size heap buffers. */
  copy = malloc (len ? len : 1);
  out = malloc (plen ? plen : 1);
  CHECK (copy != NULL && out != NULL);
  memcpy (copy, seg, len);
  got = sp_frame_decode (copy, len, out, plen, &got_len);
  CHECK (got == want);
  if (want == SP_OK)
    {
      CHECK (got_len == plen);
      CHECK (memcmp (out, dec, plen) == 0);
      if (plen > 0)
        CHECK (sp_frame_decode (copy, len, out, plen - 1, &got_len) == SP_ERR_BUFFER_TOO_SMALL);
      /* In place. */
      CHECK (sp_frame_decode (copy, len, copy, len, &got_len) == SP_OK);
      CHECK (got_len == plen && memcmp (copy, dec, plen) == 0);
      memcpy (copy, seg, len);
    }
  else
    CHECK (got_len == (size_t) -1);   /* nothing written on failure */

  /* Bare COBS agrees with the reference too. */
  if (len > 0)
    {
      free (out);
      out = malloc (n ? n : 1);
      CHECK (out != NULL);
      got_len = (size_t) -1;
      got = sp_cobs_decode (copy, len, out, n, &got_len);
      if (cobs_ok)
        CHECK (got == SP_OK && got_len == n && memcmp (out, dec, n) == 0);
      else
        CHECK (got == SP_ERR_FRAME_COBS && got_len == (size_t) -1);
    }
  else
    CHECK (sp_cobs_decode (copy, 0, out, 0, &got_len) == SP_ERR_FRAME_COBS);
  free (copy);
  free (out);

  /* What the deframer makes of it, given its buffer. */
  if (len == 0)
    m->st.empty++;
  else if (len > cap)
    m->st.oversize++;
  else if (want == SP_ERR_FRAME_COBS)
    m->st.cobs++;
  else if (want == SP_ERR_FRAME_CRC)
    m->st.crc++;
  else if (want == SP_ERR_FRAME_TOO_LARGE)
    m->st.oversize++;
  else
    {
      size_t off = m->n == 0 ? 0 : m->off[m->n - 1] + m->len[m->n - 1];

      CHECK (m->n < FRAMES_MAX && off + plen <= STREAM_MAX);
      memcpy (m->payloads + off, dec, plen);
      m->off[m->n] = off;
      m->len[m->n] = plen;
      m->n++;
      m->st.frames++;
    }
}

/* Stream check ------------------------------------------------------------ */

static uint32_t
xorshift (uint32_t *s)
{
  uint32_t x = *s;

  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}

static const size_t caps[8] = {
  SP_DEFRAMER_BUF_MAX, SP_DEFRAMER_BUF_MAX, SP_DEFRAMER_BUF_MAX + 500,
  SP_DEFRAMER_BUF_MAX - 1, SP_DEFRAMER_BUF_SIZE (16), 5, 1, 300,
};

/* The frame that ends at s[delim] carries exactly payload[0..len). */
static void
check_reframe (const uint8_t *s, size_t delim, const uint8_t *payload, size_t len)
{
  size_t start = delim, n;
  uint32_t crc = ref_crc32 (payload, len);

  while (start > 0 && s[start - 1] != 0)
    start--;
  memcpy (body, payload, len);
  body[len] = (uint8_t) crc;
  body[len + 1] = (uint8_t) (crc >> 8);
  body[len + 2] = (uint8_t) (crc >> 16);
  body[len + 3] = (uint8_t) (crc >> 24);
  n = ref_cobs_encode (body, len + SP_CRC32_LEN, enc_ref);
  CHECK (n == delim - start && memcmp (enc_ref, s + start, n) == 0);
}

/* Pushes s[0..len) into a deframer over an exact-size heap buffer, in
 * chunks picked by knob, and compares everything with the model. */
static void
check_stream (const uint8_t *s, size_t len, uint8_t knob)
{
  size_t cap = caps[knob & 7];
  size_t eff_cap = cap < SP_DEFRAMER_BUF_MAX ? cap : SP_DEFRAMER_BUF_MAX;
  unsigned chunking = (knob >> 3) & 3;
  uint32_t rng = 0x9e3779b9u ^ knob ^ (uint32_t) len;
  uint8_t *buf = malloc (cap);
  const uint8_t *s0 = s;
  size_t i, start = 0, next = 0;
  sp_deframer d;

  CHECK (buf != NULL);
  memset (&expect.st, 0, sizeof expect.st);
  expect.n = 0;
  for (i = 0; i < len; i++)
    if (s[i] == 0)
      {
        model_segment (&expect, s + start, i - start, eff_cap);
        start = i + 1;
      }

  sp_deframer_init (&d, buf, cap);
  while (len > 0)
    {
      size_t chunk;

      switch (chunking)
        {
        case 0: chunk = 1; break;
        case 1: chunk = len; break;
        case 2: chunk = 1 + xorshift (&rng) % 16; break;
        default: chunk = 1 + xorshift (&rng) % 700; break;
        }
      if (chunk > len)
        chunk = len;
      while (chunk > 0)
        {
          const uint8_t *p = s;
          size_t plen = 1;
          size_t used = sp_deframer_push (&d, s, chunk, &p, &plen);

          CHECK (used >= 1 && used <= chunk);
          if (p != NULL)
            {
              CHECK (s[used - 1] == 0);
              CHECK (p == buf && plen <= SP_FRAME_MAX_PAYLOAD);
              CHECK (next < expect.n);
              CHECK (plen == expect.len[next]);
              CHECK (memcmp (p, expect.payloads + expect.off[next], plen) == 0);
              /* Independently of the model: framing what was delivered,
               * with its CRC, gives back the bytes on the wire. */
              check_reframe (s0, (size_t) (s - s0) + used - 1, p, plen);
              next++;
            }
          else
            CHECK (used == chunk && plen == 0);
          s += used;
          len -= used;
          chunk -= used;
        }
    }
  CHECK (next == expect.n);
  CHECK (d.stats.frames == expect.st.frames);
  CHECK (d.stats.crc == expect.st.crc);
  CHECK (d.stats.cobs == expect.st.cobs);
  CHECK (d.stats.oversize == expect.st.oversize);
  CHECK (d.stats.empty == expect.st.empty);
  free (buf);
}

/* Mode (b): encode and decode ---------------------------------------------- */


static void
round_trip (const uint8_t *data, size_t size)
{
  size_t len = size > SP_FRAME_MAX_PAYLOAD ? SP_FRAME_MAX_PAYLOAD : size;
  size_t cap = SP_FRAME_ENCODED_SIZE (len);
  uint8_t *wire = malloc (cap);
  uint8_t *out = malloc (len ? len : 1);
  uint8_t *cobs;
  size_t n = 0, m = 0, r;
  uint32_t crc = ref_crc32 (data, len);

  CHECK (wire != NULL && out != NULL);
  if (size > SP_FRAME_MAX_PAYLOAD)
    CHECK (sp_frame_encode (data, size, wire, cap, &n) == SP_ERR_FRAME_TOO_LARGE);
  CHECK (sp_crc32 (data, len) == crc);
  CHECK (sp_crc32_update (sp_crc32 (data, len / 3), data + len / 3, len - len / 3) == crc);
  CHECK (sp_frame_encode (data, len, wire, cap - 1, &n) == SP_ERR_BUFFER_TOO_SMALL);
  CHECK (sp_frame_encode (data, len, wire, cap, &n) == SP_OK);

  /* The same bytes as the reference encoder makes of payload || CRC. */
  memcpy (body, data, len);
  body[len] = (uint8_t) crc;
  body[len + 1] = (uint8_t) (crc >> 8);
  body[len + 2] = (uint8_t) (crc >> 16);
  body[len + 3] = (uint8_t) (crc >> 24);
  r = ref_cobs_encode (body, len + SP_CRC32_LEN, enc_ref);
  CHECK (n == r + 1 && n <= cap);
  CHECK (memcmp (wire, enc_ref, r) == 0 && wire[r] == 0);

  CHECK (sp_frame_decode (wire, n - 1, out, len, &m) == SP_OK);
  CHECK (m == len && memcmp (out, data, len) == 0);
  free (wire);
  free (out);

  /* Bare COBS of the whole input, with an exact-size output buffer. */
  cap = SP_COBS_MAX_ENCODED (size);
  cobs = malloc (cap);
  CHECK (cobs != NULL);
  CHECK (sp_cobs_encode (data, size, cobs, cap - 1, &n) == SP_ERR_BUFFER_TOO_SMALL);
  CHECK (sp_cobs_encode (data, size, cobs, cap, &n) == SP_OK);
  r = ref_cobs_encode (data, size, enc_ref);
  CHECK (n == r && memcmp (cobs, enc_ref, n) == 0);
  out = malloc (size ? size : 1);
  CHECK (out != NULL);
  CHECK (sp_cobs_decode (cobs, n, out, size, &m) == SP_OK);
  CHECK (m == size && memcmp (out, data, size) == 0);
  free (out);
  free (cobs);

  /* The raw input as a COBS body, zeros and all, against the reference. */
  n = 0;
  if (size > 0 && ref_cobs_decode (data, size, dec, &n) == 0)
    {
      out = malloc (n ? n : 1);
      CHECK (out != NULL);
      if (n > 0)
        CHECK (sp_cobs_decode (data, size, out, n - 1, &m) == SP_ERR_BUFFER_TOO_SMALL);
      CHECK (sp_cobs_decode (data, size, out, n, &m) == SP_OK);
      CHECK (m == n && memcmp (out, dec, n) == 0);
      free (out);
    }
  else
    CHECK (sp_cobs_decode (data, size, dec, sizeof dec, &m) == SP_ERR_FRAME_COBS);
}

/* Mode (c): a script of frames with correct CRCs ------------------------- */

static uint8_t stream[STREAM_MAX];
#define SCRIPT_PAYLOAD_MAX (SP_FRAME_MAX_PAYLOAD + 100)
static uint8_t payload[SCRIPT_PAYLOAD_MAX + SP_CRC32_LEN];
static uint8_t frame_body[SP_COBS_MAX_ENCODED (SCRIPT_PAYLOAD_MAX + SP_CRC32_LEN) + 1];

typedef struct {
  const uint8_t *p;
  size_t left;
} cursor;

static uint8_t
next_byte (cursor *c)
{
  if (c->left == 0)
    return 0;
  c->left--;
  return *c->p++;
}

/* Two calls in one expression would be unsequenced: gcc and clang would
 * read a corpus file differently. */
static size_t
next_u16 (cursor *c)
{
  size_t hi = next_byte (c);

  return hi << 8 | next_byte (c);
}

static int
append (size_t *len, const uint8_t *p, size_t n)
{
  if (n > STREAM_MAX - *len)
    return -1;
  memcpy (stream + *len, p, n);
  *len += n;
  return 0;
}

static void
scripted (const uint8_t *data, size_t size, uint8_t knob)
{
  cursor c = { data, size };
  size_t len = 0;
  static const uint8_t zero = 0;

  while (c.left > 0)
    {
      uint8_t tag = next_byte (&c);
      size_t n, plen = 0, blen;
      uint8_t flags;
      uint32_t crc;

      switch (tag & 3)
        {
        case 0:   /* raw bytes, zeros and all */
          n = next_byte (&c);
          if (n > c.left)
            n = c.left;
          if (append (&len, c.p, n) != 0)
            goto done;
          c.p += n;
          c.left -= n;
          continue;
        case 3:   /* a run of delimiters */
          n = 1 + (tag >> 2) % 4;
          while (n-- > 0)
            if (append (&len, &zero, 1) != 0)
              goto done;
          continue;
        case 1:   /* a payload from the input */
          plen = next_byte (&c) + 256u * ((tag >> 2) & 3);
          if (plen > c.left)
            plen = c.left;
          memcpy (payload, c.p, plen);
          c.p += plen;
          c.left -= plen;
          break;
        default:  /* a generated payload, up to past the maximum */
          {
            uint32_t seed;

            plen = next_u16 (&c) % (SCRIPT_PAYLOAD_MAX + 1);
            seed = next_byte (&c);
            for (n = 0; n < plen; n++)
              {
                if (tag & 4)
                  payload[n] = (uint8_t) seed;        /* a constant: 0x00 or long blocks */
                else
                  {
                    seed = seed * 1103515245u + 12345u;
                    payload[n] = (uint8_t) (seed >> 16);
                  }
              }
          }
          break;
        }

      /* Frame it with a correct CRC, by the reference encoder. */
      crc = ref_crc32 (payload, plen);
      payload[plen] = (uint8_t) crc;
      payload[plen + 1] = (uint8_t) (crc >> 8);
      payload[plen + 2] = (uint8_t) (crc >> 16);
      payload[plen + 3] = (uint8_t) (crc >> 24);
      blen = ref_cobs_encode (payload, plen + SP_CRC32_LEN, frame_body);

      flags = next_byte (&c);
      if (flags & 1)        /* corrupt one byte */
        {
          size_t at = next_u16 (&c) % blen;
          uint8_t x = next_byte (&c);

          frame_body[at] ^= x ? x : 0x01;
        }
      if (flags & 2)        /* cut the end off */
        blen -= (size_t) next_byte (&c) % (blen + 1);
      if (flags & 4)        /* the paper encoder's extra code byte */
        frame_body[blen++] = 0x01;
      if (flags & 8)        /* the sender's flush */
        if (append (&len, &zero, 1) != 0)
          goto done;
      if (append (&len, frame_body, blen) != 0)
        goto done;
      if (!(flags & 16))    /* flag 16: no delimiter, runs into the next */
        if (append (&len, &zero, 1) != 0)
          goto done;
    }
done:
  check_stream (stream, len, knob);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  uint8_t knob;

  if (size == 0)
    return 0;
  knob = data[0];
  data++;
  size--;
  switch (knob & 3)
    {
    case 0:
      if (size > STREAM_MAX)
        size = STREAM_MAX;
      check_stream (data, size, (uint8_t) (knob >> 2));
      break;
    case 1:
      round_trip (data, size > STREAM_MAX ? STREAM_MAX : size);
      break;
    default:
      scripted (data, size, (uint8_t) (knob >> 2));
      break;
    }
  return 0;
}
