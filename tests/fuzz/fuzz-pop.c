/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-pop.c: the proof-of-possession verifier (signet_pop_verify) and the
 * Authorization parser on arbitrary input, three ways:
 *
 *  1. the input as the Signet-PoP header text (base64url decoding, size
 *     bound) and as an Authorization header;
 *  2. the input's bytes, base64url-encoded, as the proof (the COSE_Sign1
 *     envelope and its strict policy);
 *  3. the input as a proof PAYLOAD, really signed with the token's cnf key
 *     under the right kid and content type, so the fuzzer reaches the
 *     payload decoder and the request checks behind the signature.
 *
 * The token is fixed and deterministic (its own signature is zeros: the
 * verifier takes the claims as already verified, as a server does), so
 * seeds can carry a matching ath. Oracles: errors are always in
 * SIGNET_POP_ERROR and never FAILED for bad input, messages never quote
 * the input, and an accepted proof gives a 16-byte jti and a fresh iat.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signet-base64url.h"
#include "signet-crypto.h"
#include "signet-crypto-port.h"
#include "signet-key.h"
#include "signet-pop.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define FUZZ_NOW 1700000000
#define FUZZ_METHOD "POST"
#define FUZZ_PATH "/v1/refresh"

static const guint8 fuzz_scalar[32] = {
  0x57, 0xc9, 0x20, 0x77, 0x66, 0x41, 0x46, 0xe8, 0x76, 0x76, 0x0c, 0x95,
  0x20, 0xd0, 0x54, 0xaa, 0x93, 0xc3, 0xaf, 0xb0, 0x4e, 0x30, 0x67, 0x05,
  0xdb, 0x60, 0x90, 0x30, 0x85, 0x07, 0xb4, 0xd3,
};
static const guint8 fuzz_cti[16] = {
  0xc7, 0x1e, 0x5e, 0x3a, 0x11, 0x9f, 0x40, 0x2b,
  0x8d, 0x60, 0x0e, 0x31, 0x74, 0xaa, 0x05, 0x9c,
};

static SignetKey *fuzz_key;
static GBytes *fuzz_token;
static sp_cwt_claims fuzz_claims;
static guint8 fuzz_token_buf[1024];

static void
check (int ok)
{
  if (!ok)
    abort ();
}

static sp_err
zero_sign (void *ctx, const sp_key *key, const uint8_t digest[SP_SHA256_LEN],
           uint8_t sig[SP_P256_SIG_LEN])
{
  memset (sig, 0, SP_P256_SIG_LEN);
  return SP_OK;
}

static void
fuzz_init (void)
{
  sp_crypto_port zero_port;
  g_autoptr(GBytes) scalar = NULL;
  g_autoptr(GBytes) pub = NULL;
  sp_cose_sign1 msg;
  sp_cwt_claims c;
  size_t len;

  if (fuzz_key != NULL)
    return;
  scalar = g_bytes_new_static (fuzz_scalar, sizeof fuzz_scalar);
  fuzz_key = signet_key_new_from_private_bytes (scalar, NULL);
  check (fuzz_key != NULL);
  pub = signet_key_get_public_bytes (fuzz_key);

  memset (&c, 0, sizeof c);
  c.present = SP_CWT_REQUIRED;
  c.iss = sp_cwt_text_from ("https://signet.example/");
  c.sub = sp_cwt_text_from ("alice");
  c.exp = FUZZ_NOW + 900;
  c.iat = FUZZ_NOW;
  c.cti = fuzz_cti;
  c.cti_len = sizeof fuzz_cti;
  memcpy (c.cnf.pub, g_bytes_get_data (pub, NULL), SP_P256_PUB_LEN);
  zero_port = *signet_crypto_port_openssl ();
  zero_port.ecdsa_p256_sign = zero_sign;
  check (sp_cwt_sign (&zero_port, signet_key_get_sp_key (fuzz_key),
                      (const guint8 *) "authority-1", 11, &c, fuzz_token_buf,
                      sizeof fuzz_token_buf, &len) == SP_OK);
  fuzz_token = g_bytes_new_static (fuzz_token_buf, len);
  check (sp_cose_sign1_decode (fuzz_token_buf, len, NULL, &msg) == SP_OK);
  check (sp_cwt_claims_decode (msg.payload, msg.payload_len, &fuzz_claims) == SP_OK);
}

static void
verify_one (const char *header)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) jti = NULL;
  gint64 iat = -1;

  if (signet_pop_verify (header, fuzz_token, &fuzz_claims, FUZZ_METHOD, FUZZ_PATH,
                         NULL, FUZZ_NOW, SIGNET_POP_DEFAULT_MAX_SKEW, &jti, &iat,
                         &error))
    {
      check (error == NULL);
      check (g_bytes_get_size (jti) == SIGNET_POP_JTI_LEN);
      check (iat >= FUZZ_NOW - SIGNET_POP_DEFAULT_MAX_SKEW &&
             iat <= FUZZ_NOW + SIGNET_POP_DEFAULT_MAX_SKEW);
      return;
    }
  check (error != NULL && error->domain == SIGNET_POP_ERROR);
  check (error->code != SIGNET_POP_ERROR_FAILED);
  check (jti == NULL && iat == -1);
  /* Long enough and without a space, the input cannot be a word of a
   * message by chance. */
  if (strlen (header) >= 24 && strchr (header, ' ') == NULL)
    check (strstr (error->message, header) == NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = NULL;
  g_autofree char *b64 = NULL;

  fuzz_init ();
  if (size > 4 * SIGNET_POP_HEADER_MAX)
    return 0;

  /* 1. Header text. */
  text = g_strndup ((const char *) data, size);
  verify_one (text);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) token = signet_pop_parse_authorization (text, &error);

    check ((token == NULL) == (error != NULL));
    check (token == NULL || (g_bytes_get_size (token) > 0 &&
                             g_bytes_get_size (token) <= SIGNET_POP_TOKEN_MAX));
  }

  /* 2. Bytes as the proof. */
  b64 = signet_base64url_encode (data, size);
  verify_one (b64);

  /* 3. Bytes as a signed payload. */
  if (size <= SIGNET_POP_HEADER_MAX)
    {
      sp_cose_sign1_params params;
      guint8 out[SIGNET_POP_HEADER_MAX + SP_COSE_SIGN1_OVERHEAD];
      g_autofree char *proof = NULL;
      size_t len;

      memset (&params, 0, sizeof params);
      params.kid = fuzz_cti;
      params.kid_len = sizeof fuzz_cti;
      params.content_type = SIGNET_POP_CONTENT_TYPE;
      check (sp_cose_sign1_sign (signet_crypto_port_openssl (),
                                 signet_key_get_sp_key (fuzz_key), &params,
                                 data, size, out, sizeof out, &len) == SP_OK);
      proof = signet_base64url_encode (out, len);
      verify_one (proof);
    }
  return 0;
}
