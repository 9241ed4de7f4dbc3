/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-cose-key.c: COSE_Key for EC2 P-256, in the deterministic form
 * {1: 2, [2: kid], 3: -7, -1: 1, -2: x, -3: y, [-4: d]}.
 */
#include "sp-cose-key.h"

#include <string.h>

#define COORD_LEN 32

/* Enough for the largest COSE_Key map: a map head plus 7 pairs. */
#define KEY_ITEMS 16

sp_err
sp_cose_key_write (const sp_cose_key *key, bool include_private,
                   sp_cbor_writer *w)
{
  bool with_d = include_private && key->has_d;
  /* kty, alg, crv, x, y; then kid and d when present. */
  size_t n_pairs = 5 + (key->kid_len > 0) + with_d;

  if (key->kid_len > SP_COSE_KID_MAX || key->pub[0] != 0x04)
    return SP_ERR_INVALID_ARG;

  /* Labels in deterministic order: 1, 2, 3, then -1, -2, -3, -4. */
  sp_cbor_put_map (w, n_pairs);
  sp_cbor_put_int (w, SP_COSE_KEY_KTY);
  sp_cbor_put_int (w, SP_COSE_KTY_EC2);
  if (key->kid_len > 0)
    {
      sp_cbor_put_int (w, SP_COSE_KEY_KID);
      sp_cbor_put_bytes (w, key->kid, key->kid_len);
    }
  sp_cbor_put_int (w, SP_COSE_KEY_ALG);
  sp_cbor_put_int (w, SP_COSE_ALG_ES256);
  sp_cbor_put_int (w, SP_COSE_KEY_CRV);
  sp_cbor_put_int (w, SP_COSE_CRV_P256);
  sp_cbor_put_int (w, SP_COSE_KEY_X);
  sp_cbor_put_bytes (w, key->pub + 1, COORD_LEN);
  sp_cbor_put_int (w, SP_COSE_KEY_Y);
  sp_cbor_put_bytes (w, key->pub + 1 + COORD_LEN, COORD_LEN);
  if (with_d)
    {
      sp_cbor_put_int (w, SP_COSE_KEY_D);
      sp_cbor_put_bytes (w, key->d, SP_P256_SCALAR_LEN);
    }
  return sp_cbor_writer_finish (w, NULL);
}

sp_err
sp_cose_key_encode (const sp_cose_key *key, bool include_private,
                    uint8_t *out, size_t cap, size_t *out_len)
{
  sp_cbor_writer w;
  sp_err err;

  if (key == NULL || out_len == NULL)
    return SP_ERR_INVALID_ARG;
  sp_cbor_writer_init (&w, out, cap);
  err = sp_cose_key_write (key, include_private, &w);
  if (err != SP_OK)
    {
      /* Do not leave part of a private key behind in the caller's buffer. */
      if (out != NULL && include_private)
        sp_wipe (out, w.len);
      return err;
    }
  return sp_cbor_writer_finish (&w, out_len);
}

/* An integer label that must hold one exact value. */
static sp_err
read_fixed_int (const sp_cbor_doc *doc, size_t map, int64_t label,
                int64_t want, bool required)
{
  size_t v;
  int64_t got;
  sp_err err = sp_cbor_map_find_int (doc, map, label, &v);

  if (err == SP_ERR_MISSING && !required)
    return SP_OK;
  if (err != SP_OK)
    return err;
  err = sp_cbor_get_int (doc, v, &got);
  if (err == SP_ERR_VALUE)
    return SP_ERR_KEY;
  if (err != SP_OK)
    return err;
  return got == want ? SP_OK : SP_ERR_KEY;
}

/* A byte string label of exactly len bytes, copied to out. */
static sp_err
read_fixed_bytes (const sp_cbor_doc *doc, size_t map, int64_t label,
                  uint8_t *out, size_t len)
{
  size_t v, got_len;
  const uint8_t *p;
  sp_err err = sp_cbor_map_find_int (doc, map, label, &v);

  if (err != SP_OK)
    return err;
  err = sp_cbor_get_bytes (doc, v, &p, &got_len);
  if (err != SP_OK)
    return err;
  if (got_len != len)
    return SP_ERR_KEY;
  memcpy (out, p, len);
  return SP_OK;
}

sp_err
sp_cose_key_read (const sp_cbor_doc *doc, size_t idx, sp_cose_key *key)
{
  static const sp_cbor_key allowed[] = {
    SP_CBOR_KEY_INT (SP_COSE_KEY_KTY), SP_CBOR_KEY_INT (SP_COSE_KEY_KID),
    SP_CBOR_KEY_INT (SP_COSE_KEY_ALG), SP_CBOR_KEY_INT (SP_COSE_KEY_CRV),
    SP_CBOR_KEY_INT (SP_COSE_KEY_X), SP_CBOR_KEY_INT (SP_COSE_KEY_Y),
    SP_CBOR_KEY_INT (SP_COSE_KEY_D),
  };
  sp_cose_key k;
  size_t v, len;
  const uint8_t *p;
  sp_err err;

  if (doc == NULL || key == NULL)
    return SP_ERR_INVALID_ARG;
  memset (&k, 0, sizeof k);

  /* Refuse what we do not understand rather than ignore it: a key_ops
   * restriction we dropped would widen what the key may do. */
  err = sp_cbor_map_check_keys (doc, idx, allowed,
                                sizeof allowed / sizeof allowed[0]);
  if (err == SP_OK)
    err = read_fixed_int (doc, idx, SP_COSE_KEY_KTY, SP_COSE_KTY_EC2, true);
  if (err == SP_OK)
    err = read_fixed_int (doc, idx, SP_COSE_KEY_ALG, SP_COSE_ALG_ES256, false);
  if (err == SP_OK)
    err = read_fixed_int (doc, idx, SP_COSE_KEY_CRV, SP_COSE_CRV_P256, true);
  if (err == SP_OK)
    {
      k.pub[0] = 0x04;
      err = read_fixed_bytes (doc, idx, SP_COSE_KEY_X, k.pub + 1, COORD_LEN);
    }
  if (err == SP_OK)
    err = read_fixed_bytes (doc, idx, SP_COSE_KEY_Y, k.pub + 1 + COORD_LEN,
                            COORD_LEN);
  if (err == SP_OK && sp_cbor_map_find_int (doc, idx, SP_COSE_KEY_KID, &v) == SP_OK)
    {
      err = sp_cbor_get_bytes (doc, v, &p, &len);
      if (err == SP_OK && (len == 0 || len > SP_COSE_KID_MAX))
        err = SP_ERR_KEY;
      if (err == SP_OK)
        {
          memcpy (k.kid, p, len);
          k.kid_len = len;
        }
    }
  if (err == SP_OK && sp_cbor_map_find_int (doc, idx, SP_COSE_KEY_D, &v) == SP_OK)
    {
      err = read_fixed_bytes (doc, idx, SP_COSE_KEY_D, k.d, SP_P256_SCALAR_LEN);
      k.has_d = err == SP_OK;
    }

  if (err == SP_OK)
    *key = k;
  sp_wipe (&k, sizeof k);
  return err;
}

sp_err
sp_cose_key_decode (const uint8_t *buf, size_t len, sp_cose_key *key)
{
  sp_cbor_item items[KEY_ITEMS];
  sp_cbor_doc doc;
  sp_err err;

  if (key == NULL)
    return SP_ERR_INVALID_ARG;
  err = sp_cbor_decode (buf, len, NULL, items, KEY_ITEMS, &doc);
  if (err != SP_OK)
    return err;
  return sp_cose_key_read (&doc, 0, key);
}
