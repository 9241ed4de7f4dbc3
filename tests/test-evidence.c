/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-evidence.c: attestation evidence (proto/sp-evidence.h): the round
 * trip, the exact bytes, and the ways evidence must be refused -- wrong
 * key, bit flips, truncation, no tag, another content type, a kid that is
 * not the serial, an extra header, and a payload with a missing, unknown,
 * mistyped, mis-sized, unsorted or non-shortest member.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "signet-crypto-port.h"
#include "sp-evidence.h"

#define assert_err(expr, want)                                          \
  G_STMT_START {                                                        \
    sp_err e_ = (expr);                                                 \
    g_assert_cmpstr (sp_strerror (e_), ==, sp_strerror (want));         \
    g_assert_cmpint (e_, ==, want);                                     \
  } G_STMT_END

static const sp_crypto_port *port;

typedef struct {
  sp_key *device;
  sp_key *other;
  guint8 device_pub[SP_P256_PUB_LEN];
  guint8 other_pub[SP_P256_PUB_LEN];
  guint8 challenge[32];
  guint8 nonce[32];
  guint8 kem_pub[65];
  sp_evidence ev;
  guint8 signed_ev[SP_EVIDENCE_MAX_SIZE];
  size_t signed_len;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  sp_key *kem = NULL;

  memset (f, 0, sizeof *f);
  assert_err (port->p256_generate (port->ctx, &f->device), SP_OK);
  assert_err (port->p256_public (port->ctx, f->device, f->device_pub), SP_OK);
  assert_err (port->p256_generate (port->ctx, &f->other), SP_OK);
  assert_err (port->p256_public (port->ctx, f->other, f->other_pub), SP_OK);
  assert_err (port->p256_generate (port->ctx, &kem), SP_OK);
  assert_err (port->p256_public (port->ctx, kem, f->kem_pub), SP_OK);
  port->key_free (port->ctx, kem);
  assert_err (port->random (port->ctx, f->challenge, 32), SP_OK);
  assert_err (port->random (port->ctx, f->nonce, 32), SP_OK);

  f->ev.serial = "SN-0042";
  f->ev.serial_len = 7;
  f->ev.model = "acme-gw1";
  f->ev.model_len = 8;
  f->ev.challenge = f->challenge;
  f->ev.kem_pub = f->kem_pub;
  f->ev.firmware = "1.4.2";
  f->ev.firmware_len = 5;
  f->ev.config_version = 17;
  f->ev.session_nonce = f->nonce;
  f->ev.device_time = 1700000000;
  assert_err (sp_evidence_sign (port, f->device, &f->ev, f->signed_ev, sizeof f->signed_ev,
                                &f->signed_len), SP_OK);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  port->key_free (port->ctx, f->device);
  port->key_free (port->ctx, f->other);
}

/* Sign payload under an arbitrary protected header, tagged or not: the
 * objects our encoder refuses to make. */
static gsize
sign_raw (sp_key *key, const guint8 *prot, gsize prot_len, const guint8 *payload,
          gsize payload_len, gboolean tagged, guint8 *out, gsize cap)
{
  guint8 tbs[1024], digest[32], sig[64];
  size_t tbs_len, len;
  sp_iovec iov;
  sp_cbor_writer w;

  assert_err (sp_cose_sig_structure_write (prot, prot_len, NULL, 0, payload, payload_len,
                                           tbs, sizeof tbs, &tbs_len), SP_OK);
  iov.base = tbs;
  iov.len = tbs_len;
  assert_err (port->sha256 (port->ctx, &iov, 1, digest), SP_OK);
  assert_err (port->ecdsa_p256_sign (port->ctx, key, digest, sig), SP_OK);
  sp_cbor_writer_init (&w, out, cap);
  if (tagged)
    sp_cbor_put_tag (&w, 18);
  sp_cbor_put_array (&w, 4);
  sp_cbor_put_bytes (&w, prot, prot_len);
  sp_cbor_put_map (&w, 0);
  sp_cbor_put_bytes (&w, payload, payload_len);
  sp_cbor_put_bytes (&w, sig, 64);
  assert_err (sp_cbor_writer_finish (&w, &len), SP_OK);
  return len;
}

static gsize
protected_for (const char *cty, const char *kid, gboolean extra, guint8 *out, gsize cap)
{
  sp_cbor_writer w;
  size_t len;

  sp_cbor_writer_init (&w, out, cap);
  sp_cbor_put_map (&w, extra ? 4 : 3);
  sp_cbor_put_uint (&w, 1);
  sp_cbor_put_int (&w, -7);
  sp_cbor_put_uint (&w, 3);
  sp_cbor_put_textz (&w, cty);
  sp_cbor_put_uint (&w, 4);
  sp_cbor_put_bytes (&w, kid, strlen (kid));
  if (extra)
    {
      sp_cbor_put_uint (&w, 5);
      sp_cbor_put_bytes (&w, "iv", 2);
    }
  assert_err (sp_cbor_writer_finish (&w, &len), SP_OK);
  return len;
}

/* ------------------------------------------------------------------ */

static void
test_roundtrip (Fixture *f, gconstpointer data)
{
  sp_evidence ev;
  sp_cose_sign1 msg;

  g_assert_cmpuint (f->signed_len, <=, SP_EVIDENCE_MAX_SIZE);
  assert_err (sp_evidence_verify (port, f->signed_ev, f->signed_len, f->device_pub, &ev),
              SP_OK);
  g_assert_cmpmem (ev.serial, ev.serial_len, "SN-0042", 7);
  g_assert_cmpmem (ev.model, ev.model_len, "acme-gw1", 8);
  g_assert_cmpmem (ev.firmware, ev.firmware_len, "1.4.2", 5);
  g_assert_cmpmem (ev.challenge, 32, f->challenge, 32);
  g_assert_cmpmem (ev.kem_pub, 65, f->kem_pub, 65);
  g_assert_cmpmem (ev.session_nonce, 32, f->nonce, 32);
  g_assert_cmpuint (ev.config_version, ==, 17);
  g_assert_cmpuint (ev.device_time, ==, 1700000000);
  /* Views into the input. */
  g_assert_true ((const guint8 *) ev.serial > f->signed_ev &&
                 (const guint8 *) ev.serial < f->signed_ev + f->signed_len);

  /* The envelope is the one docs/protocol.md gives. */
  assert_err (sp_cose_sign1_decode (f->signed_ev, f->signed_len, NULL, &msg), SP_OK);
  g_assert_true (msg.tagged);
  assert_err (sp_cose_sign1_check_strict (&msg, "application/signet-attest+cbor"), SP_OK);
  g_assert_cmpmem (msg.kid, msg.kid_len, "SN-0042", 7);
}

/* The payload bytes, worked out by hand from RFC 8949. */
static void
test_encoding (void)
{
  guint8 challenge[32], nonce[32], kem[65], buf[SP_EVIDENCE_PAYLOAD_MAX];
  g_autoptr(GString) want = g_string_new ("a8" "01" "6153" "02" "624d31" "03" "5820");
  sp_evidence ev;
  size_t len;
  gsize i;

  memset (challenge, 0xaa, sizeof challenge);
  memset (nonce, 0xbb, sizeof nonce);
  memset (kem, 0xcc, sizeof kem);
  kem[0] = 0x04;
  memset (&ev, 0, sizeof ev);
  ev.serial = "S";
  ev.serial_len = 1;
  ev.model = "M1";
  ev.model_len = 2;
  ev.challenge = challenge;
  ev.kem_pub = kem;
  ev.firmware = "1";
  ev.firmware_len = 1;
  ev.config_version = 24;
  ev.session_nonce = nonce;
  ev.device_time = 0x100000000;

  for (i = 0; i < 32; i++)
    g_string_append (want, "aa");
  g_string_append (want, "04" "5841" "04");
  for (i = 0; i < 64; i++)
    g_string_append (want, "cc");
  g_string_append (want, "05" "6131" "06" "1818" "07" "5820");
  for (i = 0; i < 32; i++)
    g_string_append (want, "bb");
  g_string_append (want, "08" "1b0000000100000000");

  assert_err (sp_evidence_encode (&ev, buf, sizeof buf, &len), SP_OK);
  {
    g_autoptr(GString) hex = g_string_new (NULL);

    for (i = 0; i < len; i++)
      g_string_append_printf (hex, "%02x", buf[i]);
    g_assert_cmpstr (hex->str, ==, want->str);
  }
  /* Too small a buffer, at every length. */
  for (i = 0; i < len; i++)
    {
      size_t l2;

      assert_err (sp_evidence_encode (&ev, buf, i, &l2), SP_ERR_BUFFER_TOO_SMALL);
    }
}

static void
test_encode_refuse (Fixture *f, gconstpointer data)
{
  guint8 buf[SP_EVIDENCE_MAX_SIZE], kem[65];
  char long_text[SP_EVIDENCE_TEXT_MAX + 1];
  sp_evidence ev;
  size_t len;

  memset (long_text, 'x', sizeof long_text);
  ev = f->ev;
  ev.serial_len = 0;
  assert_err (sp_evidence_encode (&ev, buf, sizeof buf, &len), SP_ERR_VALUE);
  ev = f->ev;
  ev.model = long_text;
  ev.model_len = sizeof long_text;
  assert_err (sp_evidence_encode (&ev, buf, sizeof buf, &len), SP_ERR_VALUE);
  ev.model_len = sizeof long_text - 1;
  assert_err (sp_evidence_encode (&ev, buf, sizeof buf, &len), SP_OK);
  ev = f->ev;
  ev.firmware = "\xc3\x28";
  ev.firmware_len = 2;
  assert_err (sp_evidence_encode (&ev, buf, sizeof buf, &len), SP_ERR_VALUE);
  ev = f->ev;
  memcpy (kem, f->kem_pub, 65);
  kem[0] = 0x02;
  ev.kem_pub = kem;
  assert_err (sp_evidence_encode (&ev, buf, sizeof buf, &len), SP_ERR_VALUE);
  ev = f->ev;
  ev.challenge = NULL;
  assert_err (sp_evidence_encode (&ev, buf, sizeof buf, &len), SP_ERR_INVALID_ARG);
  assert_err (sp_evidence_sign (port, f->device, &f->ev, buf, SP_COSE_SIGN1_OVERHEAD, &len),
              SP_ERR_BUFFER_TOO_SMALL);
}

/* The largest evidence fits SP_EVIDENCE_MAX_SIZE; one byte more is
 * refused unread. */
static void
test_limits (Fixture *f, gconstpointer data)
{
  char text[SP_EVIDENCE_TEXT_MAX];
  guint8 buf[SP_EVIDENCE_MAX_SIZE + 1];
  sp_evidence ev = f->ev, out;
  size_t len;

  memset (text, 'z', sizeof text);
  ev.serial = ev.model = ev.firmware = text;
  ev.serial_len = ev.model_len = ev.firmware_len = sizeof text;
  ev.config_version = G_MAXUINT64;
  ev.device_time = G_MAXUINT64;
  assert_err (sp_evidence_sign (port, f->device, &ev, buf, SP_EVIDENCE_MAX_SIZE, &len), SP_OK);
  g_assert_cmpuint (len, <=, SP_EVIDENCE_MAX_SIZE);
  assert_err (sp_evidence_verify (port, buf, len, f->device_pub, &out), SP_OK);
  g_assert_cmpuint (out.config_version, ==, G_MAXUINT64);
  memset (buf + len, 0, sizeof buf - len);
  assert_err (sp_evidence_verify (port, buf, SP_EVIDENCE_MAX_SIZE + 1, f->device_pub, &out),
              SP_ERR_CBOR_TOO_LARGE);
  g_assert_null (out.serial);
}

static void
test_wrong_key (Fixture *f, gconstpointer data)
{
  sp_evidence ev;
  guint8 bad_pub[65];

  assert_err (sp_evidence_verify (port, f->signed_ev, f->signed_len, f->other_pub, &ev),
              SP_ERR_BAD_SIGNATURE);
  g_assert_null (ev.serial);
  memset (bad_pub, 0x11, sizeof bad_pub);
  bad_pub[0] = 0x04;
  assert_err (sp_evidence_verify (port, f->signed_ev, f->signed_len, bad_pub, &ev),
              SP_ERR_KEY);
}

static void
test_bit_flips (Fixture *f, gconstpointer data)
{
  guint8 copy[SP_EVIDENCE_MAX_SIZE];
  sp_evidence ev;
  gsize i;
  guint bit;

  for (i = 0; i < f->signed_len; i++)
    for (bit = 0; bit < 8; bit++)
      {
        memcpy (copy, f->signed_ev, f->signed_len);
        copy[i] ^= (guint8) (1u << bit);
        g_assert_cmpint (sp_evidence_verify (port, copy, f->signed_len, f->device_pub, &ev),
                         !=, SP_OK);
        g_assert_null (ev.serial);
      }
}

static void
test_truncation (Fixture *f, gconstpointer data)
{
  sp_evidence ev;
  gsize i;

  for (i = 0; i < f->signed_len; i++)
    g_assert_cmpint (sp_evidence_verify (port, f->signed_ev, i, f->device_pub, &ev), !=, SP_OK);
}

static void
test_envelope (Fixture *f, gconstpointer data)
{
  guint8 payload[SP_EVIDENCE_PAYLOAD_MAX], prot[128], out[1024];
  size_t payload_len, prot_len, len;
  sp_evidence ev;

  assert_err (sp_evidence_encode (&f->ev, payload, sizeof payload, &payload_len), SP_OK);

  /* Our own header, signed by hand: accepted (the helper is right). */
  prot_len = protected_for (SP_EVIDENCE_CONTENT_TYPE, "SN-0042", FALSE, prot, sizeof prot);
  len = sign_raw (f->device, prot, prot_len, payload, payload_len, TRUE, out, sizeof out);
  assert_err (sp_evidence_verify (port, out, len, f->device_pub, &ev), SP_OK);

  /* Untagged. */
  len = sign_raw (f->device, prot, prot_len, payload, payload_len, FALSE, out, sizeof out);
  assert_err (sp_evidence_verify (port, out, len, f->device_pub, &ev), SP_ERR_COSE_TAG);

  /* Another content type: a PoP proof or a receipt by the same key. */
  prot_len = protected_for ("application/signet-pop+cbor", "SN-0042", FALSE, prot, sizeof prot);
  len = sign_raw (f->device, prot, prot_len, payload, payload_len, TRUE, out, sizeof out);
  assert_err (sp_evidence_verify (port, out, len, f->device_pub, &ev), SP_ERR_COSE_HEADER);

  /* A kid that is not the payload's serial. */
  prot_len = protected_for (SP_EVIDENCE_CONTENT_TYPE, "SN-0043", FALSE, prot, sizeof prot);
  len = sign_raw (f->device, prot, prot_len, payload, payload_len, TRUE, out, sizeof out);
  assert_err (sp_evidence_verify (port, out, len, f->device_pub, &ev), SP_ERR_COSE_HEADER);

  /* An extra protected header parameter. */
  prot_len = protected_for (SP_EVIDENCE_CONTENT_TYPE, "SN-0042", TRUE, prot, sizeof prot);
  len = sign_raw (f->device, prot, prot_len, payload, payload_len, TRUE, out, sizeof out);
  assert_err (sp_evidence_verify (port, out, len, f->device_pub, &ev), SP_ERR_COSE_HEADER);
}

/* Payloads our encoder would never write, each signed properly, so only
 * the payload check can refuse them. */
typedef enum {
  P_OK,
  P_MISSING_TIME,
  P_UNKNOWN_KEY,
  P_SERIAL_BYTES,
  P_SHORT_CHALLENGE,
  P_LONG_NONCE,
  P_KEM_COMPRESSED,
  P_EMPTY_MODEL,
  P_NEGATIVE_VERSION,
  P_UNSORTED,
  P_NON_SHORTEST,
  P_TEXT_KEY,
  P_ARRAY,
} Variant;

static gsize
payload_variant (Fixture *f, Variant v, guint8 *out, gsize cap)
{
  sp_cbor_writer w;
  size_t len;
  guint8 kem[65];

  memcpy (kem, f->kem_pub, 65);
  if (v == P_KEM_COMPRESSED)
    kem[0] = 0x03;
  sp_cbor_writer_init (&w, out, cap);
  if (v == P_ARRAY)
    {
      sp_cbor_put_array (&w, 1);
      sp_cbor_put_uint (&w, 1);
      assert_err (sp_cbor_writer_finish (&w, &len), SP_OK);
      return len;
    }
  sp_cbor_put_map (&w, v == P_MISSING_TIME ? 7 : v == P_UNKNOWN_KEY || v == P_TEXT_KEY ? 9 : 8);
  if (v == P_UNSORTED)
    {
      sp_cbor_put_uint (&w, 2);
      sp_cbor_put_textz (&w, "acme-gw1");
      sp_cbor_put_uint (&w, 1);
      sp_cbor_put_textz (&w, "SN-0042");
    }
  else
    {
      sp_cbor_put_uint (&w, 1);
      if (v == P_SERIAL_BYTES)
        sp_cbor_put_bytes (&w, "SN-0042", 7);
      else
        sp_cbor_put_textz (&w, "SN-0042");
      sp_cbor_put_uint (&w, 2);
      sp_cbor_put_textz (&w, v == P_EMPTY_MODEL ? "" : "acme-gw1");
    }
  sp_cbor_put_uint (&w, 3);
  sp_cbor_put_bytes (&w, f->challenge, v == P_SHORT_CHALLENGE ? 31 : 32);
  sp_cbor_put_uint (&w, 4);
  sp_cbor_put_bytes (&w, kem, 65);
  sp_cbor_put_uint (&w, 5);
  sp_cbor_put_textz (&w, "1.4.2");
  sp_cbor_put_uint (&w, 6);
  if (v == P_NEGATIVE_VERSION)
    sp_cbor_put_int (&w, -1);
  else if (v == P_NON_SHORTEST)
    sp_cbor_put_raw (&w, "\x18\x11", 2);   /* 17 in two bytes */
  else
    sp_cbor_put_uint (&w, 17);
  sp_cbor_put_uint (&w, 7);
  if (v == P_LONG_NONCE)
    {
      guint8 n[33] = { 0 };

      sp_cbor_put_bytes (&w, n, 33);
    }
  else
    sp_cbor_put_bytes (&w, f->nonce, 32);
  if (v != P_MISSING_TIME)
    {
      sp_cbor_put_uint (&w, 8);
      sp_cbor_put_uint (&w, 1700000000);
    }
  if (v == P_UNKNOWN_KEY)
    {
      sp_cbor_put_uint (&w, 9);
      sp_cbor_put_uint (&w, 0);
    }
  if (v == P_TEXT_KEY)
    {
      sp_cbor_put_textz (&w, "x");
      sp_cbor_put_uint (&w, 0);
    }
  assert_err (sp_cbor_writer_finish (&w, &len), SP_OK);
  return len;
}

static void
test_payload (Fixture *f, gconstpointer data)
{
  static const struct {
    Variant v;
    sp_err want;
  } cases[] = {
    { P_OK, SP_OK },
    { P_MISSING_TIME, SP_ERR_MISSING },
    { P_UNKNOWN_KEY, SP_ERR_UNKNOWN_FIELD },
    { P_TEXT_KEY, SP_ERR_UNKNOWN_FIELD },
    { P_SERIAL_BYTES, SP_ERR_TYPE },
    { P_SHORT_CHALLENGE, SP_ERR_VALUE },
    { P_LONG_NONCE, SP_ERR_VALUE },
    { P_KEM_COMPRESSED, SP_ERR_VALUE },
    { P_EMPTY_MODEL, SP_ERR_VALUE },
    { P_NEGATIVE_VERSION, SP_ERR_TYPE },
    { P_UNSORTED, SP_ERR_CBOR_UNSORTED_KEYS },
    { P_NON_SHORTEST, SP_ERR_CBOR_NON_MINIMAL },
    { P_ARRAY, SP_ERR_TYPE },
  };
  guint8 payload[512], prot[128], out[1024];
  size_t prot_len, len, payload_len;
  sp_evidence ev;
  gsize i;

  prot_len = protected_for (SP_EVIDENCE_CONTENT_TYPE, "SN-0042", FALSE, prot, sizeof prot);
  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("variant %d", cases[i].v);
      payload_len = payload_variant (f, cases[i].v, payload, sizeof payload);
      assert_err (sp_evidence_decode (payload, payload_len, &ev), cases[i].want);
      len = sign_raw (f->device, prot, prot_len, payload, payload_len, TRUE, out, sizeof out);
      assert_err (sp_evidence_verify (port, out, len, f->device_pub, &ev), cases[i].want);
      if (cases[i].want != SP_OK)
        g_assert_null (ev.serial);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  port = signet_crypto_port_openssl ();

  g_test_add_func ("/signet/evidence/encoding", test_encoding);
#define ADD(path, fn) \
  g_test_add ("/signet/evidence/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("roundtrip", test_roundtrip);
  ADD ("encode-refuse", test_encode_refuse);
  ADD ("limits", test_limits);
  ADD ("verify/wrong-key", test_wrong_key);
  ADD ("verify/bit-flip", test_bit_flips);
  ADD ("verify/truncation", test_truncation);
  ADD ("verify/envelope", test_envelope);
  ADD ("verify/payload", test_payload);
#undef ADD
  return g_test_run ();
}
