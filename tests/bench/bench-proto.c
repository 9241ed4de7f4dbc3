/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-proto: throughput of the wire formats and the crypto port, each
 * printed next to a baseline measured in the same run on the same machine,
 * so the ratio — not the absolute number — is what carries from one
 * machine to another. Prints numbers; asserts nothing about time.
 *
 *   meson test -C _build --benchmark --verbose   (or run it directly)
 *
 * Pairs (ours vs baseline):
 *   COSE_Sign1 sign (port, Sig_structure hashed in place) vs raw ES256
 *     EVP_DigestSign over the same bytes
 *   COSE_Sign1 decode+verify vs raw ES256 EVP_DigestVerify
 *   CWT sign (a full service token) vs raw ES256 sign — the ceiling for
 *     signetd's token issuance (DESIGN §9: >= 50 %)
 *   port SHA-256 over a gather list vs EVP_Digest over one buffer
 *   frame encode+decode of 1 KiB payloads vs memcpy of the same bytes
 *   HPKE seal / open vs the raw P-256 ECDH they are built on
 */
#include "config.h"

#include <string.h>

#include <glib.h>
#include <openssl/evp.h>

#include "signet-crypto-port.h"
#include "signet-crypto.h"
#include "signet-key.h"
#include "sp-cose.h"
#include "sp-cwt.h"
#include "sp-frame.h"
#include "sp-hpke.h"

#define RUN_SECONDS 0.4

typedef struct {
  const sp_crypto_port *port;
  SignetKey *key;
  GBytes *pub;
  guint8 msg[256];
  guint8 sign1[1024];
  size_t sign1_len;
  guint8 sig_der[80];
  size_t sig_der_len;
  guint8 big[1 << 20];
  guint8 big_out[1 << 20];
} Bench;

typedef gboolean (*BenchFunc) (Bench *b);

/* Operations per second of fn, running for about RUN_SECONDS. */
static double
rate (Bench    *b,
      BenchFunc fn)
{
  gint64 start = g_get_monotonic_time (), now;
  guint64 n = 0;

  do
    {
      for (int i = 0; i < 8; i++)
        if (!fn (b))
          g_error ("benchmark operation failed");
      n += 8;
      now = g_get_monotonic_time ();
    }
  while (now - start < (gint64) (RUN_SECONDS * G_USEC_PER_SEC));
  return (double) n * G_USEC_PER_SEC / (double) (now - start);
}

static void
report (const char *what,
        double      ours,
        const char *unit,
        const char *base_what,
        double      base)
{
  g_print ("%-28s %12.1f %-6s  baseline %-26s %12.1f %-6s  ratio %.2f\n",
           what, ours, unit, base_what, base, unit, ours / base);
}

static gboolean
raw_es256_sign (Bench *b)
{
  g_autoptr(EVP_MD_CTX) md = EVP_MD_CTX_new ();
  guint8 sig[80];
  size_t len = sizeof sig;

  return EVP_DigestSignInit (md, NULL, EVP_sha256 (), NULL, signet_key_get_pkey (b->key)) == 1 &&
         EVP_DigestSign (md, sig, &len, b->msg, sizeof b->msg) == 1;
}

static gboolean
raw_es256_verify (Bench *b)
{
  g_autoptr(EVP_MD_CTX) md = EVP_MD_CTX_new ();

  return EVP_DigestVerifyInit (md, NULL, EVP_sha256 (), NULL, signet_key_get_pkey (b->key)) == 1 &&
         EVP_DigestVerify (md, b->sig_der, b->sig_der_len, b->msg, sizeof b->msg) == 1;
}

static gboolean
cose_sign (Bench *b)
{
  sp_cose_sign1_params params = { (const uint8_t *) "bench-kid", 9, "application/signet-bench", NULL, 0 };

  return sp_cose_sign1_sign (b->port, signet_key_get_sp_key (b->key), &params, b->msg,
                             sizeof b->msg, b->sign1, sizeof b->sign1, &b->sign1_len) == SP_OK;
}

static gboolean
cose_verify (Bench *b)
{
  sp_cose_sign1 msg;

  return sp_cose_sign1_decode (b->sign1, b->sign1_len, NULL, &msg) == SP_OK &&
         sp_cose_sign1_verify (b->port, &msg, g_bytes_get_data (b->pub, NULL), NULL, 0) == SP_OK;
}

static gboolean
cwt_sign (Bench *b)
{
  static const guint8 cti[16] = { 1, 2, 3 };
  sp_cwt_claims c = { 0 };
  guint8 out[1024];
  size_t len;

  c.present = SP_CWT_ISS | SP_CWT_SUB | SP_CWT_AUD | SP_CWT_EXP | SP_CWT_IAT | SP_CWT_CTI |
              SP_CWT_CNF | SP_CWT_SCOPE | SP_CWT_ROLE | SP_CWT_AUTH_TIME | SP_CWT_AMR;
  c.iss = sp_cwt_text_from ("https://signet.test");
  c.sub = sp_cwt_text_from ("alice");
  c.aud = sp_cwt_text_from ("signet-device");
  c.iat = c.auth_time = 1700000000;
  c.exp = c.iat + 900;
  c.cti = cti;
  c.cti_len = sizeof cti;
  memcpy (c.cnf.pub, g_bytes_get_data (b->pub, NULL), SP_P256_PUB_LEN);
  c.scope = sp_cwt_text_from ("config.write credential.rotate firmware.update");
  c.role = sp_cwt_text_from ("technician");
  c.amr[0] = sp_cwt_text_from ("pwd");
  c.amr[1] = sp_cwt_text_from ("otp");
  c.amr_count = 2;
  return sp_cwt_sign (b->port, signet_key_get_sp_key (b->key), (const uint8_t *) "bench-kid", 9,
                      &c, out, sizeof out, &len) == SP_OK;
}

static gboolean
raw_sha256_1m (Bench *b)
{
  guint8 d[32];

  return EVP_Digest (b->big, sizeof b->big, d, NULL, EVP_sha256 (), NULL) == 1;
}

static gboolean
port_sha256_1m (Bench *b)
{
  /* Four pieces, as a Sig_structure would be. */
  sp_iovec iov[4] = {
    { b->big, 16 }, { b->big + 16, 1000 }, { b->big + 1016, 8 },
    { b->big + 1024, sizeof b->big - 1024 },
  };
  guint8 d[32];

  return b->port->sha256 (b->port->ctx, iov, 4, d) == SP_OK;
}

static gboolean
memcpy_1m (Bench *b)
{
  memcpy (b->big_out, b->big, sizeof b->big);
  /* Keep the copy from being optimised away. */
  return b->big_out[b->big[7]] == b->big[b->big[7]];
}

static gboolean
frames_1m (Bench *b)
{
  guint8 frame[SP_FRAME_MAX_ENCODED];
  size_t off, flen, plen;

  for (off = 0; off < sizeof b->big; off += SP_FRAME_MAX_PAYLOAD)
    {
      if (sp_frame_encode (b->big + off, SP_FRAME_MAX_PAYLOAD, frame, sizeof frame, &flen) != SP_OK ||
          sp_frame_decode (frame, flen - 1, b->big_out + off, SP_FRAME_MAX_PAYLOAD, &plen) != SP_OK)
        return FALSE;
    }
  return TRUE;
}

static gboolean
raw_ecdh (Bench *b)
{
  guint8 shared[32];

  return b->port->ecdh_p256 (b->port->ctx, signet_key_get_sp_key (b->key),
                             g_bytes_get_data (b->pub, NULL), shared) == SP_OK;
}

static gboolean
hpke_seal (Bench *b)
{
  guint8 enc[SP_HPKE_ENC_LEN];

  return sp_hpke_seal_base (b->port, g_bytes_get_data (b->pub, NULL), (const uint8_t *) "info", 4,
                            NULL, 0, b->msg, 64, enc, b->sign1) == SP_OK &&
         (memcpy (b->sign1 + 512, enc, sizeof enc), TRUE);
}

static gboolean
hpke_open (Bench *b)
{
  guint8 pt[64];

  return sp_hpke_open_base (b->port, b->sign1 + 512, signet_key_get_sp_key (b->key),
                            (const uint8_t *) "info", 4, NULL, 0, b->sign1, 64 + SP_AEAD_TAG_LEN,
                            pt) == SP_OK;
}

int
main (void)
{
  g_autofree Bench *b = g_new0 (Bench, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetKey) key = signet_key_generate (&error);
  double mb = (double) sizeof b->big / (1024.0 * 1024.0);

  g_assert_no_error (error);
  b->port = signet_crypto_port_openssl ();
  b->key = key;
  b->pub = signet_key_get_public_bytes (key);
  for (gsize i = 0; i < sizeof b->msg; i++)
    b->msg[i] = (guint8) i;
  for (gsize i = 0; i < sizeof b->big; i++)
    b->big[i] = (guint8) g_random_int ();
  b->sig_der_len = sizeof b->sig_der;
  {
    g_autoptr(EVP_MD_CTX) md = EVP_MD_CTX_new ();
    g_assert_true (EVP_DigestSignInit (md, NULL, EVP_sha256 (), NULL, signet_key_get_pkey (key)) == 1);
    g_assert_true (EVP_DigestSign (md, b->sig_der, &b->sig_der_len, b->msg, sizeof b->msg) == 1);
  }
  g_assert_true (cose_sign (b));

  g_print ("# bench-proto: %s, %.1f s per measurement\n", OpenSSL_version (OPENSSL_VERSION),
           RUN_SECONDS);
  report ("cose-sign1 sign", rate (b, cose_sign), "op/s", "raw ES256 sign", rate (b, raw_es256_sign));
  report ("cose-sign1 decode+verify", rate (b, cose_verify), "op/s",
          "raw ES256 verify", rate (b, raw_es256_verify));
  report ("cwt sign (service token)", rate (b, cwt_sign), "op/s", "raw ES256 sign",
          rate (b, raw_es256_sign));
  report ("port sha256 (4-piece iov)", rate (b, port_sha256_1m) * mb, "MiB/s",
          "EVP_Digest sha256", rate (b, raw_sha256_1m) * mb);
  report ("frame encode+decode 1 KiB", rate (b, frames_1m) * mb, "MiB/s", "memcpy",
          rate (b, memcpy_1m) * mb);
  report ("hpke seal (base, 64 B)", rate (b, hpke_seal), "op/s", "raw P-256 ECDH", rate (b, raw_ecdh));
  report ("hpke open (base, 64 B)", rate (b, hpke_open), "op/s", "raw P-256 ECDH", rate (b, raw_ecdh));
  g_bytes_unref (b->pub);
  return 0;
}
