/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-frame.c: COBS, CRC-32, frames and the streaming deframer.
 *
 * Random data comes from GRand with fixed seeds, so that a failure
 * reproduces exactly; the fuzzer is what explores.
 */
#include "config.h"

#include <string.h>
#include <glib.h>

#include "sp-frame.h"

/* Helpers ----------------------------------------------------------------- */

/* Bit at a time, straight from the definition: an independent check of the
 * table-driven implementation. */
static guint32
ref_crc32 (const guint8 *p, gsize len)
{
  guint32 c = 0xffffffff;

  for (gsize i = 0; i < len; i++)
    {
      c ^= p[i];
      for (int k = 0; k < 8; k++)
        c = (c & 1) ? (c >> 1) ^ 0xedb88320 : c >> 1;
    }
  return ~c;
}

static void
fill_random (GRand *rand, guint8 *p, gsize len, gboolean nonzero)
{
  for (gsize i = 0; i < len; i++)
    {
      p[i] = (guint8) g_rand_int_range (rand, nonzero ? 1 : 0, 256);
      /* Plenty of zeros, so that short blocks are exercised too. */
      if (!nonzero && g_rand_int_range (rand, 0, 8) == 0)
        p[i] = 0;
    }
}

static GBytes *
frame_encode (const guint8 *payload, gsize len)
{
  guint8 *out = g_malloc (SP_FRAME_ENCODED_SIZE (len));
  gsize out_len = 0;

  g_assert_cmpint (sp_frame_encode (payload, len, out, SP_FRAME_ENCODED_SIZE (len), &out_len),
                   ==, SP_OK);
  return g_bytes_new_take (out, out_len);
}

/* The minimal COBS length of n non-zero bytes (the worst case for our
 * encoder). */
static gsize
cobs_len_nonzero (gsize n)
{
  return n == 0 ? 1 : n + (n + 253) / 254;
}

static gboolean
crc_has_no_zero (guint32 crc)
{
  return (crc & 0xff) != 0 && (crc & 0xff00) != 0 &&
         (crc & 0xff0000) != 0 && (crc & 0xff000000) != 0;
}

/* Feeds a whole stream to d in chunks (chunk 0: random sizes from rand),
 * checking the push contract, and returns the delivered payloads. */
static GPtrArray *
deframe (sp_deframer *d, const guint8 *data, gsize len, gsize chunk, GRand *rand)
{
  GPtrArray *got = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  while (len > 0)
    {
      gsize n = chunk != 0 ? chunk : (gsize) g_rand_int_range (rand, 1, 80);

      n = MIN (n, len);
      while (n > 0)
        {
          const uint8_t *payload = (const uint8_t *) "sentinel";
          size_t payload_len = 12345;
          size_t used = sp_deframer_push (d, data, n, &payload, &payload_len);

          g_assert_cmpuint (used, >, 0);
          g_assert_cmpuint (used, <=, n);
          if (payload != NULL)
            {
              g_assert_true (payload == d->buf);
              g_assert_cmpuint (payload_len, <=, SP_FRAME_MAX_PAYLOAD);
              /* It stops right after the delimiter that ended the frame. */
              g_assert_cmpint (data[used - 1], ==, 0);
              g_ptr_array_add (got, g_bytes_new (payload, payload_len));
            }
          else
            {
              g_assert_cmpuint (used, ==, n);
              g_assert_cmpuint (payload_len, ==, 0);
            }
          data += used;
          len -= used;
          n -= used;
        }
    }
  return got;
}

static void
assert_bytes_equal (GBytes *b, const guint8 *p, gsize len)
{
  gsize blen;
  const guint8 *bp = g_bytes_get_data (b, &blen);

  g_assert_cmpmem (bp, blen, p, len);
}

static void
assert_stats (const sp_deframer *d, guint frames, guint crc, guint cobs,
              guint oversize, guint empty)
{
  g_assert_cmpuint (d->stats.frames, ==, frames);
  g_assert_cmpuint (d->stats.crc, ==, crc);
  g_assert_cmpuint (d->stats.cobs, ==, cobs);
  g_assert_cmpuint (d->stats.oversize, ==, oversize);
  g_assert_cmpuint (d->stats.empty, ==, empty);
}

/* CRC-32 ------------------------------------------------------------------ */

static void
test_crc32_check (void)
{
  static const struct {
    const char *s;
    guint32 crc;
  } v[] = {
    { "", 0x00000000 },
    { "a", 0xe8b7be43 },
    { "abc", 0x352441c2 },
    { "123456789", 0xcbf43926 },
    { "The quick brown fox jumps over the lazy dog", 0x414fa339 },
  };
  static const guint8 zeros[32] = { 0 };
  guint8 ones[32];

  for (gsize i = 0; i < G_N_ELEMENTS (v); i++)
    g_assert_cmphex (sp_crc32 (v[i].s, strlen (v[i].s)), ==, v[i].crc);
  g_assert_cmphex (sp_crc32 (NULL, 0), ==, 0);
  /* Known values for runs of 0x00 and 0xff (as zlib computes them). */
  g_assert_cmphex (sp_crc32 (zeros, 32), ==, 0x190a55ad);
  memset (ones, 0xff, sizeof ones);
  g_assert_cmphex (sp_crc32 (ones, 32), ==, 0xff6cab0b);
}

static void
test_crc32_incremental (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (1);
  guint8 buf[600];

  fill_random (rand, buf, sizeof buf, FALSE);
  for (gsize len = 0; len <= sizeof buf; len += (len < 40 ? 1 : 37))
    {
      guint32 whole = sp_crc32 (buf, len);

      g_assert_cmphex (whole, ==, ref_crc32 (buf, len));
      for (gsize cut = 0; cut <= len; cut++)
        {
          guint32 c = sp_crc32_update (0, buf, cut);

          g_assert_cmphex (sp_crc32_update (c, buf + cut, len - cut), ==, whole);
        }
    }
}

/* Every entry of the CRC tables (slice-by-8, or the nibble table with
 * SP_FRAME_SMALL): each byte of a short input, at each position within an
 * 8-byte step and each alignment, takes all 256 values. */
static void
test_crc32_tables (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (12);
  guint8 buf[32];

  fill_random (rand, buf, sizeof buf, FALSE);
  for (gsize off = 0; off < 8; off++)
    for (gsize len = 1; len <= 17; len++)
      for (gsize pos = 0; pos < len; pos++)
        {
          guint8 *p = buf + off;
          guint8 saved = p[pos];

          for (guint v = 0; v < 256; v++)
            {
              p[pos] = (guint8) v;
              g_assert_cmphex (sp_crc32 (p, len), ==, ref_crc32 (p, len));
            }
          p[pos] = saved;
        }
}

/* Bare COBS --------------------------------------------------------------- */

/* The examples of the COBS paper and Wikipedia's article. */
static void
test_cobs_vectors (void)
{
  struct vec {
    gsize dlen;
    const guint8 *data;
    gsize elen;
    const guint8 *enc;
  };
  static const guint8 d1[] = { 0x00 }, e1[] = { 0x01, 0x01 };
  static const guint8 d2[] = { 0x00, 0x00 }, e2[] = { 0x01, 0x01, 0x01 };
  static const guint8 d3[] = { 0x00, 0x11, 0x00 }, e3[] = { 0x01, 0x02, 0x11, 0x01 };
  static const guint8 d4[] = { 0x11, 0x22, 0x00, 0x33 }, e4[] = { 0x03, 0x11, 0x22, 0x02, 0x33 };
  static const guint8 d5[] = { 0x11, 0x22, 0x33, 0x44 }, e5[] = { 0x05, 0x11, 0x22, 0x33, 0x44 };
  static const guint8 d6[] = { 0x11, 0x00, 0x00, 0x00 }, e6[] = { 0x02, 0x11, 0x01, 0x01, 0x01 };
  static const guint8 e0[] = { 0x01 };
  const struct vec v[] = {
    { 0, NULL, sizeof e0, e0 },
    { sizeof d1, d1, sizeof e1, e1 },
    { sizeof d2, d2, sizeof e2, e2 },
    { sizeof d3, d3, sizeof e3, e3 },
    { sizeof d4, d4, sizeof e4, e4 },
    { sizeof d5, d5, sizeof e5, e5 },
    { sizeof d6, d6, sizeof e6, e6 },
  };
  guint8 data[300], enc[300], out[300];
  gsize n;

  for (gsize i = 0; i < G_N_ELEMENTS (v); i++)
    {
      g_assert_cmpint (sp_cobs_encode (v[i].data, v[i].dlen, out, sizeof out, &n), ==, SP_OK);
      g_assert_cmpmem (out, n, v[i].enc, v[i].elen);
      g_assert_cmpint (sp_cobs_decode (v[i].enc, v[i].elen, out, sizeof out, &n), ==, SP_OK);
      g_assert_cmpmem (out, n, v[i].data, v[i].dlen);
    }

  /* 01 02 .. FE (254 bytes) -> FF 01 .. FE: one full block, no 0x01 after. */
  for (gsize i = 0; i < 254; i++)
    data[i] = (guint8) (i + 1);
  g_assert_cmpint (sp_cobs_encode (data, 254, enc, sizeof enc, &n), ==, SP_OK);
  g_assert_cmpuint (n, ==, 255);
  g_assert_cmpint (enc[0], ==, 0xff);
  g_assert_cmpmem (enc + 1, 254, data, 254);
  g_assert_cmpint (sp_cobs_decode (enc, n, out, sizeof out, &n), ==, SP_OK);
  g_assert_cmpmem (out, n, data, 254);
  /* The paper's encoder appends 0x01 there: not minimal, refused. */
  enc[255] = 0x01;
  g_assert_cmpint (sp_cobs_decode (enc, 256, out, sizeof out, &n), ==, SP_ERR_FRAME_COBS);

  /* 00 01 .. FE (255 bytes) -> 01 FF 01 .. FE */
  data[0] = 0;
  for (gsize i = 1; i < 255; i++)
    data[i] = (guint8) i;
  g_assert_cmpint (sp_cobs_encode (data, 255, enc, sizeof enc, &n), ==, SP_OK);
  g_assert_cmpuint (n, ==, 256);
  g_assert_cmpint (enc[0], ==, 0x01);
  g_assert_cmpint (enc[1], ==, 0xff);
  g_assert_cmpmem (enc + 2, 254, data + 1, 254);
  g_assert_cmpint (sp_cobs_decode (enc, n, out, sizeof out, &n), ==, SP_OK);
  g_assert_cmpmem (out, n, data, 255);

  /* 01 02 .. FF (255 bytes) -> FF 01 .. FE 02 FF */
  for (gsize i = 0; i < 255; i++)
    data[i] = (guint8) (i + 1);
  g_assert_cmpint (sp_cobs_encode (data, 255, enc, sizeof enc, &n), ==, SP_OK);
  g_assert_cmpuint (n, ==, 257);
  g_assert_cmpint (enc[0], ==, 0xff);
  g_assert_cmpmem (enc + 1, 254, data, 254);
  g_assert_cmpint (enc[255], ==, 0x02);
  g_assert_cmpint (enc[256], ==, 0xff);
  g_assert_cmpint (sp_cobs_decode (enc, n, out, sizeof out, &n), ==, SP_OK);
  g_assert_cmpmem (out, n, data, 255);

  /* 02 03 .. FF 00 (255 bytes) -> FF 02 .. FF 01 01 */
  for (gsize i = 0; i < 254; i++)
    data[i] = (guint8) (i + 2);
  data[254] = 0;
  g_assert_cmpint (sp_cobs_encode (data, 255, enc, sizeof enc, &n), ==, SP_OK);
  g_assert_cmpuint (n, ==, 257);
  g_assert_cmpint (enc[0], ==, 0xff);
  g_assert_cmpmem (enc + 1, 254, data, 254);
  g_assert_cmpint (enc[255], ==, 0x01);
  g_assert_cmpint (enc[256], ==, 0x01);
  g_assert_cmpint (sp_cobs_decode (enc, n, out, sizeof out, &n), ==, SP_OK);
  g_assert_cmpmem (out, n, data, 255);

  /* 03 04 .. FF 00 01 (255 bytes) -> FE 03 .. FF 02 01 */
  for (gsize i = 0; i < 253; i++)
    data[i] = (guint8) (i + 3);
  data[253] = 0;
  data[254] = 1;
  g_assert_cmpint (sp_cobs_encode (data, 255, enc, sizeof enc, &n), ==, SP_OK);
  g_assert_cmpuint (n, ==, 256);
  g_assert_cmpint (enc[0], ==, 0xfe);
  g_assert_cmpmem (enc + 1, 253, data, 253);
  g_assert_cmpint (enc[254], ==, 0x02);
  g_assert_cmpint (enc[255], ==, 0x01);
  g_assert_cmpint (sp_cobs_decode (enc, n, out, sizeof out, &n), ==, SP_OK);
  g_assert_cmpmem (out, n, data, 255);
}

static void
test_cobs_invalid (void)
{
  static const struct {
    gsize len;
    const guint8 enc[6];
  } bad[] = {
    { 1, { 0x00 } },                      /* a zero code byte */
    { 3, { 0x03, 0x11, 0x00 } },          /* a zero data byte */
    { 3, { 0x02, 0x11, 0x00 } },          /* a zero where a code byte goes */
    { 2, { 0x03, 0x11 } },                /* block past the end */
    { 1, { 0x02 } },
    { 4, { 0x02, 0x11, 0x05, 0x22 } },    /* second block past the end */
  };
  guint8 data[300], enc[300], out[300];
  gsize n = 777;

  g_assert_cmpint (sp_cobs_decode (NULL, 0, out, sizeof out, &n), ==, SP_ERR_FRAME_COBS);
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      memset (out, 0xaa, sizeof out);
      g_assert_cmpint (sp_cobs_decode (bad[i].enc, bad[i].len, out, sizeof out, &n),
                       ==, SP_ERR_FRAME_COBS);
      g_assert_cmpuint (n, ==, 777);
      g_assert_cmpint (out[0], ==, 0xaa);   /* written only on success */
    }

  /* 0xff with 253 bytes after it: one short. */
  enc[0] = 0xff;
  memset (enc + 1, 0x42, 253);
  g_assert_cmpint (sp_cobs_decode (enc, 254, out, sizeof out, &n), ==, SP_ERR_FRAME_COBS);
  enc[254] = 0x42;
  g_assert_cmpint (sp_cobs_decode (enc, 255, out, sizeof out, &n), ==, SP_OK);
  g_assert_cmpuint (n, ==, 254);

  /* Output buffers one byte short. */
  memset (data, 0x42, sizeof data);
  g_assert_cmpint (sp_cobs_encode (data, 254, enc, SP_COBS_MAX_ENCODED (254) - 1, &n),
                   ==, SP_ERR_BUFFER_TOO_SMALL);
  g_assert_cmpint (sp_cobs_encode (data, 254, enc, SP_COBS_MAX_ENCODED (254), &n), ==, SP_OK);
  g_assert_cmpint (sp_cobs_encode (data, 0, enc, 0, &n), ==, SP_ERR_BUFFER_TOO_SMALL);
  g_assert_cmpint (sp_cobs_encode (data, G_MAXSIZE - 1, enc, G_MAXSIZE, &n),
                   ==, SP_ERR_BUFFER_TOO_SMALL);
  g_assert_cmpint (sp_cobs_encode (data, 10, enc, sizeof enc, &n), ==, SP_OK);
  g_assert_cmpint (sp_cobs_decode (enc, n, out, 9, &n), ==, SP_ERR_BUFFER_TOO_SMALL);
}

static void
test_cobs_round_trip (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (2);
  guint8 data[1100], enc[SP_COBS_MAX_ENCODED (1100)], out[1100];

  for (gsize len = 0; len <= sizeof data; len++)
    {
      for (int nonzero = 0; nonzero < 2; nonzero++)
        {
          gsize n, m;

          fill_random (rand, data, len, nonzero);
          g_assert_cmpint (sp_cobs_encode (data, len, enc, sizeof enc, &n), ==, SP_OK);
          g_assert_cmpuint (n, <=, SP_COBS_MAX_ENCODED (len));
          /* The macro is the exact worst case. */
          g_assert_cmpuint (cobs_len_nonzero (len), ==, SP_COBS_MAX_ENCODED (len));
          if (nonzero)
            g_assert_cmpuint (n, ==, SP_COBS_MAX_ENCODED (len));
          g_assert_null (memchr (enc, 0, n));
          g_assert_cmpint (sp_cobs_decode (enc, n, out, len, &m), ==, SP_OK);
          g_assert_cmpmem (out, m, data, len);
          /* In place. */
          g_assert_cmpint (sp_cobs_decode (enc, n, enc, n, &m), ==, SP_OK);
          g_assert_cmpmem (enc, m, data, len);
        }
    }
}

/* Frames ------------------------------------------------------------------ */

static void
test_frame_vectors (void)
{
  /* Empty payload: CRC 00000000, COBS of four zeros. */
  static const guint8 f0[] = { 0x01, 0x01, 0x01, 0x01, 0x01, 0x00 };
  /* "123456789" || 26 39 F4 CB: no zero, one block of 13. */
  static const guint8 f1[] = { 0x0e, '1', '2', '3', '4', '5', '6', '7', '8', '9',
                               0x26, 0x39, 0xf4, 0xcb, 0x00 };
  g_autoptr(GBytes) b0 = frame_encode (NULL, 0);
  g_autoptr(GBytes) b1 = frame_encode ((const guint8 *) "123456789", 9);
  guint8 out[16];
  gsize n = 99;

  assert_bytes_equal (b0, f0, sizeof f0);
  assert_bytes_equal (b1, f1, sizeof f1);
  g_assert_cmpint (sp_frame_decode (f0, sizeof f0 - 1, out, 0, &n), ==, SP_OK);
  g_assert_cmpuint (n, ==, 0);
  g_assert_cmpint (sp_frame_decode (f1, sizeof f1 - 1, out, sizeof out, &n), ==, SP_OK);
  g_assert_cmpmem (out, n, "123456789", 9);

  g_assert_cmpuint (SP_FRAME_MAX_ENCODED, ==, 2062);
  g_assert_cmpuint (SP_DEFRAMER_BUF_MAX, ==, 2061);
}

static void
test_frame_round_trip (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  guint8 payload[SP_FRAME_MAX_PAYLOAD + 1];
  guint8 wire[SP_FRAME_MAX_ENCODED + 8];
  guint8 out[SP_FRAME_MAX_PAYLOAD];

  for (gsize len = 0; len <= SP_FRAME_MAX_PAYLOAD; len++)
    {
      for (int nonzero = 0; nonzero < 2; nonzero++)
        {
          gsize n, m, wire_cap = SP_FRAME_ENCODED_SIZE (len);

          fill_random (rand, payload, len, nonzero);
          g_assert_cmpint (sp_frame_encode (payload, len, wire, wire_cap - 1, &n),
                           ==, SP_ERR_BUFFER_TOO_SMALL);
          g_assert_cmpint (sp_frame_encode (payload, len, wire, wire_cap, &n), ==, SP_OK);
          g_assert_cmpuint (n, <=, wire_cap);
          /* One zero, at the end. */
          g_assert_cmpint (wire[n - 1], ==, 0);
          g_assert_null (memchr (wire, 0, n - 1));
          if (nonzero && crc_has_no_zero (sp_crc32 (payload, len)))
            g_assert_cmpuint (n, ==, cobs_len_nonzero (len + SP_CRC32_LEN) + 1);

          g_assert_cmpint (sp_frame_decode (wire, n - 1, out, sizeof out, &m), ==, SP_OK);
          g_assert_cmpmem (out, m, payload, len);
          if (len > 0)
            g_assert_cmpint (sp_frame_decode (wire, n - 1, out, len - 1, &m),
                             ==, SP_ERR_BUFFER_TOO_SMALL);
          g_assert_cmpint (sp_frame_decode (wire, n - 1, out, len, &m), ==, SP_OK);
          g_assert_cmpint (sp_frame_decode (wire, n - 1, wire, n - 1, &m), ==, SP_OK);
          g_assert_cmpmem (wire, m, payload, len);
        }
    }

  /* One byte over the maximum. */
  {
    gsize n = 42;

    g_assert_cmpint (sp_frame_encode (payload, SP_FRAME_MAX_PAYLOAD + 1, wire, sizeof wire, &n),
                     ==, SP_ERR_FRAME_TOO_LARGE);
    g_assert_cmpuint (n, ==, 42);
  }
}

/* Builds COBS (payload || CRC) by hand, for payloads the encoder refuses. */
static gsize
raw_frame (const guint8 *payload, gsize len, guint32 crc, guint8 *out, gsize cap)
{
  g_autofree guint8 *body = g_malloc (len + SP_CRC32_LEN);
  gsize n;

  if (len > 0)
    memcpy (body, payload, len);
  for (int i = 0; i < SP_CRC32_LEN; i++)
    body[len + i] = (guint8) (crc >> (8 * i));
  g_assert_cmpint (sp_cobs_encode (body, len + SP_CRC32_LEN, out, cap, &n), ==, SP_OK);
  return n;
}

/* Non-zero bytes whose CRC-32 has no zero byte either. */
static void
make_nonzero_frame_payload (guint8 *payload, gsize len)
{
  memset (payload, 0x5a, len);
  for (guint8 last = 1; last != 0; last++)
    {
      guint32 crc;

      payload[len - 1] = last;
      crc = sp_crc32 (payload, len);
      if (crc_has_no_zero (crc))
        return;
    }
  g_assert_not_reached ();
}

static void
test_frame_decode_errors (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (4);
  guint8 payload[SP_FRAME_MAX_PAYLOAD + 8];
  guint8 wire[SP_COBS_MAX_ENCODED (SP_FRAME_MAX_PAYLOAD + 8 + SP_CRC32_LEN)];
  guint8 out[SP_FRAME_MAX_PAYLOAD + 8];
  gsize n, m = 4242;

  g_assert_cmpint (sp_frame_decode (wire, 0, out, sizeof out, &m), ==, SP_ERR_FRAME_EMPTY);

  /* Too large before decoding: 2062 bytes of anything. */
  memset (wire, 0x01, sizeof wire);
  g_assert_cmpint (sp_frame_decode (wire, SP_DEFRAMER_BUF_MAX + 1, out, sizeof out, &m),
                   ==, SP_ERR_FRAME_TOO_LARGE);
  /* 2061 bytes of 0x01 are valid COBS for 2060 zeros: a 2056-byte payload
   * (whatever its CRC) is too large. */
  g_assert_cmpint (sp_frame_decode (wire, SP_DEFRAMER_BUF_MAX, out, sizeof out, &m),
                   ==, SP_ERR_FRAME_TOO_LARGE);

  /* Payloads of max + 1 .. max + 4 with a correct CRC still fit in 2061
   * encoded bytes when they hold zeros: refused as too large. */
  for (gsize len = SP_FRAME_MAX_PAYLOAD + 1; len <= SP_FRAME_MAX_PAYLOAD + 4; len++)
    {
      fill_random (rand, payload, len, FALSE);
      /* A zero every 128 bytes: no run reaches a full COBS block, so
       * the frame is exactly one byte longer than payload and CRC. */
      for (gsize i = 0; i < len; i += 128)
        payload[i] = 0;
      n = raw_frame (payload, len, sp_crc32 (payload, len), wire, sizeof wire);
      g_assert_cmpuint (n, <=, SP_DEFRAMER_BUF_MAX);
      g_assert_cmpint (sp_frame_decode (wire, n, out, sizeof out, &m), ==, SP_ERR_FRAME_TOO_LARGE);
    }

  /* The paper's encoder form: payload and CRC a multiple of 254 non-zero
   * bytes, with an extra 0x01 code byte at the end, is refused. */
  for (gsize len = 250; len <= SP_FRAME_MAX_PAYLOAD; len += 254)
    {
      make_nonzero_frame_payload (payload, len);
      n = raw_frame (payload, len, sp_crc32 (payload, len), wire, sizeof wire);
      g_assert_cmpuint (n, ==, cobs_len_nonzero (len + SP_CRC32_LEN));
      g_assert_cmpuint (n, ==, SP_COBS_MAX_ENCODED (len + SP_CRC32_LEN));
      g_assert_cmpint (sp_frame_decode (wire, n, out, sizeof out, &m), ==, SP_OK);
      g_assert_cmpmem (out, m, payload, len);
      wire[n++] = 0x01;
      g_assert_cmpint (sp_frame_decode (wire, n, out, sizeof out, &m), ==, SP_ERR_FRAME_COBS);
    }

  /* The largest frame: a max payload and CRC with no zero at all. */
  make_nonzero_frame_payload (payload, SP_FRAME_MAX_PAYLOAD);
  n = raw_frame (payload, SP_FRAME_MAX_PAYLOAD, sp_crc32 (payload, SP_FRAME_MAX_PAYLOAD),
                 wire, sizeof wire);
  g_assert_cmpuint (n, ==, SP_DEFRAMER_BUF_MAX);
  g_assert_cmpint (sp_frame_decode (wire, n, out, sizeof out, &m), ==, SP_OK);
  g_assert_cmpmem (out, m, payload, SP_FRAME_MAX_PAYLOAD);

  /* A zero inside; a code byte past the end. */
  {
    static const guint8 z[] = { 0x06, 0x11, 0x22, 0x00, 0x44, 0x55 };
    static const guint8 p[] = { 0x07, 0x11, 0x22, 0x33, 0x44, 0x55 };

    m = 4242;
    g_assert_cmpint (sp_frame_decode (z, sizeof z, out, sizeof out, &m), ==, SP_ERR_FRAME_COBS);
    g_assert_cmpint (sp_frame_decode (p, sizeof p, out, sizeof out, &m), ==, SP_ERR_FRAME_COBS);
    g_assert_cmpuint (m, ==, 4242);
  }

  /* Shorter than the CRC: 0, 1, 2 and 3 decoded bytes. */
  {
    static const guint8 s0[] = { 0x01 };
    static const guint8 s1[] = { 0x02, 0x11 };
    static const guint8 s2[] = { 0x01, 0x01 };
    static const guint8 s3[] = { 0x04, 0x11, 0x22, 0x33 };

    g_assert_cmpint (sp_frame_decode (s0, sizeof s0, out, sizeof out, &m), ==, SP_ERR_FRAME_CRC);
    g_assert_cmpint (sp_frame_decode (s1, sizeof s1, out, sizeof out, &m), ==, SP_ERR_FRAME_CRC);
    g_assert_cmpint (sp_frame_decode (s2, sizeof s2, out, sizeof out, &m), ==, SP_ERR_FRAME_CRC);
    g_assert_cmpint (sp_frame_decode (s3, sizeof s3, out, sizeof out, &m), ==, SP_ERR_FRAME_CRC);
  }

  /* A CRC off by one bit in each position; nothing is written. */
  fill_random (rand, payload, 100, FALSE);
  for (int bit = 0; bit < 32; bit++)
    {
      n = raw_frame (payload, 100, sp_crc32 (payload, 100) ^ (1u << bit), wire, sizeof wire);
      memset (out, 0xaa, sizeof out);
      m = 4242;
      g_assert_cmpint (sp_frame_decode (wire, n, out, sizeof out, &m), ==, SP_ERR_FRAME_CRC);
      g_assert_cmpuint (m, ==, 4242);
      g_assert_cmpint (out[0], ==, 0xaa);
    }
}

static const gsize interesting_lengths[] = {
  0, 1, 2, 3, 4, 5, 100, 249, 250, 251, 253, 254, 255, 256, 508, 509,
  SP_FRAME_MAX_PAYLOAD - 1, SP_FRAME_MAX_PAYLOAD,
};

/* Every single-bit flip of every byte of the wire form, delimiter
 * included: a flipped frame is never delivered, neither by the decoder nor
 * by a deframer (a delimiter follows, in case the flip hit the original). */
static void
test_frame_bit_flip (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);

  for (gsize k = 0; k < G_N_ELEMENTS (interesting_lengths); k++)
    {
      gsize len = interesting_lengths[k];
      guint8 payload[SP_FRAME_MAX_PAYLOAD];
      guint8 wire[SP_FRAME_MAX_ENCODED + 1];
      guint8 out[SP_FRAME_MAX_PAYLOAD];
      guint8 rx[SP_DEFRAMER_BUF_MAX];
      g_autoptr(GBytes) frame = NULL;
      const guint8 *f;
      gsize flen, m;

      fill_random (rand, payload, len, k % 2 == 0);
      frame = frame_encode (payload, len);
      f = g_bytes_get_data (frame, &flen);
      for (gsize i = 0; i < flen; i++)
        {
          for (int bit = 0; bit < 8; bit++)
            {
              sp_deframer d;
              g_autoptr(GPtrArray) got = NULL;

              memcpy (wire, f, flen);
              wire[i] ^= (guint8) (1u << bit);
              wire[flen] = 0;
              if (i < flen - 1)
                g_assert_cmpint (sp_frame_decode (wire, flen - 1, out, sizeof out, &m), !=, SP_OK);
              sp_deframer_init (&d, rx, sizeof rx);
              got = deframe (&d, wire, flen + 1, flen + 1, NULL);
              g_assert_cmpuint (got->len, ==, 0);
              g_assert_cmpuint (d.stats.frames, ==, 0);
            }
        }
    }
}

/* Every truncation, from either end, is refused. */
static void
test_frame_truncation (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (6);

  for (gsize k = 0; k < G_N_ELEMENTS (interesting_lengths); k++)
    {
      gsize len = interesting_lengths[k];
      guint8 payload[SP_FRAME_MAX_PAYLOAD];
      guint8 out[SP_FRAME_MAX_PAYLOAD];
      g_autoptr(GBytes) frame = NULL;
      const guint8 *f;
      gsize flen, m;

      fill_random (rand, payload, len, k % 2 == 1);
      frame = frame_encode (payload, len);
      f = g_bytes_get_data (frame, &flen);
      flen--;   /* without the delimiter */
      for (gsize cut = 0; cut < flen; cut++)
        {
          g_assert_cmpint (sp_frame_decode (f, cut, out, sizeof out, &m), !=, SP_OK);
          g_assert_cmpint (sp_frame_decode (f + flen - cut, cut, out, sizeof out, &m), !=, SP_OK);
        }
      g_assert_cmpint (sp_frame_decode (f, flen, out, sizeof out, &m), ==, SP_OK);
    }
}

/* Deframer ---------------------------------------------------------------- */

/* A stream of frames separated by garbage and zero runs, with what the
 * deframer must deliver and count. */
typedef struct {
  GByteArray *wire;
  GPtrArray *payloads;
  guint crc, cobs, oversize, empty;
} stream;

static void
stream_init (stream *s)
{
  s->wire = g_byte_array_new ();
  s->payloads = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  s->crc = s->cobs = s->oversize = s->empty = 0;
}

static void
stream_clear (stream *s)
{
  g_byte_array_unref (s->wire);
  g_ptr_array_unref (s->payloads);
}

static void
stream_add_frame (stream *s, GRand *rand, gsize len)
{
  guint8 payload[SP_FRAME_MAX_PAYLOAD];
  g_autoptr(GBytes) frame = NULL;

  fill_random (rand, payload, len, g_rand_boolean (rand));
  frame = frame_encode (payload, len);
  g_byte_array_append (s->wire, g_bytes_get_data (frame, NULL), (guint) g_bytes_get_size (frame));
  g_ptr_array_add (s->payloads, g_bytes_new (payload, len));
}

static void
stream_add_junk (stream *s, GRand *rand)
{
  static const guint8 cobs_bad[] = { 0x05, 0x11, 0x22, 0x00 };
  static const guint8 short_frame[] = { 0x03, 0x11, 0x22, 0x00 };
  guint8 junk[2 * SP_FRAME_MAX_ENCODED];
  gsize n;

  switch (g_rand_int_range (rand, 0, 5))
    {
    case 0:   /* a code byte past the end */
      g_byte_array_append (s->wire, cobs_bad, sizeof cobs_bad);
      s->cobs++;
      break;
    case 1:   /* too short for a CRC */
      g_byte_array_append (s->wire, short_frame, sizeof short_frame);
      s->crc++;
      break;
    case 2:   /* a frame with one CRC byte wrong */
      {
        guint8 payload[40];
        g_autoptr(GBytes) frame = NULL;
        guint8 *body;

        fill_random (rand, payload, sizeof payload, TRUE);
        frame = frame_encode (payload, sizeof payload);
        /* All non-zero: one block; its last four bytes are the CRC. */
        body = g_bytes_unref_to_data (g_steal_pointer (&frame), &n);
        if (memchr (body, 0, n - 1) == NULL && body[0] == n - 1)
          {
            body[n - 2] = body[n - 2] == 0xff ? 0x01 : (guint8) (body[n - 2] + 1);
            s->crc++;
          }
        else
          {
            /* The CRC holds a zero, so there are several blocks: make the
             * first one run past the end (the body is shorter than 255). */
            body[0] = 0xff;
            s->cobs++;
          }
        g_byte_array_append (s->wire, body, (guint) n);
        g_free (body);
      }
      break;
    case 3:   /* oversize: more non-zero bytes than any frame */
      n = (gsize) g_rand_int_range (rand, SP_DEFRAMER_BUF_MAX + 1, (gint) sizeof junk);
      fill_random (rand, junk, n, TRUE);
      g_byte_array_append (s->wire, junk, (guint) n);
      g_byte_array_append (s->wire, (const guint8 *) "", 1);
      s->oversize++;
      break;
    default:  /* a run of delimiters */
      n = (gsize) g_rand_int_range (rand, 1, 5);
      memset (junk, 0, n);
      g_byte_array_append (s->wire, junk, (guint) n);
      s->empty += (guint) n;
      break;
    }
}

static void
stream_check (const stream *s, gsize chunk, GRand *rand)
{
  guint8 rx[SP_DEFRAMER_BUF_MAX];
  sp_deframer d;
  g_autoptr(GPtrArray) got = NULL;

  sp_deframer_init (&d, rx, sizeof rx);
  got = deframe (&d, s->wire->data, s->wire->len, chunk, rand);
  g_assert_cmpuint (got->len, ==, s->payloads->len);
  for (guint i = 0; i < got->len; i++)
    g_assert_true (g_bytes_equal (got->pdata[i], s->payloads->pdata[i]));
  assert_stats (&d, s->payloads->len, s->crc, s->cobs, s->oversize, s->empty);
}

static void
test_deframer_stream (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  stream s;

  stream_init (&s);
  for (int i = 0; i < 150; i++)
    {
      if (g_rand_boolean (rand))
        stream_add_junk (&s, rand);
      if (i % 10 == 0)
        stream_add_frame (&s, rand, interesting_lengths[(i / 10) % G_N_ELEMENTS (interesting_lengths)]);
      else
        stream_add_frame (&s, rand, (gsize) g_rand_int_range (rand, 0, SP_FRAME_MAX_PAYLOAD + 1));
    }
  stream_check (&s, 1, NULL);
  stream_check (&s, s.wire->len, NULL);
  for (int i = 0; i < 20; i++)
    stream_check (&s, 0, rand);
  stream_clear (&s);
}

static void
test_deframer_back_to_back (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (8);
  stream s;

  /* Many frames in one chunk: one per push, none lost. */
  stream_init (&s);
  for (int i = 0; i < 50; i++)
    stream_add_frame (&s, rand, (gsize) i);
  stream_check (&s, s.wire->len, NULL);
  stream_check (&s, 1, NULL);
  stream_clear (&s);
}

static void
test_deframer_garbage_first (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (9);
  stream s;
  guint8 junk[100];

  /* Line noise when the port opens, then a delimiter and frames. */
  stream_init (&s);
  fill_random (rand, junk, sizeof junk, TRUE);
  junk[0] = 0xff;   /* a block that runs past the noise: a COBS error */
  g_byte_array_append (s.wire, junk, sizeof junk);
  g_byte_array_append (s.wire, (const guint8 *) "", 1);
  s.cobs++;
  stream_add_frame (&s, rand, 10);
  stream_add_frame (&s, rand, 0);
  stream_check (&s, 1, NULL);
  stream_check (&s, 7, NULL);
  stream_clear (&s);

  /* A clean line with no leading delimiter: the first frame counts. */
  stream_init (&s);
  stream_add_frame (&s, rand, 33);
  stream_check (&s, 1, NULL);
  stream_clear (&s);
}

static void
test_deframer_flush (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (10);
  guint8 payload[200], rx[SP_DEFRAMER_BUF_MAX];
  g_autoptr(GBytes) a = NULL;
  g_autoptr(GBytes) b = NULL;
  g_autoptr(GPtrArray) got = NULL;
  g_autoptr(GByteArray) wire = g_byte_array_new ();
  sp_deframer d;

  fill_random (rand, payload, sizeof payload, FALSE);
  a = frame_encode (payload, 150);
  b = frame_encode (payload + 50, 150);
  /* Half of a, then the sender's flush: 0x00, then b. The half frame is
   * dropped as one bad frame (which counter depends on where it was cut),
   * b arrives intact. */
  g_byte_array_append (wire, g_bytes_get_data (a, NULL), 80);
  g_byte_array_append (wire, (const guint8 *) "", 1);
  g_byte_array_append (wire, g_bytes_get_data (b, NULL), (guint) g_bytes_get_size (b));
  sp_deframer_init (&d, rx, sizeof rx);
  got = deframe (&d, wire->data, wire->len, 0, rand);
  g_assert_cmpuint (got->len, ==, 1);
  assert_bytes_equal (got->pdata[0], payload + 50, 150);
  g_assert_cmpuint (d.stats.frames, ==, 1);
  g_assert_cmpuint (d.stats.crc + d.stats.cobs, ==, 1);
  g_assert_cmpuint (d.stats.empty + d.stats.oversize, ==, 0);

  /* The same flush on an idle line is an empty frame, not an error. */
  g_ptr_array_unref (g_steal_pointer (&got));
  g_byte_array_set_size (wire, 0);
  g_byte_array_append (wire, (const guint8 *) "", 1);
  g_byte_array_append (wire, g_bytes_get_data (b, NULL), (guint) g_bytes_get_size (b));
  sp_deframer_init (&d, rx, sizeof rx);
  got = deframe (&d, wire->data, wire->len, 1, NULL);
  g_assert_cmpuint (got->len, ==, 1);
  assert_stats (&d, 1, 0, 0, 0, 1);

  /* reset does the same without a byte on the wire, and counts nothing. */
  g_ptr_array_unref (g_steal_pointer (&got));
  sp_deframer_init (&d, rx, sizeof rx);
  got = deframe (&d, g_bytes_get_data (a, NULL), 80, 1, NULL);
  sp_deframer_reset (&d);
  g_ptr_array_unref (g_steal_pointer (&got));
  got = deframe (&d, g_bytes_get_data (b, NULL), g_bytes_get_size (b), 1, NULL);
  g_assert_cmpuint (got->len, ==, 1);
  assert_stats (&d, 1, 0, 0, 0, 0);
}

static void
test_deframer_oversize (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  guint8 junk[5000], payload[SP_FRAME_MAX_PAYLOAD], rx[SP_DEFRAMER_BUF_MAX + 100];
  g_autoptr(GBytes) good = NULL;
  g_autoptr(GBytes) small = NULL;
  const guint8 *g;
  gsize glen;
  sp_deframer d;

  fill_random (rand, payload, sizeof payload, TRUE);
  good = frame_encode (payload, SP_FRAME_MAX_PAYLOAD);
  g = g_bytes_get_data (good, &glen);
  fill_random (rand, junk, sizeof junk, TRUE);

  /* Exactly one byte too long, far too long, then a maximal valid frame:
   * it is still received. A larger buffer changes nothing. */
  for (gsize over = SP_DEFRAMER_BUF_MAX + 1; over < sizeof junk; over += 1500)
    {
      for (gsize chunk = 1; chunk <= 4096; chunk *= 8)
        {
          g_autoptr(GByteArray) wire = g_byte_array_new ();
          g_autoptr(GPtrArray) got = NULL;

          sp_deframer_init (&d, rx, sizeof rx);
          g_byte_array_append (wire, junk, (guint) over);
          g_byte_array_append (wire, (const guint8 *) "", 1);
          g_byte_array_append (wire, g, (guint) glen);
          got = deframe (&d, wire->data, wire->len, chunk, NULL);
          g_assert_cmpuint (got->len, ==, 1);
          assert_bytes_equal (got->pdata[0], payload, SP_FRAME_MAX_PAYLOAD);
          assert_stats (&d, 1, 0, 0, 1, 0);
        }
    }

  /* A small buffer (payloads up to 16 bytes): longer frames are oversize,
   * the short ones after them arrive. */
  {
    guint8 rx16[SP_DEFRAMER_BUF_SIZE (16)];
    g_autoptr(GByteArray) wire = g_byte_array_new ();
    g_autoptr(GPtrArray) got = NULL;

    small = frame_encode (payload, 16);
    g_byte_array_append (wire, g, (guint) glen);
    g_byte_array_append (wire, g_bytes_get_data (small, NULL), (guint) g_bytes_get_size (small));
    g_byte_array_append (wire, g, (guint) glen);
    g_byte_array_append (wire, g_bytes_get_data (small, NULL), (guint) g_bytes_get_size (small));
    sp_deframer_init (&d, rx16, sizeof rx16);
    got = deframe (&d, wire->data, wire->len, 0, rand);
    g_assert_cmpuint (got->len, ==, 2);
    assert_bytes_equal (got->pdata[0], payload, 16);
    assert_bytes_equal (got->pdata[1], payload, 16);
    assert_stats (&d, 2, 0, 0, 2, 0);
  }
}

/* A frame that fits the buffer but decodes to more than the maximum
 * payload, with a correct CRC: oversize, and the next frame arrives. */
static void
test_deframer_decoded_oversize (void)
{
  guint8 payload[SP_FRAME_MAX_PAYLOAD + 1] = { 0 };
  guint8 wire[SP_DEFRAMER_BUF_MAX + 16], rx[SP_DEFRAMER_BUF_MAX];
  g_autoptr(GBytes) good = frame_encode ((const guint8 *) "hello", 5);
  g_autoptr(GByteArray) stream_bytes = g_byte_array_new ();
  g_autoptr(GPtrArray) got = NULL;
  sp_deframer d;
  gsize n;

  n = raw_frame (payload, sizeof payload, sp_crc32 (payload, sizeof payload), wire, sizeof wire);
  g_assert_cmpuint (n, <=, SP_DEFRAMER_BUF_MAX);
  g_byte_array_append (stream_bytes, wire, (guint) n);
  g_byte_array_append (stream_bytes, (const guint8 *) "", 1);
  g_byte_array_append (stream_bytes, g_bytes_get_data (good, NULL), (guint) g_bytes_get_size (good));
  sp_deframer_init (&d, rx, sizeof rx);
  got = deframe (&d, stream_bytes->data, stream_bytes->len, 3, NULL);
  g_assert_cmpuint (got->len, ==, 1);
  assert_bytes_equal (got->pdata[0], (const guint8 *) "hello", 5);
  assert_stats (&d, 1, 0, 0, 1, 0);
}

/* The delivered view stays put until the next push, even when the rest of
 * the chunk holds another frame. */
static void
test_deframer_view (void)
{
  g_autoptr(GBytes) a = frame_encode ((const guint8 *) "first", 5);
  g_autoptr(GBytes) b = frame_encode ((const guint8 *) "second!", 7);
  g_autoptr(GByteArray) wire = g_byte_array_new ();
  guint8 rx[SP_DEFRAMER_BUF_MAX];
  const uint8_t *p = NULL;
  size_t plen = 0, used;
  sp_deframer d;

  g_byte_array_append (wire, g_bytes_get_data (a, NULL), (guint) g_bytes_get_size (a));
  g_byte_array_append (wire, g_bytes_get_data (b, NULL), (guint) g_bytes_get_size (b));
  sp_deframer_init (&d, rx, sizeof rx);
  used = sp_deframer_push (&d, wire->data, wire->len, &p, &plen);
  g_assert_cmpuint (used, ==, g_bytes_get_size (a));
  g_assert_cmpmem (p, plen, "first", 5);
  used += sp_deframer_push (&d, wire->data + used, wire->len - used, &p, &plen);
  g_assert_cmpuint (used, ==, wire->len);
  g_assert_cmpmem (p, plen, "second!", 7);
  used = sp_deframer_push (&d, wire->data, 0, &p, &plen);
  g_assert_cmpuint (used, ==, 0);
  g_assert_null (p);
  assert_stats (&d, 2, 0, 0, 0, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signet/frame/crc32/check", test_crc32_check);
  g_test_add_func ("/signet/frame/crc32/incremental", test_crc32_incremental);
  g_test_add_func ("/signet/frame/crc32/tables", test_crc32_tables);
  g_test_add_func ("/signet/frame/cobs/vectors", test_cobs_vectors);
  g_test_add_func ("/signet/frame/cobs/invalid", test_cobs_invalid);
  g_test_add_func ("/signet/frame/cobs/round-trip", test_cobs_round_trip);
  g_test_add_func ("/signet/frame/encode/vectors", test_frame_vectors);
  g_test_add_func ("/signet/frame/round-trip", test_frame_round_trip);
  g_test_add_func ("/signet/frame/decode/errors", test_frame_decode_errors);
  g_test_add_func ("/signet/frame/decode/bit-flip", test_frame_bit_flip);
  g_test_add_func ("/signet/frame/decode/truncation", test_frame_truncation);
  g_test_add_func ("/signet/frame/deframer/stream", test_deframer_stream);
  g_test_add_func ("/signet/frame/deframer/back-to-back", test_deframer_back_to_back);
  g_test_add_func ("/signet/frame/deframer/garbage-first", test_deframer_garbage_first);
  g_test_add_func ("/signet/frame/deframer/flush", test_deframer_flush);
  g_test_add_func ("/signet/frame/deframer/oversize", test_deframer_oversize);
  g_test_add_func ("/signet/frame/deframer/decoded-oversize", test_deframer_decoded_oversize);
  g_test_add_func ("/signet/frame/deframer/view", test_deframer_view);

  return g_test_run ();
}
