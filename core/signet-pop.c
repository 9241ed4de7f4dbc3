/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "signet-base64url.h"
#include "signet-crypto.h"
#include "signet-crypto-port.h"
#include "signet-pop.h"
#include "signet-secret.h"
#include "sp-cbor.h"
#include "sp-cose.h"

G_DEFINE_QUARK (signet-pop-error-quark, signet_pop_error)

/* Proof payload keys (docs/api.md). */
enum {
  KEY_HTM = 1,
  KEY_HTU = 2,
  KEY_IAT = 3,
  KEY_JTI = 4,
  KEY_ATH = 5,
  KEY_BH = 6,
  N_KEYS = 6,
};

/* Bytes of COSE_Sign1 that SIGNET_POP_HEADER_MAX characters can carry. */
#define PROOF_MAX (SIGNET_POP_HEADER_MAX / 4 * 3)

/* A decoded proof payload: views into the proof bytes. */
typedef struct {
  const char *htm;
  gsize htm_len;
  const char *htu;
  gsize htu_len;
  gint64 iat;
  const guint8 *jti;
  const guint8 *ath;
  const guint8 *bh;
} PopPayload;

static gboolean
set_error (GError      **error,
           SignetPopError code,
           const char   *reason)
{
  g_set_error (error, SIGNET_POP_ERROR, code, "Proof of possession: %s", reason);
  return FALSE;
}

/* A proto failure as a proof error; sp_strerror never quotes input. */
static gboolean
set_proto_error (GError        **error,
                 SignetPopError  code,
                 const char     *what,
                 sp_err          err)
{
  g_set_error (error, SIGNET_POP_ERROR, code, "Proof of possession: %s: %s",
               what, sp_strerror (err));
  return FALSE;
}

static void
sha256_of (GBytes *data,
           guint8  out[SIGNET_SHA256_LEN])
{
  gsize len = 0;
  gconstpointer p = data != NULL ? g_bytes_get_data (data, &len) : NULL;

  signet_sha256_buf (len > 0 ? p : "", len, out);
}

/* ---- create ---------------------------------------------------------------- */

/* The cti of a token, read without verifying it (a client has no reason
 * to distrust the token the service just gave it, and the service checks
 * the proof against the token it verified anyway). */
static gboolean
token_cti (GBytes  *token,
           guint8   cti[SP_CWT_CTI_MAX],
           gsize   *cti_len,
           GError **error)
{
  sp_cose_sign1 msg;
  sp_cwt_claims claims;
  gsize len;
  const guint8 *p = g_bytes_get_data (token, &len);
  sp_err err;

  if (len == 0 || len > SIGNET_POP_TOKEN_MAX)
    return set_error (error, SIGNET_POP_ERROR_MALFORMED,
                      "the token is empty or too large");
  err = sp_cose_sign1_decode (p, len, NULL, &msg);
  if (err == SP_OK)
    err = sp_cose_sign1_check_strict (&msg, SP_CWT_CONTENT_TYPE);
  if (err == SP_OK)
    err = sp_cwt_claims_decode (msg.payload, msg.payload_len, &claims);
  if (err != SP_OK)
    return set_proto_error (error, SIGNET_POP_ERROR_MALFORMED,
                            "the token does not decode", err);
  memcpy (cti, claims.cti, claims.cti_len);
  *cti_len = claims.cti_len;
  return TRUE;
}

/**
 * signet_pop_create:
 * @pop_key: the private key of the token's cnf claim
 * @token: the signed service token
 * @method: the request method
 * @path_and_query: the request target
 * @body: (nullable): the request body
 * @now: the client's clock, seconds since the epoch
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the Signet-PoP header value
 */
char *
signet_pop_create (SignetKey   *pop_key,
                   GBytes      *token,
                   const char  *method,
                   const char  *path_and_query,
                   GBytes      *body,
                   gint64       now,
                   GError     **error)
{
  g_autofree guint8 *out = NULL;
  g_autoptr(GError) local_error = NULL;
  guint8 cti[SP_CWT_CTI_MAX];
  guint8 jti[SIGNET_POP_JTI_LEN];
  guint8 ath[SIGNET_SHA256_LEN];
  guint8 bh[SIGNET_SHA256_LEN];
  gsize cti_len = 0, token_len, payload_len, out_len;
  const guint8 *token_p;
  sp_cose_sign1_params params;
  sp_cbor_writer w;
  sp_err err;

  g_return_val_if_fail (pop_key != NULL, NULL);
  g_return_val_if_fail (token != NULL, NULL);
  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (path_and_query != NULL, NULL);
  g_return_val_if_fail (now >= 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!signet_key_has_private (pop_key))
    {
      g_set_error_literal (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_NO_PRIVATE,
                           "Proof of possession: the key has no private part");
      return NULL;
    }
  if (*method == '\0' || *path_and_query == '\0')
    {
      set_error (error, SIGNET_POP_ERROR_MALFORMED,
                 "empty method or request target");
      return NULL;
    }
  if (!token_cti (token, cti, &cti_len, error))
    return NULL;
  if (!signet_random_fill (jti, sizeof jti, &local_error))
    {
      set_error (error, SIGNET_POP_ERROR_FAILED, local_error->message);
      return NULL;
    }
  token_p = g_bytes_get_data (token, &token_len);
  signet_sha256_buf (token_p, token_len, ath);
  sha256_of (body, bh);

  /* Encode the payload past the room the COSE prefix needs, then let
   * sp_cose_sign1_sign move it into place (as sp_cwt_sign does). */
  out = g_malloc (SP_COSE_SIGN1_OVERHEAD + PROOF_MAX);
  sp_cbor_writer_init (&w, out + SP_COSE_SIGN1_OVERHEAD, PROOF_MAX);
  sp_cbor_put_map (&w, N_KEYS);
  sp_cbor_put_uint (&w, KEY_HTM);
  sp_cbor_put_textz (&w, method);
  sp_cbor_put_uint (&w, KEY_HTU);
  sp_cbor_put_textz (&w, path_and_query);
  sp_cbor_put_uint (&w, KEY_IAT);
  sp_cbor_put_uint (&w, (guint64) now);
  sp_cbor_put_uint (&w, KEY_JTI);
  sp_cbor_put_bytes (&w, jti, sizeof jti);
  sp_cbor_put_uint (&w, KEY_ATH);
  sp_cbor_put_bytes (&w, ath, sizeof ath);
  sp_cbor_put_uint (&w, KEY_BH);
  sp_cbor_put_bytes (&w, bh, sizeof bh);
  err = sp_cbor_writer_finish (&w, &payload_len);
  if (err == SP_ERR_BUFFER_TOO_SMALL)
    {
      set_error (error, SIGNET_POP_ERROR_MALFORMED,
                 "the request target is too long for a proof");
      return NULL;
    }
  if (err != SP_OK)
    {
      /* Only invalid UTF-8 in method or path can get here. */
      set_proto_error (error, SIGNET_POP_ERROR_MALFORMED,
                       "method or request target", err);
      return NULL;
    }

  memset (&params, 0, sizeof params);
  params.kid = cti;
  params.kid_len = cti_len;
  params.content_type = SIGNET_POP_CONTENT_TYPE;
  err = sp_cose_sign1_sign (signet_crypto_port_openssl (),
                            signet_key_get_sp_key (pop_key), &params,
                            out + SP_COSE_SIGN1_OVERHEAD, payload_len,
                            out, SP_COSE_SIGN1_OVERHEAD + PROOF_MAX, &out_len);
  if (err != SP_OK)
    {
      set_proto_error (error, SIGNET_POP_ERROR_FAILED, "signing failed", err);
      return NULL;
    }
  /* Never make a proof the verifier would refuse for its size. */
  if (out_len > PROOF_MAX)
    {
      set_error (error, SIGNET_POP_ERROR_MALFORMED,
                 "the request target is too long for a proof");
      return NULL;
    }
  return signet_base64url_encode (out, out_len);
}

/* ---- verify ---------------------------------------------------------------- */

/* The one decoder of a proof payload: a deterministic map of exactly the
 * six keys, each with its one type and size. */
static gboolean
decode_payload (const guint8 *buf,
                gsize         len,
                PopPayload   *pl,
                GError      **error)
{
  static const sp_cbor_key allowed[] = {
    SP_CBOR_KEY_INT (KEY_HTM), SP_CBOR_KEY_INT (KEY_HTU),
    SP_CBOR_KEY_INT (KEY_IAT), SP_CBOR_KEY_INT (KEY_JTI),
    SP_CBOR_KEY_INT (KEY_ATH), SP_CBOR_KEY_INT (KEY_BH),
  };
  /* A flat map: the map, six keys, six values. */
  const sp_cbor_limits limits = {
    .max_size = PROOF_MAX,
    .max_depth = 1,
    .max_items = 1 + 2 * N_KEYS,
    .max_string_len = PROOF_MAX,
    .max_container_len = N_KEYS,
    .deterministic = true,
  };
  sp_cbor_item items[1 + 2 * N_KEYS];
  sp_cbor_doc doc;
  size_t v, n;
  guint64 iat;
  const guint8 *p;
  sp_err err;

  err = sp_cbor_decode (buf, len, &limits, items, G_N_ELEMENTS (items), &doc);
  if (err == SP_OK)
    err = sp_cbor_map_check_keys (&doc, 0, allowed, G_N_ELEMENTS (allowed));
  if (err != SP_OK)
    return set_proto_error (error, SIGNET_POP_ERROR_MALFORMED, "payload", err);

#define FIND(key, what) \
  if ((err = sp_cbor_map_find_int (&doc, 0, (key), &v)) != SP_OK) \
    return set_proto_error (error, SIGNET_POP_ERROR_MALFORMED, what, err)

  FIND (KEY_HTM, "htm");
  err = sp_cbor_get_text (&doc, v, &pl->htm, &pl->htm_len);
  if (err != SP_OK)
    return set_proto_error (error, SIGNET_POP_ERROR_MALFORMED, "htm", err);

  FIND (KEY_HTU, "htu");
  err = sp_cbor_get_text (&doc, v, &pl->htu, &pl->htu_len);
  if (err != SP_OK)
    return set_proto_error (error, SIGNET_POP_ERROR_MALFORMED, "htu", err);

  FIND (KEY_IAT, "iat");
  /* A NumericDate as an unsigned integer: no negative times, no floats. */
  err = sp_cbor_get_uint (&doc, v, &iat);
  if (err == SP_OK && iat > G_MAXINT64)
    err = SP_ERR_VALUE;
  if (err != SP_OK)
    return set_proto_error (error, SIGNET_POP_ERROR_MALFORMED, "iat", err);
  pl->iat = (gint64) iat;

  FIND (KEY_JTI, "jti");
  err = sp_cbor_get_bytes (&doc, v, &p, &n);
  if (err == SP_OK && n != SIGNET_POP_JTI_LEN)
    err = SP_ERR_VALUE;
  if (err != SP_OK)
    return set_proto_error (error, SIGNET_POP_ERROR_MALFORMED, "jti", err);
  pl->jti = p;

  FIND (KEY_ATH, "ath");
  err = sp_cbor_get_bytes (&doc, v, &p, &n);
  if (err == SP_OK && n != SIGNET_SHA256_LEN)
    err = SP_ERR_VALUE;
  if (err != SP_OK)
    return set_proto_error (error, SIGNET_POP_ERROR_MALFORMED, "ath", err);
  pl->ath = p;

  FIND (KEY_BH, "bh");
  err = sp_cbor_get_bytes (&doc, v, &p, &n);
  if (err == SP_OK && n != SIGNET_SHA256_LEN)
    err = SP_ERR_VALUE;
  if (err != SP_OK)
    return set_proto_error (error, SIGNET_POP_ERROR_MALFORMED, "bh", err);
  pl->bh = p;

#undef FIND
  return TRUE;
}

static gboolean
text_equal (const char *a,
            gsize       a_len,
            const char *b)
{
  gsize b_len = strlen (b);

  return a_len == b_len && (a_len == 0 || memcmp (a, b, a_len) == 0);
}

/**
 * signet_pop_verify:
 * @header_value: the Signet-PoP header value
 * @token: the token bytes of the request's Authorization header
 * @claims: the claims of @token, already verified
 * @method: the request method
 * @path_and_query: the request target, as received
 * @body: (nullable): the request body
 * @now: the verifier's clock
 * @max_skew_seconds: the largest accepted |iat - now|
 * @out_jti: (out) (optional) (transfer full): the proof's jti
 * @out_iat: (out) (optional): the proof's iat
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the proof is good
 */
gboolean
signet_pop_verify (const char          *header_value,
                   GBytes              *token,
                   const sp_cwt_claims *claims,
                   const char          *method,
                   const char          *path_and_query,
                   GBytes              *body,
                   gint64               now,
                   guint                max_skew_seconds,
                   GBytes             **out_jti,
                   gint64              *out_iat,
                   GError             **error)
{
  g_autoptr(GBytes) proof = NULL;
  g_autoptr(GError) local_error = NULL;
  guint8 digest[SIGNET_SHA256_LEN];
  const guint8 *proof_p, *token_p;
  gsize proof_len, token_len;
  guint64 skew;
  sp_cose_sign1 msg;
  PopPayload pl;
  sp_err err;

  g_return_val_if_fail (header_value != NULL, FALSE);
  g_return_val_if_fail (token != NULL, FALSE);
  g_return_val_if_fail (claims != NULL, FALSE);
  g_return_val_if_fail ((claims->present & (SP_CWT_CTI | SP_CWT_CNF)) ==
                        (SP_CWT_CTI | SP_CWT_CNF), FALSE);
  g_return_val_if_fail (method != NULL, FALSE);
  g_return_val_if_fail (path_and_query != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  proof = signet_base64url_decode (header_value, -1, SIGNET_POP_HEADER_MAX,
                                   &local_error);
  if (proof == NULL)
    {
      g_set_error (error, SIGNET_POP_ERROR, SIGNET_POP_ERROR_MALFORMED,
                   "Proof of possession: %s", local_error->message);
      return FALSE;
    }
  proof_p = g_bytes_get_data (proof, &proof_len);

  /* The envelope: a tagged COSE_Sign1 under our strict policy, with the
   * PoP content type, so no other object of the same key passes. */
  err = sp_cose_sign1_decode (proof_p, proof_len, NULL, &msg);
  if (err == SP_OK && !msg.tagged)
    err = SP_ERR_COSE_TAG;
  if (err == SP_OK)
    err = sp_cose_sign1_check_strict (&msg, SIGNET_POP_CONTENT_TYPE);
  if (err != SP_OK)
    return set_proto_error (error, SIGNET_POP_ERROR_MALFORMED, "COSE_Sign1", err);

  /* kid names the token; a kid is a public label, compared plainly. */
  if (msg.kid_len != claims->cti_len ||
      memcmp (msg.kid, claims->cti, msg.kid_len) != 0)
    return set_error (error, SIGNET_POP_ERROR_WRONG_TOKEN,
                      "the proof names another token (kid is not the token's cti)");

  /* The signature before the payload: nothing unauthenticated is read. */
  err = sp_cose_sign1_verify (signet_crypto_port_openssl (), &msg,
                              claims->cnf.pub, NULL, 0);
  if (err == SP_ERR_BAD_SIGNATURE || err == SP_ERR_KEY)
    return set_error (error, SIGNET_POP_ERROR_BAD_SIGNATURE,
                      "the signature does not verify with the token's key");
  if (err != SP_OK)
    return set_proto_error (error, SIGNET_POP_ERROR_FAILED, "signature", err);

  if (!decode_payload (msg.payload, msg.payload_len, &pl, error))
    return FALSE;

  token_p = g_bytes_get_data (token, &token_len);
  signet_sha256_buf (token_len > 0 ? token_p : (gconstpointer) "", token_len,
                     digest);
  if (!signet_secret_equal (digest, pl.ath, SIGNET_SHA256_LEN))
    return set_error (error, SIGNET_POP_ERROR_WRONG_TOKEN,
                      "the proof is for another token (ath)");

  /* |iat - now| in unsigned arithmetic: iat >= 0, so the difference
   * always fits in 64 bits. */
  skew = pl.iat >= now ? (guint64) pl.iat - (guint64) now
                       : (guint64) now - (guint64) pl.iat;
  if (skew > max_skew_seconds)
    return set_error (error, SIGNET_POP_ERROR_STALE,
                      pl.iat > now ? "iat is too far in the future"
                                   : "iat is too old");

  if (!text_equal (pl.htm, pl.htm_len, method))
    return set_error (error, SIGNET_POP_ERROR_MISMATCH,
                      "the method (htm) does not match the request");
  if (!text_equal (pl.htu, pl.htu_len, path_and_query))
    return set_error (error, SIGNET_POP_ERROR_MISMATCH,
                      "the path (htu) does not match the request");
  sha256_of (body, digest);
  if (!signet_secret_equal (digest, pl.bh, SIGNET_SHA256_LEN))
    return set_error (error, SIGNET_POP_ERROR_MISMATCH,
                      "the body hash (bh) does not match the request");

  if (out_jti != NULL)
    *out_jti = g_bytes_new (pl.jti, SIGNET_POP_JTI_LEN);
  if (out_iat != NULL)
    *out_iat = pl.iat;
  return TRUE;
}

/* ---- Authorization --------------------------------------------------------- */

/**
 * signet_pop_parse_authorization:
 * @header_value: an Authorization header value
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the token bytes
 */
GBytes *
signet_pop_parse_authorization (const char  *header_value,
                                GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  GBytes *token;
  gsize len;

  g_return_val_if_fail (header_value != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  len = strnlen (header_value, SIGNET_POP_AUTHORIZATION_MAX + 1);
  if (len > SIGNET_POP_AUTHORIZATION_MAX)
    {
      set_error (error, SIGNET_POP_ERROR_MALFORMED,
                 "the Authorization header is too long");
      return NULL;
    }
  /* RFC 9110 §11.1: the scheme is case-insensitive. One space, then the
   * token68; the strict decoder refuses any further space. */
  if (len < 4 || g_ascii_strncasecmp (header_value, "PoP", 3) != 0 ||
      header_value[3] != ' ')
    {
      set_error (error, SIGNET_POP_ERROR_MALFORMED,
                 "the Authorization header is not \"PoP <token>\"");
      return NULL;
    }
  token = signet_base64url_decode (header_value + 4, (gssize) (len - 4),
                                   SIGNET_POP_AUTHORIZATION_MAX - 4, &local_error);
  if (token == NULL)
    {
      g_set_error (error, SIGNET_POP_ERROR, SIGNET_POP_ERROR_MALFORMED,
                   "Proof of possession: token: %s", local_error->message);
      return NULL;
    }
  if (g_bytes_get_size (token) == 0)
    {
      g_bytes_unref (token);
      set_error (error, SIGNET_POP_ERROR_MALFORMED,
                 "the Authorization header has an empty token");
      return NULL;
    }
  return token;
}
