/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-cose.c: COSE_Sign1 with ES256: decode, verify, sign.
 */
#include "sp-cose.h"

#include <string.h>

#define SIG1_CONTEXT "Signature1"

/* Protected header we write: map, alg, cty, kid (see SP_COSE_SIGN1_OVERHEAD). */
#define PROTECTED_MAX (1 + 2 + 1 + 2 + SP_COSE_CTY_MAX + 1 + 2 + SP_COSE_KID_MAX)

/* ------------------------------------------------------------------ */
/* Sig_structure                                                       */
/* ------------------------------------------------------------------ */

/* Room for the CBOR heads around the three byte strings. */
typedef struct tbs_heads {
  uint8_t first[1 + 1 + 10 + 9];  /* array(4), "Signature1", bstr head */
  uint8_t aad[9];
  uint8_t payload[9];
} tbs_heads;

static sp_err
put_head (uint8_t *buf, size_t cap, size_t n, size_t *len)
{
  sp_cbor_writer w;

  sp_cbor_writer_init (&w, buf, cap);
  sp_cbor_put_bytes_head (&w, n);
  return sp_cbor_writer_finish (&w, len);
}

/* The Sig_structure as a gather list over the caller's bytes: only the
 * heads are encoded, into h; protected, AAD and payload stay in place. */
static sp_err
tbs_iov (tbs_heads *h, const uint8_t *prot, size_t prot_len,
         const uint8_t *aad, size_t aad_len,
         const uint8_t *payload, size_t payload_len,
         sp_iovec iov[6], size_t *n_iov)
{
  sp_cbor_writer w;
  size_t first_len, aad_head_len, payload_head_len, n = 0;
  sp_err err;

  sp_cbor_writer_init (&w, h->first, sizeof h->first);
  sp_cbor_put_array (&w, 4);
  sp_cbor_put_textz (&w, SIG1_CONTEXT);
  sp_cbor_put_bytes_head (&w, prot_len);
  err = sp_cbor_writer_finish (&w, &first_len);
  if (err == SP_OK)
    err = put_head (h->aad, sizeof h->aad, aad_len, &aad_head_len);
  if (err == SP_OK)
    err = put_head (h->payload, sizeof h->payload, payload_len, &payload_head_len);
  if (err != SP_OK)
    return err;

  /* Empty pieces are left out rather than passed as (NULL, 0). */
  iov[n].base = h->first;
  iov[n++].len = first_len;
  if (prot_len > 0)
    {
      iov[n].base = prot;
      iov[n++].len = prot_len;
    }
  iov[n].base = h->aad;
  iov[n++].len = aad_head_len;
  if (aad_len > 0)
    {
      iov[n].base = aad;
      iov[n++].len = aad_len;
    }
  iov[n].base = h->payload;
  iov[n++].len = payload_head_len;
  if (payload_len > 0)
    {
      iov[n].base = payload;
      iov[n++].len = payload_len;
    }
  *n_iov = n;
  return SP_OK;
}

static sp_err
tbs_hash (const sp_crypto_port *port, const uint8_t *prot, size_t prot_len,
          const uint8_t *aad, size_t aad_len,
          const uint8_t *payload, size_t payload_len,
          uint8_t digest[SP_SHA256_LEN])
{
  tbs_heads h;
  sp_iovec iov[6];
  size_t n_iov;
  sp_err err;

  err = tbs_iov (&h, prot, prot_len, aad, aad_len, payload, payload_len,
                 iov, &n_iov);
  if (err != SP_OK)
    return err;
  return port->sha256 (port->ctx, iov, n_iov, digest);
}

sp_err
sp_cose_sig_structure_write (const uint8_t *protected_hdr, size_t protected_len,
                             const uint8_t *external_aad, size_t external_aad_len,
                             const uint8_t *payload, size_t payload_len,
                             uint8_t *out, size_t cap, size_t *out_len)
{
  tbs_heads h;
  sp_iovec iov[6];
  size_t n_iov, i, len = 0;
  sp_err err;

  if (out_len == NULL || (protected_len > 0 && protected_hdr == NULL) ||
      (external_aad_len > 0 && external_aad == NULL) ||
      (payload_len > 0 && payload == NULL))
    return SP_ERR_INVALID_ARG;

  /* Build it from the same gather list that is hashed, so what the tests
   * compare with the COSE examples is exactly what gets signed. */
  err = tbs_iov (&h, protected_hdr, protected_len, external_aad,
                 external_aad_len, payload, payload_len, iov, &n_iov);
  if (err != SP_OK)
    return err;
  for (i = 0; i < n_iov; i++)
    {
      if (iov[i].len > cap - len)
        return SP_ERR_BUFFER_TOO_SMALL;
      memcpy (out + len, iov[i].base, iov[i].len);
      len += iov[i].len;
    }
  *out_len = len;
  return SP_OK;
}

/* ------------------------------------------------------------------ */
/* Decode                                                              */
/* ------------------------------------------------------------------ */

/* Does the protected header (hdoc, a map, or NULL when empty) have a key
 * encoded exactly like key_raw? */
static bool
protected_has_key (const sp_cbor_doc *hdoc, const uint8_t *key_raw,
                   size_t key_len)
{
  sp_cbor_iter it;
  size_t k, v;

  if (hdoc == NULL || sp_cbor_iter_init (&it, hdoc, 0, SP_CBOR_MAP) != SP_OK)
    return false;
  while (sp_cbor_iter_next_pair (&it, &k, &v))
    {
      const uint8_t *p;
      size_t len;

      if (sp_cbor_get_raw (hdoc, k, &p, &len) == SP_OK && len == key_len &&
          memcmp (p, key_raw, len) == 0)
        return true;
    }
  return false;
}

/* Read one header bucket (a decoded map) into msg. other is the
 * protected header when reading the unprotected one. */
static sp_err
read_bucket (const sp_cbor_doc *doc, size_t map, sp_cose_bucket bucket,
             const sp_cbor_doc *other, sp_cose_sign1 *msg)
{
  sp_cbor_iter it;
  size_t k, v;
  sp_err err = sp_cbor_iter_init (&it, doc, map, SP_CBOR_MAP);

  if (err != SP_OK)
    return SP_ERR_COSE_HEADER;

  while (sp_cbor_iter_next_pair (&it, &k, &v))
    {
      sp_cbor_type kt = sp_cbor_item_type (doc, k);
      int64_t label;

      if (kt != SP_CBOR_UINT && kt != SP_CBOR_NINT && kt != SP_CBOR_TEXT)
        return SP_ERR_COSE_HEADER;  /* labels are int / tstr (§3) */

      if (other != NULL)
        {
          const uint8_t *raw;
          size_t raw_len;

          /* RFC 9052 §3: a label in both buckets makes the message
           * malformed; otherwise an attacker could add an unprotected
           * value a sloppy reader would prefer. */
          if (sp_cbor_get_raw (doc, k, &raw, &raw_len) != SP_OK ||
              protected_has_key (other, raw, raw_len))
            return SP_ERR_COSE_HEADER;
        }

      if (kt == SP_CBOR_TEXT || sp_cbor_get_int (doc, k, &label) != SP_OK)
        continue;  /* text labels and huge ints: none we know */

      switch (label)
        {
        case SP_COSE_HDR_ALG:
          msg->alg_in = bucket;
          switch (sp_cbor_item_type (doc, v))
            {
            case SP_CBOR_UINT:
            case SP_CBOR_NINT:
              /* An alg past int64_t is unknown, not malformed. */
              msg->alg_is_int = sp_cbor_get_int (doc, v, &msg->alg) == SP_OK;
              break;
            case SP_CBOR_TEXT:
              msg->alg_is_int = false;
              break;
            default:
              return SP_ERR_COSE_HEADER;
            }
          break;

        case SP_COSE_HDR_CRIT:
          return SP_ERR_COSE_HEADER;

        case SP_COSE_HDR_CTY:
          msg->cty_in = bucket;
          if (sp_cbor_get_text (doc, v, &msg->cty_text, &msg->cty_len) == SP_OK)
            msg->cty_is_text = true;
          else if (sp_cbor_get_uint (doc, v, &msg->cty_uint) != SP_OK ||
                   msg->cty_uint > 65535)
            return SP_ERR_COSE_HEADER;  /* CoAP content formats are 16-bit */
          break;

        case SP_COSE_HDR_KID:
          msg->kid_in = bucket;
          if (sp_cbor_get_bytes (doc, v, &msg->kid, &msg->kid_len) != SP_OK)
            return SP_ERR_COSE_HEADER;
          break;

        default:
          break;
        }
    }
  return SP_OK;
}

sp_err
sp_cose_sign1_decode (const uint8_t *buf, size_t len,
                      const sp_cbor_limits *limits, sp_cose_sign1 *msg)
{
  sp_cbor_item items[SP_COSE_MAX_ITEMS];
  sp_cbor_item hitems[SP_COSE_MAX_HEADER_ITEMS];
  sp_cbor_doc doc, hdoc;
  const sp_cbor_doc *hdocp = NULL;
  size_t root = 0, count, prot, unprot, payload, sig;
  uint64_t tag;
  sp_cose_sign1 m;
  sp_err err;

  if (msg == NULL)
    return SP_ERR_INVALID_ARG;
  memset (msg, 0, sizeof *msg);
  memset (&m, 0, sizeof m);

  err = sp_cbor_decode (buf, len, limits, items, SP_COSE_MAX_ITEMS, &doc);
  if (err != SP_OK)
    return err;

  if (sp_cbor_get_tag (&doc, root, &tag, &root) == SP_OK)
    {
      if (tag != SP_COSE_SIGN1_TAG)
        return SP_ERR_COSE_TAG;
      m.tagged = true;
      /* One tag names the structure; 18(18(...)) or 18(61(...)) is not a
       * COSE_Sign1. */
      if (sp_cbor_item_type (&doc, root) == SP_CBOR_TAG)
        return SP_ERR_COSE_TAG;
    }

  err = sp_cbor_get_count (&doc, root, SP_CBOR_ARRAY, &count);
  if (err != SP_OK)
    return err;
  if (count != 4)
    return SP_ERR_VALUE;
  prot = root + 1;
  unprot = doc.items[prot].next;
  payload = doc.items[unprot].next;
  sig = doc.items[payload].next;

  err = sp_cbor_get_bytes (&doc, prot, &m.protected_hdr, &m.protected_len);
  if (err != SP_OK)
    return err;
  if (sp_cbor_item_type (&doc, unprot) != SP_CBOR_MAP)
    return SP_ERR_TYPE;
  if (sp_cbor_get_null (&doc, payload) == SP_OK)
    return SP_ERR_COSE_HEADER;  /* detached content: not supported */
  err = sp_cbor_get_bytes (&doc, payload, &m.payload, &m.payload_len);
  if (err == SP_OK)
    err = sp_cbor_get_bytes (&doc, sig, &m.signature, &m.signature_len);
  if (err != SP_OK)
    return err;

  /* A zero-length protected bstr is the empty header (RFC 9052 §3). */
  if (m.protected_len > 0)
    {
      err = sp_cbor_decode (m.protected_hdr, m.protected_len, limits, hitems,
                            SP_COSE_MAX_HEADER_ITEMS, &hdoc);
      if (err != SP_OK)
        return err;
      err = read_bucket (&hdoc, 0, SP_COSE_PROTECTED, NULL, &m);
      if (err != SP_OK)
        return err;
      hdocp = &hdoc;
      m.protected_empty = hdoc.items[0].value == 0;
    }
  else
    m.protected_empty = true;
  err = sp_cbor_get_count (&doc, unprot, SP_CBOR_MAP, &m.unprotected_count);
  if (err == SP_OK)
    err = read_bucket (&doc, unprot, SP_COSE_UNPROTECTED, hdocp, &m);
  if (err != SP_OK)
    return err;

  *msg = m;
  return SP_OK;
}

/* ------------------------------------------------------------------ */
/* Verify and policy                                                   */
/* ------------------------------------------------------------------ */

sp_err
sp_cose_sign1_verify (const sp_crypto_port *port, const sp_cose_sign1 *msg,
                      const uint8_t pub[SP_P256_PUB_LEN],
                      const uint8_t *external_aad, size_t external_aad_len)
{
  uint8_t digest[SP_SHA256_LEN];
  sp_err err;

  if (port == NULL || msg == NULL || pub == NULL ||
      (external_aad == NULL && external_aad_len > 0))
    return SP_ERR_INVALID_ARG;
  if (msg->alg_in == SP_COSE_ABSENT || !msg->alg_is_int ||
      msg->alg != SP_COSE_ALG_ES256)
    return SP_ERR_COSE_ALG;
  if (msg->signature_len != SP_P256_SIG_LEN)
    return SP_ERR_BAD_SIGNATURE;

  err = tbs_hash (port, msg->protected_hdr,
                  msg->protected_empty ? 0 : msg->protected_len,
                  external_aad, external_aad_len,
                  msg->payload, msg->payload_len, digest);
  if (err != SP_OK)
    return err;
  return port->ecdsa_p256_verify (port->ctx, pub, digest, msg->signature);
}

sp_err
sp_cose_sign1_sig_structure (const sp_cose_sign1 *msg,
                             const uint8_t *external_aad, size_t external_aad_len,
                             uint8_t *out, size_t cap, size_t *out_len)
{
  if (msg == NULL)
    return SP_ERR_INVALID_ARG;
  /* RFC 9052 §4.4: "If there are no protected attributes, a zero-length
   * byte string is used", whatever the message carried. */
  return sp_cose_sig_structure_write (msg->protected_hdr,
                                      msg->protected_empty ? 0 : msg->protected_len,
                                      external_aad, external_aad_len,
                                      msg->payload, msg->payload_len,
                                      out, cap, out_len);
}

bool
sp_cose_sign1_content_type_is (const sp_cose_sign1 *msg, const char *s)
{
  size_t len;

  if (msg == NULL || s == NULL || msg->cty_in == SP_COSE_ABSENT ||
      !msg->cty_is_text)
    return false;
  len = strlen (s);
  return msg->cty_len == len && (len == 0 || memcmp (msg->cty_text, s, len) == 0);
}

sp_err
sp_cose_sign1_check_strict (const sp_cose_sign1 *msg, const char *content_type)
{
  if (msg == NULL)
    return SP_ERR_INVALID_ARG;
  if (msg->alg_in != SP_COSE_PROTECTED)
    return msg->alg_in == SP_COSE_ABSENT ? SP_ERR_COSE_ALG : SP_ERR_COSE_HEADER;
  if (!msg->alg_is_int || msg->alg != SP_COSE_ALG_ES256)
    return SP_ERR_COSE_ALG;
  if (msg->kid_in != SP_COSE_PROTECTED || msg->kid_len == 0)
    return SP_ERR_COSE_HEADER;
  /* Nothing unauthenticated rides along with our objects. */
  if (msg->unprotected_count != 0)
    return SP_ERR_COSE_HEADER;
  if (content_type == NULL)
    return msg->cty_in == SP_COSE_ABSENT ? SP_OK : SP_ERR_COSE_HEADER;
  if (msg->cty_in != SP_COSE_PROTECTED ||
      !sp_cose_sign1_content_type_is (msg, content_type))
    return SP_ERR_COSE_HEADER;
  return SP_OK;
}

/* ------------------------------------------------------------------ */
/* Sign                                                                */
/* ------------------------------------------------------------------ */

sp_err
sp_cose_sign1_sign (const sp_crypto_port *port, const sp_key *key,
                    const sp_cose_sign1_params *params,
                    const uint8_t *payload, size_t payload_len,
                    uint8_t *out, size_t cap, size_t *out_len)
{
  uint8_t prot[PROTECTED_MAX];
  uint8_t prefix[1 + 1 + 3 + PROTECTED_MAX + 1 + 9];
  uint8_t digest[SP_SHA256_LEN];
  size_t prot_len, prefix_len, cty_len = 0, total;
  sp_cbor_writer w;
  sp_err err;

  if (port == NULL || key == NULL || params == NULL || out == NULL ||
      out_len == NULL || (payload == NULL && payload_len > 0) ||
      (params->external_aad == NULL && params->external_aad_len > 0) ||
      params->kid == NULL || params->kid_len == 0 ||
      params->kid_len > SP_COSE_KID_MAX)
    return SP_ERR_INVALID_ARG;
  if (params->content_type != NULL)
    {
      cty_len = strlen (params->content_type);
      if (cty_len > SP_COSE_CTY_MAX)
        return SP_ERR_INVALID_ARG;
    }

  /* Protected header, labels in deterministic order 1, 3, 4. */
  sp_cbor_writer_init (&w, prot, sizeof prot);
  sp_cbor_put_map (&w, params->content_type != NULL ? 3 : 2);
  sp_cbor_put_int (&w, SP_COSE_HDR_ALG);
  sp_cbor_put_int (&w, SP_COSE_ALG_ES256);
  if (params->content_type != NULL)
    {
      sp_cbor_put_int (&w, SP_COSE_HDR_CTY);
      sp_cbor_put_text (&w, params->content_type, cty_len);
    }
  sp_cbor_put_int (&w, SP_COSE_HDR_KID);
  sp_cbor_put_bytes (&w, params->kid, params->kid_len);
  err = sp_cbor_writer_finish (&w, &prot_len);
  if (err != SP_OK)
    return err;

  /* Everything before the payload bytes. */
  sp_cbor_writer_init (&w, prefix, sizeof prefix);
  sp_cbor_put_tag (&w, SP_COSE_SIGN1_TAG);
  sp_cbor_put_array (&w, 4);
  sp_cbor_put_bytes (&w, prot, prot_len);
  sp_cbor_put_map (&w, 0);
  sp_cbor_put_bytes_head (&w, payload_len);
  err = sp_cbor_writer_finish (&w, &prefix_len);
  if (err != SP_OK)
    return err;

  if (payload_len > cap || cap - payload_len < prefix_len + 2 + SP_P256_SIG_LEN)
    return SP_ERR_BUFFER_TOO_SMALL;
  total = prefix_len + payload_len + 2 + SP_P256_SIG_LEN;

  /* Payload first, with memmove: it may already sit inside out. */
  if (payload_len > 0)
    memmove (out + prefix_len, payload, payload_len);
  memcpy (out, prefix, prefix_len);

  err = tbs_hash (port, prot, prot_len, params->external_aad,
                  params->external_aad_len, out + prefix_len, payload_len,
                  digest);
  if (err != SP_OK)
    return err;

  out[prefix_len + payload_len] = 0x58;  /* bstr, one-byte length */
  out[prefix_len + payload_len + 1] = SP_P256_SIG_LEN;
  err = port->ecdsa_p256_sign (port->ctx, key, digest,
                               out + prefix_len + payload_len + 2);
  if (err != SP_OK)
    return err;

  *out_len = total;
  return SP_OK;
}
