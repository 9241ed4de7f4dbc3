/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-crypto-port.h: libsignet-proto's crypto port (sp-crypto-port.h)
 * implemented with OpenSSL 3.
 *
 * sp_key handles made by this port wrap an EVP_PKEY; signet-key.h can wrap
 * and unwrap them, so keys created through SignetKey can be used by proto
 * (COSE signing, HPKE) and the other way round.
 */
#pragma once

#include <glib.h>
#include <openssl/evp.h>

#include "sp-crypto-port.h"

G_BEGIN_DECLS

/* The process-wide OpenSSL port. Returns: (transfer none) */
const sp_crypto_port *signet_crypto_port_openssl (void);

/* An sp_key for this port holding a new reference to pkey (a P-256 private
 * key). Free it with the port's key_free. Returns: (transfer full) */
sp_key   *signet_crypto_port_key_new  (EVP_PKEY     *pkey);

/* The EVP_PKEY inside an sp_key made by this port.
 * Returns: (transfer none) */
EVP_PKEY *signet_crypto_port_key_get_pkey (const sp_key *key);

G_END_DECLS
