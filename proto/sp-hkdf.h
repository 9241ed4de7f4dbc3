/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-hkdf.h: HKDF-SHA256 (RFC 5869) over the crypto port's HMAC-SHA-256.
 *
 * Input keying material and info are gather lists (sp_iovec), so callers
 * such as HPKE's LabeledExtract/LabeledExpand can pass prefix, label and
 * value as separate pieces without a concatenation buffer. No heap.
 */
#ifndef SP_HKDF_H
#define SP_HKDF_H

#include <stddef.h>
#include <stdint.h>

#include "sp-crypto-port.h"
#include "sp-error.h"

/* The longest output HKDF-SHA256 can produce: 255 blocks. */
#define SP_HKDF_SHA256_MAX_OKM (255 * SP_SHA256_LEN)

/* The most pieces an info gather list may have (expand adds two of its
 * own, the previous block and the counter, and proto has no heap). */
#define SP_HKDF_MAX_INFO_IOV 8

/* HKDF-Extract: prk = HMAC-SHA-256(salt, ikm[0] || ... || ikm[n-1]).
 * salt may be NULL with salt_len 0, which RFC 5869 defines as HashLen
 * zero bytes (HMAC treats the two the same). prk is written on success. */
sp_err sp_hkdf_sha256_extract (const sp_crypto_port *port,
                               const uint8_t *salt, size_t salt_len,
                               const sp_iovec *ikm, size_t ikm_n,
                               uint8_t prk[SP_SHA256_LEN]);

/* HKDF-Expand: okm_len (1..SP_HKDF_SHA256_MAX_OKM) bytes from prk and the
 * concatenation of info[0..info_n) (info_n <= SP_HKDF_MAX_INFO_IOV; info
 * may be NULL when info_n is 0). On failure okm is wiped. */
sp_err sp_hkdf_sha256_expand (const sp_crypto_port *port,
                              const uint8_t *prk, size_t prk_len,
                              const sp_iovec *info, size_t info_n,
                              uint8_t *okm, size_t okm_len);

/* Extract then expand, wiping the intermediate PRK. */
sp_err sp_hkdf_sha256 (const sp_crypto_port *port,
                       const uint8_t *salt, size_t salt_len,
                       const sp_iovec *ikm, size_t ikm_n,
                       const sp_iovec *info, size_t info_n,
                       uint8_t *okm, size_t okm_len);

#endif /* SP_HKDF_H */
