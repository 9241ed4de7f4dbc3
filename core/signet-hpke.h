/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-hpke.h: single-shot HPKE (RFC 9180) base mode with
 * DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, over proto's
 * sp-hpke.h. This is how the service seals a secret to a device's KEM key
 * (and how tests and the simulator open it).
 */
#pragma once

#include <glib.h>

#include "signet-key.h"

G_BEGIN_DECLS

#define SIGNET_HPKE_ERROR (signet_hpke_error_quark ())
GQuark signet_hpke_error_quark (void);

typedef enum {
  SIGNET_HPKE_ERROR_FAILED,         /* the crypto backend failed */
  SIGNET_HPKE_ERROR_INVALID_KEY,    /* the recipient key cannot be used (no private part for open) */
  SIGNET_HPKE_ERROR_INVALID_ENC,    /* enc is not a 65-byte uncompressed point on P-256 */
  SIGNET_HPKE_ERROR_AUTHENTICATION, /* the ciphertext does not open: wrong key, enc, info or aad, or tampered */
} SignetHpkeError;

/* The encapsulated key (enc) is 65 bytes; a ciphertext is the plaintext's
 * length plus a 16-byte tag. */
#define SIGNET_HPKE_ENC_LEN 65
#define SIGNET_HPKE_TAG_LEN 16

/* Seal plaintext to recipient (a public key suffices). info and aad may
 * be NULL (empty). *out_enc gets the encapsulated key to send along.
 * Returns: (transfer full) (nullable): the ciphertext */
GBytes *signet_hpke_seal (SignetKey  *recipient,
                          GBytes     *info,
                          GBytes     *aad,
                          GBytes     *plaintext,
                          GBytes    **out_enc,
                          GError    **error);

/* Open what signet_hpke_seal made, with the recipient's private key and the
 * same info and aad. Returns: (transfer full) (nullable): the plaintext,
 * in a wiping GBytes */
GBytes *signet_hpke_open (SignetKey  *recipient,
                          GBytes     *enc,
                          GBytes     *info,
                          GBytes     *aad,
                          GBytes     *ciphertext,
                          GError    **error);

G_END_DECLS
