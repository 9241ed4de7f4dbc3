/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "fuzz-port.h"

static sp_err
touch_sha256 (void *ctx, const sp_iovec *iov, size_t n,
              uint8_t out[SP_SHA256_LEN])
{
  uint8_t acc = 0;
  size_t i, j;

  for (i = 0; i < n; i++)
    {
      const uint8_t *p = iov[i].base;

      if (p == NULL && iov[i].len != 0)
        abort ();
      for (j = 0; j < iov[i].len; j++)
        acc ^= p[j];
    }
  memset (out, acc, SP_SHA256_LEN);
  return SP_OK;
}

static sp_err
accept_verify (void *ctx, const uint8_t pub[SP_P256_PUB_LEN],
               const uint8_t digest[SP_SHA256_LEN],
               const uint8_t sig[SP_P256_SIG_LEN])
{
  return SP_OK;
}

static sp_err
touch_verify (void *ctx, const uint8_t pub[SP_P256_PUB_LEN],
              const uint8_t digest[SP_SHA256_LEN],
              const uint8_t sig[SP_P256_SIG_LEN])
{
  uint8_t acc = 0;
  size_t i;

  for (i = 0; i < SP_P256_SIG_LEN; i++)
    acc ^= sig[i];
  return acc == digest[0] ? SP_OK : SP_ERR_BAD_SIGNATURE;
}

const sp_crypto_port fuzz_accept_port = {
  .sha256 = touch_sha256,
  .ecdsa_p256_verify = accept_verify,
};

const sp_crypto_port fuzz_touch_port = {
  .sha256 = touch_sha256,
  .ecdsa_p256_verify = touch_verify,
};
