/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <argon2.h>

#include "signet-crypto.h"
#include "signet-otpauth.h"
#include "signet-secret.h"
#include "signet-totp.h"
#include "signetd-accounts.h"

struct _SignetdAccounts {
  SignetdStore *store;   /* borrowed */
  SignetdKeys *keys;     /* borrowed */
};

G_DEFINE_QUARK (signetd-accounts-error-quark, signetd_accounts_error)

/* OWASP's argon2id minimum (2023): 19 MiB, 2 passes, 1 lane. */
#define ARGON2_M_COST 19456
#define ARGON2_T_COST 2
#define ARGON2_PARALLELISM 1
#define ARGON2_SALT_LEN 16
#define ARGON2_HASH_LEN 32

#define TOTP_DIGITS 6
#define TOTP_PERIOD 30

/* The one table of roles and what their tokens may do. */
static const struct {
  const char *name;
  const char *scope;
} roles[] = {
  [SIGNETD_ROLE_TECHNICIAN] = {
    "technician",
    "device.read device.attest config.write credential.rotate firmware.update log.upload" },
  [SIGNETD_ROLE_SUPERVISOR] = { "supervisor", "log.read log.upload" },
  [SIGNETD_ROLE_ADMIN] = {
    "admin",
    "device.read device.attest config.write credential.rotate firmware.update "
    "log.upload log.read" },
};

const char *
signetd_role_to_string (SignetdRole role)
{
  g_return_val_if_fail ((guint) role < G_N_ELEMENTS (roles), NULL);
  return roles[role].name;
}

gboolean
signetd_role_from_string (const char  *text,
                          SignetdRole *out_role)
{
  for (guint i = 0; i < G_N_ELEMENTS (roles); i++)
    if (text != NULL && g_str_equal (text, roles[i].name))
      {
        *out_role = (SignetdRole) i;
        return TRUE;
      }
  return FALSE;
}

const char *
signetd_role_get_scope (SignetdRole role)
{
  g_return_val_if_fail ((guint) role < G_N_ELEMENTS (roles), NULL);
  return roles[role].scope;
}

void
signetd_user_free (SignetdUser *user)
{
  if (user == NULL)
    return;
  g_free (user->name);
  g_free (user->password_hash);
  g_free (user);
}

gboolean
signetd_accounts_validate_name (const char  *name,
                                GError     **error)
{
  gsize len = name != NULL ? strlen (name) : 0;

  if (len == 0 || len > SIGNETD_NAME_MAX)
    goto invalid;
  for (gsize i = 0; i < len; i++)
    {
      char c = name[i];

      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
            c == '-'))
        goto invalid;
    }
  return TRUE;

invalid:
  /* Never quote the name: it may be anything an attacker sent. */
  g_set_error (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_INVALID_NAME,
               "a user name is 1 to %d characters of a-z, 0-9, '.', '_' and '-'",
               SIGNETD_NAME_MAX);
  return FALSE;
}

gboolean
signetd_accounts_check_password_policy (const char  *password,
                                        GError     **error)
{
  gsize len = password != NULL ? strlen (password) : 0;

  if (len > SIGNETD_PASSWORD_MAX || !g_utf8_validate (password, (gssize) len, NULL))
    {
      g_set_error (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_WEAK_PASSWORD,
                   "a password is valid UTF-8 of at most %d bytes", SIGNETD_PASSWORD_MAX);
      return FALSE;
    }
  for (const char *p = password; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      {
        g_set_error (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_WEAK_PASSWORD,
                     "a password may not contain control characters");
        return FALSE;
      }
  if (g_utf8_strlen (password, -1) < SIGNETD_PASSWORD_MIN)
    {
      g_set_error (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_WEAK_PASSWORD,
                   "a password has at least %d characters", SIGNETD_PASSWORD_MIN);
      return FALSE;
    }
  return TRUE;
}

char *
signetd_password_hash (const char  *password,
                       GError     **error)
{
  guint8 salt[ARGON2_SALT_LEN];
  gsize enc_len = argon2_encodedlen (ARGON2_T_COST, ARGON2_M_COST, ARGON2_PARALLELISM,
                                     ARGON2_SALT_LEN, ARGON2_HASH_LEN, Argon2_id);
  g_autofree char *encoded = g_malloc0 (enc_len);
  int rc;

  if (!signet_random_fill (salt, sizeof salt, error))
    return NULL;
  rc = argon2id_hash_encoded (ARGON2_T_COST, ARGON2_M_COST, ARGON2_PARALLELISM,
                              password, strlen (password), salt, sizeof salt,
                              ARGON2_HASH_LEN, encoded, enc_len);
  if (rc != ARGON2_OK)
    {
      g_set_error (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_FAILED,
                   "argon2id: %s", argon2_error_message (rc));
      return NULL;
    }
  return g_steal_pointer (&encoded);
}

static gpointer
make_dummy_hash (gpointer data)
{
  g_autoptr(GBytes) random = signet_random_bytes (24, NULL);
  g_autofree char *pw = random != NULL
                        ? g_base64_encode (g_bytes_get_data (random, NULL), 24)
                        : g_strdup ("signetd dummy password");
  char *hash = signetd_password_hash (pw, NULL);

  signet_secret_wipe (pw, strlen (pw));
  /* Reached only if the CSPRNG fails, and then nothing else works either. */
  if (hash == NULL)
    g_error ("cannot compute the dummy password hash");
  return hash;
}

gboolean
signetd_password_verify (const char *encoded,
                         const char *password)
{
  static GOnce dummy_once = G_ONCE_INIT;
  const char *dummy;

  if (encoded == NULL)
    {
      dummy = g_once (&dummy_once, make_dummy_hash, NULL);
      (void) argon2id_verify (dummy, password, strlen (password));
      return FALSE;
    }
  return argon2id_verify (encoded, password, strlen (password)) == ARGON2_OK;
}

SignetdAccounts *
signetd_accounts_new (SignetdStore *store,
                      SignetdKeys  *keys)
{
  SignetdAccounts *self = g_new0 (SignetdAccounts, 1);

  self->store = store;
  self->keys = keys;
  return self;
}

void
signetd_accounts_free (SignetdAccounts *self)
{
  g_free (self);
}

static char *
totp_purpose (gint64 id)
{
  return g_strdup_printf ("totp:user:%" G_GINT64_FORMAT, id);
}

static char *
make_uri (const char  *name,
          GBytes      *secret,
          GError     **error)
{
  g_autoptr(SignetOtpauth) otp = signet_otpauth_new (SIGNETD_TOTP_ISSUER, name, secret,
                                                     SIGNET_TOTP_ALGORITHM_SHA1,
                                                     TOTP_DIGITS, TOTP_PERIOD, error);

  if (otp == NULL)
    return NULL;
  return signet_otpauth_to_uri (otp, error);
}

/* A new secret for user id, sealed and stored; returns the secret. */
static GBytes *
store_new_secret (SignetdAccounts  *self,
                  gint64            id,
                  GError          **error)
{
  g_autoptr(GBytes) secret = signet_otpauth_secret_new_random (0, error);
  g_autofree char *purpose = totp_purpose (id);
  g_autoptr(GBytes) sealed = NULL;

  if (secret == NULL)
    return NULL;
  sealed = signetd_keys_seal (self->keys, purpose, secret, error);
  if (sealed == NULL ||
      !signetd_store_run (self->store, NULL, error,
                          "UPDATE users SET totp_secret = ?, totp_last_step = -1 WHERE id = ?",
                          "Bi", sealed, id))
    return NULL;
  return g_steal_pointer (&secret);
}

char *
signetd_accounts_add (SignetdAccounts  *self,
                      const char       *name,
                      SignetdRole       role,
                      const char       *password,
                      gint64            now,
                      GError          **error)
{
  g_autofree char *hash = NULL;
  g_autoptr(GBytes) secret = NULL;
  g_autoptr(GError) local_error = NULL;
  gint64 id;

  if (!signetd_accounts_validate_name (name, error) ||
      !signetd_accounts_check_password_policy (password, error))
    return NULL;
  hash = signetd_password_hash (password, error);
  if (hash == NULL)
    return NULL;

  if (!signetd_store_begin (self->store, error))
    return NULL;
  if (!signetd_store_run (self->store, NULL, &local_error,
                          "INSERT INTO users (name, role, password_hash, created) "
                          "VALUES (?, ?, ?, ?)",
                          "ttti", name, signetd_role_to_string (role), hash, now))
    {
      signetd_store_rollback (self->store);
      if (g_error_matches (local_error, SIGNETD_STORE_ERROR, SIGNETD_STORE_ERROR_CONSTRAINT))
        g_set_error (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_EXISTS,
                     "user %s already exists", name);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  id = sqlite3_last_insert_rowid (signetd_store_get_db (self->store));
  secret = store_new_secret (self, id, error);
  if (secret == NULL ||
      /* A name reused after `user delete` starts with a clean slate. */
      !signetd_store_run (self->store, NULL, error,
                          "DELETE FROM login_failures WHERE kind = 'user' AND subject = ?",
                          "t", name) ||
      !signetd_store_commit (self->store, error))
    {
      signetd_store_rollback (self->store);
      return NULL;
    }
  return make_uri (name, secret, error);
}

static SignetdUser *
user_from_row (sqlite3_stmt *stmt)
{
  g_autoptr(SignetdUser) user = g_new0 (SignetdUser, 1);
  g_autofree char *role = NULL;

  user->id = sqlite3_column_int64 (stmt, 0);
  user->name = signetd_store_column_text (stmt, 1);
  role = signetd_store_column_text (stmt, 2);
  user->password_hash = signetd_store_column_text (stmt, 3);
  user->totp_last_step = sqlite3_column_int64 (stmt, 4);
  user->disabled = sqlite3_column_int (stmt, 5) != 0;
  user->created = sqlite3_column_int64 (stmt, 6);
  /* The CHECK constraint keeps other values out. */
  if (!signetd_role_from_string (role, &user->role))
    user->role = SIGNETD_ROLE_TECHNICIAN;
  return g_steal_pointer (&user);
}

#define USER_COLUMNS "id, name, role, password_hash, totp_last_step, disabled, created"

SignetdUser *
signetd_accounts_lookup (SignetdAccounts  *self,
                         const char       *name,
                         GError          **error)
{
  g_autoptr(sqlite3_stmt) stmt =
    signetd_store_prepare (self->store, "SELECT " USER_COLUMNS " FROM users WHERE name = ?",
                           error);
  int r;

  if (stmt == NULL || !signetd_store_bind (self->store, stmt, error, "t", name))
    return NULL;
  r = signetd_store_step (self->store, stmt, error);
  if (r < 0)
    return NULL;
  if (r == 0)
    {
      g_set_error (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_NOT_FOUND,
                   "no such user");
      return NULL;
    }
  return user_from_row (stmt);
}

SignetdUser *
signetd_accounts_lookup_id (SignetdAccounts  *self,
                            gint64            id,
                            GError          **error)
{
  g_autoptr(sqlite3_stmt) stmt =
    signetd_store_prepare (self->store, "SELECT " USER_COLUMNS " FROM users WHERE id = ?",
                           error);
  int r;

  if (stmt == NULL || !signetd_store_bind (self->store, stmt, error, "i", id))
    return NULL;
  r = signetd_store_step (self->store, stmt, error);
  if (r < 0)
    return NULL;
  if (r == 0)
    {
      g_set_error (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_NOT_FOUND,
                   "no such user");
      return NULL;
    }
  return user_from_row (stmt);
}

GPtrArray *
signetd_accounts_list (SignetdAccounts  *self,
                       GError          **error)
{
  g_autoptr(GPtrArray) users =
    g_ptr_array_new_with_free_func ((GDestroyNotify) signetd_user_free);
  g_autoptr(sqlite3_stmt) stmt =
    signetd_store_prepare (self->store, "SELECT " USER_COLUMNS " FROM users ORDER BY name",
                           error);
  int r;

  if (stmt == NULL)
    return NULL;
  while ((r = signetd_store_step (self->store, stmt, error)) == 1)
    g_ptr_array_add (users, user_from_row (stmt));
  if (r < 0)
    return NULL;
  return g_steal_pointer (&users);
}

gboolean
signetd_accounts_check_totp (SignetdAccounts  *self,
                             SignetdUser      *user,
                             const char       *code,
                             gint64            now,
                             guint             window,
                             GError          **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GBytes) sealed = NULL;
  g_autoptr(GBytes) secret = NULL;
  g_autofree char *purpose = totp_purpose (user->id);
  g_autoptr(GError) local_error = NULL;
  guint64 step = 0;
  gint changes = 0;
  int r;

  stmt = signetd_store_prepare (self->store, "SELECT totp_secret FROM users WHERE id = ?",
                                error);
  if (stmt == NULL || !signetd_store_bind (self->store, stmt, error, "i", user->id))
    return FALSE;
  r = signetd_store_step (self->store, stmt, error);
  if (r < 0)
    return FALSE;
  sealed = r == 1 ? signetd_store_column_bytes (stmt, 0) : NULL;
  if (sealed == NULL)
    {
      g_set_error (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_BAD_CODE,
                   "no TOTP secret");
      return FALSE;
    }
  secret = signetd_keys_open (self->keys, purpose, sealed, error);
  if (secret == NULL)
    return FALSE;

  if (!signet_totp_verify (secret, code, now, TOTP_PERIOD, TOTP_DIGITS,
                           SIGNET_TOTP_ALGORITHM_SHA1, window, &step, &local_error))
    {
      if (local_error->domain == SIGNET_TOTP_ERROR &&
          (local_error->code == SIGNET_TOTP_ERROR_NO_MATCH ||
           local_error->code == SIGNET_TOTP_ERROR_MALFORMED_CODE))
        g_set_error (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_BAD_CODE,
                     "wrong code");
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (step > G_MAXINT64)
    {
      g_set_error (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_BAD_CODE,
                   "wrong code");
      return FALSE;
    }

  /* Compare and set in one statement: of two concurrent sign-ins with
   * the same code, exactly one moves the step forward. */
  if (!signetd_store_run (self->store, &changes, error,
                          "UPDATE users SET totp_last_step = ? "
                          "WHERE id = ? AND totp_last_step < ?",
                          "iii", (gint64) step, user->id, (gint64) step))
    return FALSE;
  if (changes != 1)
    {
      g_set_error (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_REPLAYED,
                   "code of an already used time step");
      return FALSE;
    }
  user->totp_last_step = (gint64) step;
  return TRUE;
}

static gboolean
check_changed (gint         changes,
               GError     **error)
{
  if (changes == 0)
    {
      g_set_error (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_NOT_FOUND,
                   "no such user");
      return FALSE;
    }
  return TRUE;
}

gboolean
signetd_accounts_set_disabled (SignetdAccounts  *self,
                               const char       *name,
                               gboolean          disabled,
                               GError          **error)
{
  gint changes = 0;

  return signetd_store_run (self->store, &changes, error,
                            "UPDATE users SET disabled = ? WHERE name = ?",
                            "it", (gint64) (disabled ? 1 : 0), name) &&
         check_changed (changes, error);
}

char *
signetd_accounts_reset_otp (SignetdAccounts  *self,
                            const char       *name,
                            GError          **error)
{
  g_autoptr(SignetdUser) user = signetd_accounts_lookup (self, name, error);
  g_autoptr(GBytes) secret = NULL;

  if (user == NULL)
    return NULL;
  secret = store_new_secret (self, user->id, error);
  if (secret == NULL)
    return NULL;
  return make_uri (name, secret, error);
}

gboolean
signetd_accounts_delete (SignetdAccounts  *self,
                         const char       *name,
                         GError          **error)
{
  gint changes = 0;

  return signetd_store_run (self->store, &changes, error,
                            "DELETE FROM users WHERE name = ?", "t", name) &&
         check_changed (changes, error);
}
