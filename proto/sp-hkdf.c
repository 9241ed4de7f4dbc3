/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sp-hkdf.h"

#include <string.h>

sp_err
sp_hkdf_sha256_extract (const sp_crypto_port *port,
                        const uint8_t *salt, size_t salt_len,
                        const sp_iovec *ikm, size_t ikm_n,
                        uint8_t prk[SP_SHA256_LEN])
{
  /* RFC 5869 §2.2: "if not provided, [salt] is set to a string of
   * HashLen zeros"; HMAC zero-pads its key to the block size, so an empty
   * key gives the same PRK and saves a buffer. */
  static const uint8_t no_salt[1] = { 0 };

  if (port == NULL || prk == NULL || (ikm == NULL && ikm_n > 0)
      || (salt == NULL && salt_len > 0))
    return SP_ERR_INVALID_ARG;

  return port->hmac_sha256 (port->ctx, salt_len > 0 ? salt : no_salt,
                            salt_len, ikm, ikm_n, prk);
}

sp_err
sp_hkdf_sha256_expand (const sp_crypto_port *port,
                       const uint8_t *prk, size_t prk_len,
                       const sp_iovec *info, size_t info_n,
                       uint8_t *okm, size_t okm_len)
{
  /* T(i) = HMAC(PRK, T(i-1) || info || i), with T(0) empty */
  sp_iovec iov[SP_HKDF_MAX_INFO_IOV + 2];
  uint8_t t[SP_SHA256_LEN];
  uint8_t counter = 0;
  size_t done = 0;
  size_t i;
  sp_err err = SP_OK;

  if (port == NULL || prk == NULL || prk_len == 0 || okm == NULL
      || (info == NULL && info_n > 0) || info_n > SP_HKDF_MAX_INFO_IOV
      || okm_len == 0 || okm_len > SP_HKDF_SHA256_MAX_OKM)
    return SP_ERR_INVALID_ARG;

  iov[0].base = t;
  iov[0].len = 0;
  for (i = 0; i < info_n; i++)
    iov[1 + i] = info[i];
  iov[1 + info_n].base = &counter;
  iov[1 + info_n].len = 1;

  while (done < okm_len)
    {
      size_t n = okm_len - done < SP_SHA256_LEN ? okm_len - done : SP_SHA256_LEN;

      counter++;
      err = port->hmac_sha256 (port->ctx, prk, prk_len, iov, info_n + 2, t);
      if (err != SP_OK)
        break;
      memcpy (okm + done, t, n);
      done += n;
      iov[0].len = SP_SHA256_LEN;
    }

  sp_wipe (t, sizeof t);
  if (err != SP_OK)
    sp_wipe (okm, okm_len);
  return err;
}

sp_err
sp_hkdf_sha256 (const sp_crypto_port *port,
                const uint8_t *salt, size_t salt_len,
                const sp_iovec *ikm, size_t ikm_n,
                const sp_iovec *info, size_t info_n,
                uint8_t *okm, size_t okm_len)
{
  uint8_t prk[SP_SHA256_LEN];
  sp_err err;

  err = sp_hkdf_sha256_extract (port, salt, salt_len, ikm, ikm_n, prk);
  if (err == SP_OK)
    err = sp_hkdf_sha256_expand (port, prk, sizeof prk, info, info_n,
                                 okm, okm_len);
  sp_wipe (prk, sizeof prk);
  return err;
}
