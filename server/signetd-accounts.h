/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-accounts.h: technicians, supervisors and administrators.
 *
 * A user has a name (1-64 of [a-z0-9._-], checked before it reaches SQL,
 * which only ever sees it as a bound parameter anyway), a role, an
 * argon2id password hash (libargon2: m = 19456 KiB, t = 2, p = 1, 16-byte
 * salt, 32-byte tag, the PHC string stored), a TOTP secret sealed at rest
 * by SignetdKeys under the purpose "totp:user:ID", the last TOTP step it
 * accepted (a code of that step or an older one is refused: replay), and
 * a disabled flag.
 *
 * The role decides the token's scope: signetd_role_get_scope() is the one
 * table (documented in docs/api.md).
 *
 * Password hashing and verification are thread-safe and touch no
 * database: the server runs them in a worker thread. Everything else
 * runs on the thread that owns the store.
 */
#pragma once

#include <glib.h>

#include "signetd-keys.h"
#include "signetd-store.h"

G_BEGIN_DECLS

#define SIGNETD_ACCOUNTS_ERROR (signetd_accounts_error_quark ())
GQuark signetd_accounts_error_quark (void);

typedef enum {
  SIGNETD_ACCOUNTS_ERROR_FAILED,
  SIGNETD_ACCOUNTS_ERROR_INVALID_NAME,
  SIGNETD_ACCOUNTS_ERROR_INVALID_ROLE,
  SIGNETD_ACCOUNTS_ERROR_WEAK_PASSWORD,
  SIGNETD_ACCOUNTS_ERROR_EXISTS,
  SIGNETD_ACCOUNTS_ERROR_NOT_FOUND,
  SIGNETD_ACCOUNTS_ERROR_BAD_CODE,     /* wrong or malformed TOTP code */
  SIGNETD_ACCOUNTS_ERROR_REPLAYED,     /* a TOTP step already accepted */
} SignetdAccountsError;

typedef enum {
  SIGNETD_ROLE_TECHNICIAN,
  SIGNETD_ROLE_SUPERVISOR,
  SIGNETD_ROLE_ADMIN,
} SignetdRole;

#define SIGNETD_NAME_MAX 64
#define SIGNETD_PASSWORD_MIN 12     /* characters */
#define SIGNETD_PASSWORD_MAX 1024   /* bytes */
#define SIGNETD_TOTP_ISSUER "Signet"

typedef struct {
  gint64 id;
  char *name;
  SignetdRole role;
  char *password_hash;
  gint64 totp_last_step;
  gboolean disabled;
  gint64 created;
} SignetdUser;

void        signetd_user_free            (SignetdUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdUser, signetd_user_free)

const char *signetd_role_to_string       (SignetdRole   role);
gboolean    signetd_role_from_string     (const char   *text,
                                          SignetdRole  *out_role);
/* The space-separated scope a token of this role carries. */
const char *signetd_role_get_scope       (SignetdRole   role);

/* 1-64 characters of [a-z0-9._-]. */
gboolean    signetd_accounts_validate_name (const char  *name,
                                            GError     **error);

/* At least SIGNETD_PASSWORD_MIN characters of valid UTF-8, at most
 * SIGNETD_PASSWORD_MAX bytes, no control characters. */
gboolean    signetd_accounts_check_password_policy (const char  *password,
                                                    GError     **error);

/* argon2id PHC string of password. Thread-safe.
 * Returns: (transfer full) (nullable) */
char       *signetd_password_hash        (const char   *password,
                                          GError      **error);

/* TRUE if password matches encoded. When encoded is NULL a fixed dummy
 * hash (same parameters) is verified instead and FALSE returned, so an
 * unknown user costs the same work. Thread-safe. */
gboolean    signetd_password_verify      (const char   *encoded,
                                          const char   *password);

typedef struct _SignetdAccounts SignetdAccounts;

/* Borrows store and keys. Returns: (transfer full) */
SignetdAccounts *signetd_accounts_new    (SignetdStore *store,
                                          SignetdKeys  *keys);
void        signetd_accounts_free        (SignetdAccounts *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdAccounts, signetd_accounts_free)

/* Create a user with a fresh TOTP secret.
 * Returns: (transfer full) (nullable): the otpauth:// URI (a secret:
 * signet_secret_string_free()) */
char       *signetd_accounts_add         (SignetdAccounts *self,
                                          const char      *name,
                                          SignetdRole      role,
                                          const char      *password,
                                          gint64           now,
                                          GError         **error);

/* Returns: (transfer full) (nullable): NOT_FOUND if there is no such user */
SignetdUser *signetd_accounts_lookup     (SignetdAccounts *self,
                                          const char      *name,
                                          GError         **error);
SignetdUser *signetd_accounts_lookup_id  (SignetdAccounts *self,
                                          gint64           id,
                                          GError         **error);

/* Returns: (transfer full) (element-type SignetdUser) (nullable) */
GPtrArray  *signetd_accounts_list        (SignetdAccounts *self,
                                          GError         **error);

/* Check code against user's secret at now, ±window steps, then record
 * its step as used. BAD_CODE or REPLAYED on refusal. */
gboolean    signetd_accounts_check_totp  (SignetdAccounts *self,
                                          SignetdUser     *user,
                                          const char      *code,
                                          gint64           now,
                                          guint            window,
                                          GError         **error);

gboolean    signetd_accounts_set_disabled (SignetdAccounts *self,
                                           const char      *name,
                                           gboolean         disabled,
                                           GError         **error);

/* A new TOTP secret. Returns: (transfer full) (nullable): the new URI */
char       *signetd_accounts_reset_otp   (SignetdAccounts *self,
                                          const char      *name,
                                          GError         **error);

gboolean    signetd_accounts_delete      (SignetdAccounts *self,
                                          const char      *name,
                                          GError         **error);

G_END_DECLS
