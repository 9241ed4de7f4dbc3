/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-evidence.c: attestation evidence, signed and verified without a heap.
 */
#include "sp-evidence.h"

#include <string.h>

/* Items the payload decoder takes: room beyond SP_EVIDENCE_ITEMS so a
 * map with an extra member is refused as an unknown field, which says
 * more than "too many items" would. */
#define DECODE_ITEMS 32

/* The protected header: map head, alg, content type, kid. */
#define PROTECTED_MAX (1 + 1 + 1 + 1 + 2 + sizeof SP_EVIDENCE_CONTENT_TYPE + \
                       1 + 2 + SP_EVIDENCE_TEXT_MAX)

static bool
text_ok (const char *p, size_t len)
{
  return p != NULL && len >= 1 && len <= SP_EVIDENCE_TEXT_MAX &&
         sp_cbor_utf8_valid ((const uint8_t *) p, len);
}

static sp_err
check_for_encode (const sp_evidence *ev)
{
  if (ev->challenge == NULL || ev->kem_pub == NULL || ev->session_nonce == NULL)
    return SP_ERR_INVALID_ARG;
  if (!text_ok (ev->serial, ev->serial_len) || !text_ok (ev->model, ev->model_len) ||
      !text_ok (ev->firmware, ev->firmware_len))
    return SP_ERR_VALUE;
  if (ev->kem_pub[0] != 0x04)
    return SP_ERR_VALUE;
  return SP_OK;
}

static void
write_payload (const sp_evidence *ev, sp_cbor_writer *w)
{
  /* Keys 1..8 in order: deterministic. */
  sp_cbor_put_map (w, 8);
  sp_cbor_put_uint (w, SP_EVIDENCE_KEY_SERIAL);
  sp_cbor_put_text (w, ev->serial, ev->serial_len);
  sp_cbor_put_uint (w, SP_EVIDENCE_KEY_MODEL);
  sp_cbor_put_text (w, ev->model, ev->model_len);
  sp_cbor_put_uint (w, SP_EVIDENCE_KEY_CHALLENGE);
  sp_cbor_put_bytes (w, ev->challenge, SP_EVIDENCE_CHALLENGE_LEN);
  sp_cbor_put_uint (w, SP_EVIDENCE_KEY_KEM_PUB);
  sp_cbor_put_bytes (w, ev->kem_pub, SP_EVIDENCE_KEM_PUB_LEN);
  sp_cbor_put_uint (w, SP_EVIDENCE_KEY_FIRMWARE);
  sp_cbor_put_text (w, ev->firmware, ev->firmware_len);
  sp_cbor_put_uint (w, SP_EVIDENCE_KEY_CONFIG_VERSION);
  sp_cbor_put_uint (w, ev->config_version);
  sp_cbor_put_uint (w, SP_EVIDENCE_KEY_SESSION_NONCE);
  sp_cbor_put_bytes (w, ev->session_nonce, SP_EVIDENCE_NONCE_LEN);
  sp_cbor_put_uint (w, SP_EVIDENCE_KEY_DEVICE_TIME);
  sp_cbor_put_uint (w, ev->device_time);
}

sp_err
sp_evidence_encode (const sp_evidence *ev, uint8_t *out, size_t cap,
                    size_t *out_len)
{
  sp_cbor_writer w;
  sp_err err;

  if (ev == NULL || out_len == NULL || (out == NULL && cap > 0))
    return SP_ERR_INVALID_ARG;
  err = check_for_encode (ev);
  if (err != SP_OK)
    return err;
  sp_cbor_writer_init (&w, out, cap);
  write_payload (ev, &w);
  return sp_cbor_writer_finish (&w, out_len);
}

sp_err
sp_evidence_sign (const sp_crypto_port *port, const sp_key *key,
                  const sp_evidence *ev, uint8_t *out, size_t cap,
                  size_t *out_len)
{
  sp_cose_sign1_params params;
  size_t payload_len;
  sp_err err;

  if (port == NULL || key == NULL || ev == NULL || out == NULL ||
      out_len == NULL)
    return SP_ERR_INVALID_ARG;
  /* Encode where no COSE prefix can reach, then let sp_cose_sign1_sign
   * move the payload into place (as sp_cwt_sign does). */
  if (cap <= SP_COSE_SIGN1_OVERHEAD)
    return SP_ERR_BUFFER_TOO_SMALL;
  err = sp_evidence_encode (ev, out + SP_COSE_SIGN1_OVERHEAD,
                            cap - SP_COSE_SIGN1_OVERHEAD, &payload_len);
  if (err != SP_OK)
    return err;

  memset (&params, 0, sizeof params);
  params.kid = (const uint8_t *) ev->serial;
  params.kid_len = ev->serial_len;
  params.content_type = SP_EVIDENCE_CONTENT_TYPE;
  return sp_cose_sign1_sign (port, key, &params, out + SP_COSE_SIGN1_OVERHEAD,
                             payload_len, out, cap, out_len);
}

static sp_err
read_text (const sp_cbor_doc *doc, size_t map, int64_t key, const char **p,
           size_t *len)
{
  size_t v;
  sp_err err = sp_cbor_map_find_int (doc, map, key, &v);

  if (err == SP_OK)
    err = sp_cbor_get_text (doc, v, p, len);
  if (err == SP_OK && (*len == 0 || *len > SP_EVIDENCE_TEXT_MAX))
    err = SP_ERR_VALUE;
  return err;
}

static sp_err
read_fixed_bytes (const sp_cbor_doc *doc, size_t map, int64_t key,
                  size_t want, const uint8_t **p)
{
  size_t v, len = 0;
  sp_err err = sp_cbor_map_find_int (doc, map, key, &v);

  if (err == SP_OK)
    err = sp_cbor_get_bytes (doc, v, p, &len);
  if (err == SP_OK && len != want)
    err = SP_ERR_VALUE;
  return err;
}

static sp_err
read_uint (const sp_cbor_doc *doc, size_t map, int64_t key, uint64_t *out)
{
  size_t v;
  sp_err err = sp_cbor_map_find_int (doc, map, key, &v);

  if (err == SP_OK)
    err = sp_cbor_get_uint (doc, v, out);
  return err;
}

sp_err
sp_evidence_decode (const uint8_t *payload, size_t len, sp_evidence *ev)
{
  static const sp_cbor_key allowed[] = {
    SP_CBOR_KEY_INT (SP_EVIDENCE_KEY_SERIAL),
    SP_CBOR_KEY_INT (SP_EVIDENCE_KEY_MODEL),
    SP_CBOR_KEY_INT (SP_EVIDENCE_KEY_CHALLENGE),
    SP_CBOR_KEY_INT (SP_EVIDENCE_KEY_KEM_PUB),
    SP_CBOR_KEY_INT (SP_EVIDENCE_KEY_FIRMWARE),
    SP_CBOR_KEY_INT (SP_EVIDENCE_KEY_CONFIG_VERSION),
    SP_CBOR_KEY_INT (SP_EVIDENCE_KEY_SESSION_NONCE),
    SP_CBOR_KEY_INT (SP_EVIDENCE_KEY_DEVICE_TIME),
  };
  sp_cbor_item items[DECODE_ITEMS];
  sp_cbor_limits limits = sp_cbor_limits_default;
  sp_cbor_doc doc;
  sp_evidence e;
  sp_err err;

  if (ev == NULL)
    return SP_ERR_INVALID_ARG;
  memset (ev, 0, sizeof *ev);
  memset (&e, 0, sizeof e);
  limits.max_size = SP_EVIDENCE_PAYLOAD_MAX;
  limits.max_depth = 1;
  limits.max_items = DECODE_ITEMS;

  err = sp_cbor_decode (payload, len, &limits, items, DECODE_ITEMS, &doc);
  if (err == SP_OK && sp_cbor_item_type (&doc, 0) != SP_CBOR_MAP)
    err = SP_ERR_TYPE;
  if (err == SP_OK)
    err = sp_cbor_map_check_keys (&doc, 0, allowed,
                                  sizeof allowed / sizeof allowed[0]);
  if (err == SP_OK)
    err = read_text (&doc, 0, SP_EVIDENCE_KEY_SERIAL, &e.serial, &e.serial_len);
  if (err == SP_OK)
    err = read_text (&doc, 0, SP_EVIDENCE_KEY_MODEL, &e.model, &e.model_len);
  if (err == SP_OK)
    err = read_fixed_bytes (&doc, 0, SP_EVIDENCE_KEY_CHALLENGE,
                            SP_EVIDENCE_CHALLENGE_LEN, &e.challenge);
  if (err == SP_OK)
    err = read_fixed_bytes (&doc, 0, SP_EVIDENCE_KEY_KEM_PUB,
                            SP_EVIDENCE_KEM_PUB_LEN, &e.kem_pub);
  if (err == SP_OK && e.kem_pub[0] != 0x04)
    err = SP_ERR_VALUE;
  if (err == SP_OK)
    err = read_text (&doc, 0, SP_EVIDENCE_KEY_FIRMWARE, &e.firmware,
                     &e.firmware_len);
  if (err == SP_OK)
    err = read_uint (&doc, 0, SP_EVIDENCE_KEY_CONFIG_VERSION, &e.config_version);
  if (err == SP_OK)
    err = read_fixed_bytes (&doc, 0, SP_EVIDENCE_KEY_SESSION_NONCE,
                            SP_EVIDENCE_NONCE_LEN, &e.session_nonce);
  if (err == SP_OK)
    err = read_uint (&doc, 0, SP_EVIDENCE_KEY_DEVICE_TIME, &e.device_time);

  if (err == SP_OK)
    *ev = e;
  return err;
}

/* The protected header we would write for this serial. */
static sp_err
expected_protected (const char *serial, size_t serial_len, uint8_t *out,
                    size_t cap, size_t *out_len)
{
  sp_cbor_writer w;

  sp_cbor_writer_init (&w, out, cap);
  sp_cbor_put_map (&w, 3);
  sp_cbor_put_uint (&w, SP_COSE_HDR_ALG);
  sp_cbor_put_int (&w, SP_COSE_ALG_ES256);
  sp_cbor_put_uint (&w, SP_COSE_HDR_CTY);
  sp_cbor_put_textz (&w, SP_EVIDENCE_CONTENT_TYPE);
  sp_cbor_put_uint (&w, SP_COSE_HDR_KID);
  sp_cbor_put_bytes (&w, serial, serial_len);
  return sp_cbor_writer_finish (&w, out_len);
}

sp_err
sp_evidence_verify (const sp_crypto_port *port, const uint8_t *buf, size_t len,
                    const uint8_t leaf_pub[SP_P256_PUB_LEN], sp_evidence *ev)
{
  uint8_t prot[PROTECTED_MAX];
  sp_cbor_limits limits = sp_cbor_limits_default;
  sp_cose_sign1 msg;
  sp_evidence e;
  size_t prot_len = 0;
  sp_err err;

  if (ev == NULL)
    return SP_ERR_INVALID_ARG;
  memset (ev, 0, sizeof *ev);
  if (port == NULL || leaf_pub == NULL || (buf == NULL && len > 0))
    return SP_ERR_INVALID_ARG;
  if (len > SP_EVIDENCE_MAX_SIZE)
    return SP_ERR_CBOR_TOO_LARGE;

  limits.max_size = SP_EVIDENCE_MAX_SIZE;
  err = sp_cose_sign1_decode (buf, len, &limits, &msg);
  if (err == SP_OK && !msg.tagged)
    err = SP_ERR_COSE_TAG;
  if (err == SP_OK)
    err = sp_cose_sign1_check_strict (&msg, SP_EVIDENCE_CONTENT_TYPE);
  if (err == SP_OK)
    err = sp_cose_sign1_verify (port, &msg, leaf_pub, NULL, 0);
  /* Signed by the device: now the payload may be read. */
  if (err == SP_OK)
    err = sp_evidence_decode (msg.payload, msg.payload_len, &e);
  /* Exactly our header for this serial: the kid is the serial, nothing
   * else is in it, and it is deterministically encoded. */
  if (err == SP_OK)
    err = expected_protected (e.serial, e.serial_len, prot, sizeof prot,
                              &prot_len);
  if (err == SP_OK &&
      (prot_len != msg.protected_len ||
       memcmp (prot, msg.protected_hdr, prot_len) != 0))
    err = SP_ERR_COSE_HEADER;

  if (err == SP_OK)
    *ev = e;
  return err;
}
