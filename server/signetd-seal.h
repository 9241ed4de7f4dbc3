/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-seal.h: sealing vault secrets to a device (POST /v1/seal,
 * docs/api.md).
 *
 * The checks run in this order, each with its own error code (the HTTP
 * status in brackets):
 *
 *  1. the chain verifies to a manufacturer CA (signet_x509_verify_chain
 *     with the CAs of `signetd ca add`): UNTRUSTED [403], or INVALID
 *     [400] for a certificate that is not DER; the leaf's serial is not
 *     revoked: REVOKED [403];
 *  2. the evidence verifies with the leaf key (sp_evidence_verify) and
 *     names the certificate's serial: BAD_EVIDENCE [400];
 *  3. the profile exists, is served, and fits the evidence's model:
 *     NO_PROFILE [404];
 *  4. the token's scope allows the profile's class: FORBIDDEN [403]; a
 *     critical profile needs auth_time within 300 s: STEP_UP [403];
 *  5. each requested key is a secret field of the profile with a vault
 *     entry, named once: FIELD [400].
 *
 * Then each value is sealed with HPKE (signet-hpke.h) to the evidence's
 * kem_pub with
 *
 *     info = "signet-seal-v1" || 0x00 || serial || 0x00 || profile id
 *            || 0x00 || key
 *     aad  = SHA-256 (the profile's device form, the payload its
 *            signature covers)
 *
 * and its digest is SHA-256 (enc || ct), the value the event log and the
 * signed command carry (a hash of the plaintext would let a low-entropy
 * secret be guessed).
 *
 * Error messages name the check and never carry a value.
 */
#pragma once

#include <glib.h>

#include "signetd-profiles.h"
#include "signetd-trust.h"
#include "signetd-vault.h"
#include "sp-cwt.h"

G_BEGIN_DECLS

#define SIGNETD_SEAL_ERROR (signetd_seal_error_quark ())
GQuark signetd_seal_error_quark (void);

typedef enum {
  SIGNETD_SEAL_ERROR_FAILED,
  SIGNETD_SEAL_ERROR_INVALID,
  SIGNETD_SEAL_ERROR_UNTRUSTED,
  SIGNETD_SEAL_ERROR_REVOKED,
  SIGNETD_SEAL_ERROR_BAD_EVIDENCE,
  SIGNETD_SEAL_ERROR_NO_PROFILE,
  SIGNETD_SEAL_ERROR_FORBIDDEN,
  SIGNETD_SEAL_ERROR_STEP_UP,
  SIGNETD_SEAL_ERROR_FIELD,
} SignetdSealError;

#define SIGNETD_SEAL_INFO_LABEL "signet-seal-v1"
#define SIGNETD_SEAL_STEP_UP_MAX_AGE 300
#define SIGNETD_SEAL_FIELDS_MAX 64

typedef struct {
  char *key;
  GBytes *enc;        /* 65 bytes */
  GBytes *ct;         /* the value's length + 16 */
  char *digest;       /* hex SHA-256 (enc || ct) */
} SignetdSealed;

void signetd_sealed_free (SignetdSealed *sealed);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdSealed, signetd_sealed_free)

typedef struct _SignetdSeal SignetdSeal;

/* Borrows all three. Returns: (transfer full) */
SignetdSeal *signetd_seal_new  (SignetdTrust     *trust,
                                SignetdProfiles  *profiles,
                                SignetdVault     *vault);
void         signetd_seal_free (SignetdSeal      *self);

/* The HPKE info for one key (exposed for tests). Returns: (transfer full) */
GBytes      *signetd_seal_info (const char       *serial,
                                const char       *profile_id,
                                const char       *key);

/* Run the checks above for a caller whose token has claims, and seal.
 * chain (element-type GBytes): DER, leaf first. keys: NULL-terminated.
 * out_serial (nullable): the device serial, for the log.
 * Returns: (transfer full) (element-type SignetdSealed) (nullable) */
GPtrArray   *signetd_seal_run  (SignetdSeal          *self,
                                const sp_cwt_claims  *claims,
                                GPtrArray            *chain,
                                GBytes               *evidence,
                                const char           *profile_id,
                                const char * const   *keys,
                                gint64                now,
                                char                **out_serial,
                                GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdSeal, signetd_seal_free)

G_END_DECLS
