/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-keys.h: the master key, encryption at rest, and the service
 * authority keys.
 *
 * The master key is 32 random bytes in DATA_DIR/master.key, created once
 * with O_EXCL and mode 0600 and refused if another user may read it. It
 * never leaves this module: everything secret that the database holds
 * (TOTP secrets, authority private keys, later vault secrets) is sealed
 * here with AES-256-GCM under it, as nonce (12 bytes) || ciphertext || tag,
 * with "signetd:v1:" + a purpose naming the row as additional data
 * (e.g. "totp:user:42", "authority:KID"), so a ciphertext copied into
 * another row no longer opens.
 *
 * Authority keys are P-256; kid = the RFC 7638 thumbprint of the public
 * key. Exactly one is current (signs new tokens and revocation lists);
 * signetd_keys_rotate() makes a new current key and retires the old one,
 * which stays published (signetd_keys_list_published()) until the last
 * token it signed has expired.
 *
 * A SignetdKeys borrows its SignetdStore, which must outlive it.
 */
#pragma once

#include <glib.h>

#include "signet-key.h"
#include "signetd-store.h"

G_BEGIN_DECLS

#define SIGNETD_KEYS_ERROR (signetd_keys_error_quark ())
GQuark signetd_keys_error_quark (void);

typedef enum {
  SIGNETD_KEYS_ERROR_FAILED,
  SIGNETD_KEYS_ERROR_MASTER_KEY,   /* missing, unreadable, wrong size or too open */
  SIGNETD_KEYS_ERROR_DECRYPT,      /* a sealed value does not open (wrong key or row) */
  SIGNETD_KEYS_ERROR_NO_AUTHORITY, /* no current authority key */
} SignetdKeysError;

#define SIGNETD_MASTER_KEY_FILE "master.key"
#define SIGNETD_MASTER_KEY_LEN 32

typedef struct _SignetdKeys SignetdKeys;

typedef struct {
  char *kid;
  SignetKey *key;     /* public */
  gboolean current;
  gint64 not_after;   /* retired keys: when their last token expires */
} SignetdAuthorityKey;

void signetd_authority_key_free (SignetdAuthorityKey *ak);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdAuthorityKey, signetd_authority_key_free)

/* Create DATA_DIR/master.key; refuses to replace one. */
gboolean      signetd_keys_create_master (const char    *data_dir,
                                          GError       **error);

/* Load the master key of data_dir. Returns: (transfer full) (nullable) */
SignetdKeys  *signetd_keys_new           (const char    *data_dir,
                                          SignetdStore  *store,
                                          GError       **error);

/* For tests: a given master key (32 bytes). Returns: (transfer full) */
SignetdKeys  *signetd_keys_new_with_master (GBytes      *master,
                                            SignetdStore *store);

void          signetd_keys_free          (SignetdKeys   *self);

/* Seal plaintext for the row named by purpose. Returns: (transfer full) */
GBytes       *signetd_keys_seal          (SignetdKeys   *self,
                                          const char    *purpose,
                                          GBytes        *plaintext,
                                          GError       **error);

/* Open what signetd_keys_seal() made for the same purpose.
 * Returns: (transfer full) (nullable): a wiping GBytes */
GBytes       *signetd_keys_open          (SignetdKeys   *self,
                                          const char    *purpose,
                                          GBytes        *sealed,
                                          GError       **error);

/* Make a new current authority key (retiring the current one, if any).
 * Returns: (transfer full) (nullable): its kid */
char         *signetd_keys_rotate        (SignetdKeys   *self,
                                          gint64         now,
                                          GError       **error);

/* The current authority key, with its private part.
 * Returns: (transfer full) (nullable) */
SignetKey    *signetd_keys_get_current   (SignetdKeys   *self,
                                          char         **out_kid,
                                          GError       **error);

/* Record that kid signed a token expiring at exp. */
gboolean      signetd_keys_note_issued   (SignetdKeys   *self,
                                          const char    *kid,
                                          gint64         exp,
                                          GError       **error);

/* The keys a verifier should trust at now: the current one, then retired
 * ones whose last token has not expired, newest first.
 * Returns: (transfer full) (element-type SignetdAuthorityKey) (nullable) */
GPtrArray    *signetd_keys_list_published (SignetdKeys  *self,
                                           gint64        now,
                                           GError      **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdKeys, signetd_keys_free)

G_END_DECLS
