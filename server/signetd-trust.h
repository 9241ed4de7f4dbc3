/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-trust.h: what the service publishes for verifiers (GET
 * /v1/trust) and what it revokes.
 *
 * Manufacturer CAs are added by an administrator (signetd ca add), each
 * checked with signet_x509_check_ca() and stored as normalised PEM.
 *
 * Revocations (table `revocations`) name token ids (cti, listed until the
 * token expires), users (sub, listed until the user is enabled again) and
 * device serials. Every change regenerates the signed revocation list
 * (sp-revocation.h): the version rises by one and the current authority
 * key signs it. Revoking a session marks it revoked and lists the cti of
 * each of its tokens that has not expired; revoking a user also disables
 * the account and revokes all its sessions.
 *
 * Borrows the store and the keys.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "signetd-keys.h"
#include "signetd-store.h"

G_BEGIN_DECLS

#define SIGNETD_TRUST_ERROR (signetd_trust_error_quark ())
GQuark signetd_trust_error_quark (void);

typedef enum {
  SIGNETD_TRUST_ERROR_FAILED,
  SIGNETD_TRUST_ERROR_EXISTS,     /* the CA is already trusted */
  SIGNETD_TRUST_ERROR_NOT_FOUND,  /* no such session or user */
  SIGNETD_TRUST_ERROR_INVALID,    /* a serial that cannot be listed */
} SignetdTrustError;

typedef struct _SignetdTrust SignetdTrust;

/* Returns: (transfer full) */
SignetdTrust *signetd_trust_new            (SignetdStore  *store,
                                            SignetdKeys   *keys);
void          signetd_trust_free           (SignetdTrust  *self);

/* Add a manufacturer CA from PEM text. Returns: (transfer full) (nullable):
 * its SHA-256 fingerprint, hex */
char         *signetd_trust_add_ca         (SignetdTrust  *self,
                                            const char    *pem,
                                            gint64         now,
                                            GError       **error);

/* Revoke one session (NOT_FOUND if none has this id). */
gboolean      signetd_trust_revoke_session (SignetdTrust  *self,
                                            const char    *session_id,
                                            gint64         now,
                                            GError       **error);

/* Revoke a user: disable, revoke every session, list the name. */
gboolean      signetd_trust_revoke_user    (SignetdTrust  *self,
                                            const char    *name,
                                            gint64         now,
                                            GError       **error);

/* Take a user name off the list again (on `user enable`); no-op if it is
 * not listed. */
/* Revoke every session of a user, listing their unexpired token ids
 * (before `user delete`). */
gboolean      signetd_trust_revoke_user_sessions (SignetdTrust  *self,
                                                  const char    *name,
                                                  gint64         now,
                                                  GError       **error);

gboolean      signetd_trust_unrevoke_user  (SignetdTrust  *self,
                                            const char    *name,
                                            gint64         now,
                                            GError       **error);

gboolean      signetd_trust_revoke_device  (SignetdTrust  *self,
                                            const char    *serial,
                                            gint64         now,
                                            GError       **error);

/* Drop expired entries, raise the version and sign the list anew with
 * the current authority key (after a key rotation, say). */
gboolean      signetd_trust_regenerate     (SignetdTrust  *self,
                                            gint64         now,
                                            GError       **error);

/* The signed list. Returns: (transfer full) (nullable) */
GBytes       *signetd_trust_get_revocation_list (SignetdTrust *self,
                                                 guint64      *out_version,
                                                 GError      **error);

/* The body of GET /v1/trust. Returns: (transfer full) (nullable) */
JsonNode     *signetd_trust_to_json        (SignetdTrust  *self,
                                            gint64         now,
                                            GError       **error);

/* The trusted manufacturer CAs, for signet_x509_verify_chain().
 * Returns: (transfer full) (element-type GBytes) (nullable): DER each */
GPtrArray    *signetd_trust_dup_ca_ders    (SignetdTrust  *self,
                                            GError       **error);

/* The revoked device serials. Returns: (transfer full) (nullable) */
GStrv         signetd_trust_dup_revoked_serials (SignetdTrust *self,
                                                 GError      **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdTrust, signetd_trust_free)

G_END_DECLS
