/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "signet-base64url.h"
#include "signet-crypto-port.h"
#include "signet-proto-error.h"
#include "signet-x509.h"
#include "signetd-trust.h"
#include "sp-revocation.h"

struct _SignetdTrust {
  SignetdStore *store;   /* borrowed */
  SignetdKeys *keys;     /* borrowed */
};

G_DEFINE_QUARK (signetd-trust-error-quark, signetd_trust_error)

SignetdTrust *
signetd_trust_new (SignetdStore *store,
                   SignetdKeys  *keys)
{
  SignetdTrust *self = g_new0 (SignetdTrust, 1);

  self->store = store;
  self->keys = keys;
  return self;
}

void
signetd_trust_free (SignetdTrust *self)
{
  g_free (self);
}

char *
signetd_trust_add_ca (SignetdTrust  *self,
                      const char    *pem,
                      gint64         now,
                      GError       **error)
{
  g_autoptr(GBytes) der = signet_x509_der_from_pem (pem, error);
  g_autoptr(SignetX509Info) info = NULL;
  g_autofree char *normalised = NULL;
  g_autoptr(GError) local_error = NULL;

  if (der == NULL || !signet_x509_check_ca (der, error))
    return NULL;
  info = signet_x509_info_new (der, error);
  if (info == NULL)
    return NULL;
  normalised = signet_x509_pem_from_der (der, error);
  if (normalised == NULL)
    return NULL;
  if (!signetd_store_run (self->store, NULL, &local_error,
                          "INSERT INTO manufacturer_cas (fingerprint, subject, pem, added) "
                          "VALUES (?, ?, ?, ?)", "ttti", info->sha256_hex,
                          info->subject_cn != NULL ? info->subject_cn : "", normalised, now))
    {
      if (g_error_matches (local_error, SIGNETD_STORE_ERROR, SIGNETD_STORE_ERROR_CONSTRAINT))
        g_set_error (error, SIGNETD_TRUST_ERROR, SIGNETD_TRUST_ERROR_EXISTS,
                     "this CA is already trusted");
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return g_strdup (info->sha256_hex);
}

/* Collect the entries of one kind as views over blobs that stay alive in
 * keep, sorted as the list wants them. */
static gboolean
collect (SignetdTrust        *self,
         const char          *kind,
         GPtrArray           *keep,
         GArray              *views,
         GError             **error)
{
  g_autoptr(sqlite3_stmt) stmt =
    signetd_store_prepare (self->store, "SELECT value FROM revocations WHERE kind = ?", error);
  int r;

  if (stmt == NULL || !signetd_store_bind (self->store, stmt, error, "t", kind))
    return FALSE;
  while ((r = signetd_store_step (self->store, stmt, error)) == 1)
    {
      GBytes *value = signetd_store_column_bytes (stmt, 0);
      sp_revocation_view v;
      gsize len = 0;

      if (value == NULL)
        continue;
      v.ptr = g_bytes_get_data (value, &len);
      v.len = len;
      g_ptr_array_add (keep, value);
      g_array_append_val (views, v);
    }
  if (r < 0)
    return FALSE;
  if (views->len > 0)
    g_array_set_size (views, (guint) sp_revocation_sort ((sp_revocation_view *) (gpointer) views->data,
                                                         views->len));
  return TRUE;
}

/* Regenerate inside the caller's transaction. */
static gboolean
regenerate_locked (SignetdTrust  *self,
                   gint64         now,
                   GError       **error)
{
  g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GArray) ctis = g_array_new (FALSE, FALSE, sizeof (sp_revocation_view));
  g_autoptr(GArray) subs = g_array_new (FALSE, FALSE, sizeof (sp_revocation_view));
  g_autoptr(GArray) serials = g_array_new (FALSE, FALSE, sizeof (sp_revocation_view));
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(SignetKey) key = NULL;
  g_autofree char *kid = NULL;
  g_autofree guint8 *buf = NULL;
  gsize cap = SP_COSE_SIGN1_OVERHEAD + SP_REVOCATION_MAX_SIZE;
  sp_revocation_content content = { 0 };
  size_t len = 0;
  int r;

  if (!signetd_store_run (self->store, NULL, error,
                          "DELETE FROM revocations WHERE expires IS NOT NULL AND expires <= ?",
                          "i", now) ||
      !signetd_store_run (self->store, NULL, error,
                          "UPDATE revocation_list SET version = version + 1 WHERE id = 1", NULL))
    return FALSE;
  stmt = signetd_store_prepare (self->store,
                                "SELECT version FROM revocation_list WHERE id = 1", error);
  if (stmt == NULL)
    return FALSE;
  r = signetd_store_step (self->store, stmt, error);
  if (r <= 0)
    {
      if (r == 0)
        g_set_error (error, SIGNETD_TRUST_ERROR, SIGNETD_TRUST_ERROR_FAILED,
                     "revocation list row missing");
      return FALSE;
    }
  content.version = (guint64) sqlite3_column_int64 (stmt, 0);
  content.iat = now;

  if (!collect (self, "cti", keep, ctis, error) ||
      !collect (self, "sub", keep, subs, error) ||
      !collect (self, "serial", keep, serials, error))
    return FALSE;
  content.cti = (const sp_revocation_view *) (gpointer) ctis->data;
  content.n_cti = ctis->len;
  content.sub = (const sp_revocation_view *) (gpointer) subs->data;
  content.n_sub = subs->len;
  content.serial = (const sp_revocation_view *) (gpointer) serials->data;
  content.n_serial = serials->len;

  key = signetd_keys_get_current (self->keys, &kid, error);
  if (key == NULL)
    return FALSE;
  buf = g_malloc (cap);
  if (!signet_proto_check (sp_revocation_sign (signet_crypto_port_openssl (),
                                               signet_key_get_sp_key (key),
                                               (const guint8 *) kid, strlen (kid),
                                               &content, buf, cap, &len),
                           "revocation list", error))
    return FALSE;
  return signetd_store_run (self->store, NULL, error,
                            "UPDATE revocation_list SET signed = ? WHERE id = 1",
                            "b", buf, (gsize) len);
}

/* Run fn-like work (already done by the caller in the transaction), then
 * regenerate and commit. */
static gboolean
finish (SignetdTrust  *self,
        gboolean       ok,
        gint64         now,
        GError       **error)
{
  if (ok && regenerate_locked (self, now, error) && signetd_store_commit (self->store, error))
    return TRUE;
  signetd_store_rollback (self->store);
  return FALSE;
}

gboolean
signetd_trust_regenerate (SignetdTrust  *self,
                          gint64         now,
                          GError       **error)
{
  if (!signetd_store_begin (self->store, error))
    return FALSE;
  return finish (self, TRUE, now, error);
}

static gboolean
revoke_session_locked (SignetdTrust  *self,
                       const char    *session_id,
                       gint64         now,
                       GError       **error)
{
  return signetd_store_run (self->store, NULL, error,
                            "UPDATE sessions SET revoked = 1 WHERE id = ?", "t", session_id) &&
         signetd_store_run (self->store, NULL, error,
                            "INSERT OR IGNORE INTO revocations (kind, value, expires, added) "
                            "SELECT 'cti', cti, exp, ? FROM tokens "
                            "WHERE session_id = ? AND exp > ?",
                            "iti", now, session_id, now);
}

gboolean
signetd_trust_revoke_session (SignetdTrust  *self,
                              const char    *session_id,
                              gint64         now,
                              GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int r;

  if (!signetd_store_begin (self->store, error))
    return FALSE;
  stmt = signetd_store_prepare (self->store, "SELECT 1 FROM sessions WHERE id = ?", error);
  if (stmt == NULL || !signetd_store_bind (self->store, stmt, error, "t", session_id) ||
      (r = signetd_store_step (self->store, stmt, error)) < 0)
    return finish (self, FALSE, now, error);
  if (r == 0)
    {
      g_set_error (error, SIGNETD_TRUST_ERROR, SIGNETD_TRUST_ERROR_NOT_FOUND,
                   "no such session");
      return finish (self, FALSE, now, error);
    }
  return finish (self, revoke_session_locked (self, session_id, now, error), now, error);
}

static gboolean
revoke_user_full (SignetdTrust  *self,
                  const char    *name,
                  gboolean       list_and_disable,
                  gint64         now,
                  GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint changes = 0;
  int r;

  if (!signetd_store_begin (self->store, error))
    return FALSE;
  if (!signetd_store_run (self->store, &changes, error,
                          list_and_disable ? "UPDATE users SET disabled = 1 WHERE name = ?"
                                           : "UPDATE users SET disabled = disabled WHERE name = ?",
                          "t", name))
    return finish (self, FALSE, now, error);
  if (changes == 0)
    {
      g_set_error (error, SIGNETD_TRUST_ERROR, SIGNETD_TRUST_ERROR_NOT_FOUND, "no such user");
      return finish (self, FALSE, now, error);
    }
  stmt = signetd_store_prepare (self->store,
                                "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id "
                                "WHERE u.name = ? AND s.revoked = 0", error);
  if (stmt == NULL || !signetd_store_bind (self->store, stmt, error, "t", name))
    return finish (self, FALSE, now, error);
  while ((r = signetd_store_step (self->store, stmt, error)) == 1)
    {
      g_autofree char *sid = signetd_store_column_text (stmt, 0);

      if (!revoke_session_locked (self, sid, now, error))
        return finish (self, FALSE, now, error);
    }
  if (r < 0)
    return finish (self, FALSE, now, error);
  if (!list_and_disable)
    return finish (self, TRUE, now, error);
  return finish (self,
                 signetd_store_run (self->store, NULL, error,
                                    "INSERT OR IGNORE INTO revocations (kind, value, added) "
                                    "VALUES ('sub', ?, ?)", "ti", name, now),
                 now, error);
}

gboolean
signetd_trust_revoke_user (SignetdTrust  *self,
                           const char    *name,
                           gint64         now,
                           GError       **error)
{
  return revoke_user_full (self, name, TRUE, now, error);
}

gboolean
signetd_trust_revoke_user_sessions (SignetdTrust  *self,
                                    const char    *name,
                                    gint64         now,
                                    GError       **error)
{
  return revoke_user_full (self, name, FALSE, now, error);
}

gboolean
signetd_trust_unrevoke_user (SignetdTrust  *self,
                             const char    *name,
                             gint64         now,
                             GError       **error)
{
  gint changes = 0;

  if (!signetd_store_begin (self->store, error))
    return FALSE;
  if (!signetd_store_run (self->store, &changes, error,
                          "DELETE FROM revocations WHERE kind = 'sub' AND value = ?", "t", name))
    return finish (self, FALSE, now, error);
  if (changes == 0)
    {
      signetd_store_rollback (self->store);
      return TRUE;
    }
  return finish (self, TRUE, now, error);
}

gboolean
signetd_trust_revoke_device (SignetdTrust  *self,
                             const char    *serial,
                             gint64         now,
                             GError       **error)
{
  gsize len = strlen (serial);

  if (len == 0 || len > SP_REVOCATION_TEXT_MAX || !g_utf8_validate (serial, (gssize) len, NULL))
    {
      g_set_error (error, SIGNETD_TRUST_ERROR, SIGNETD_TRUST_ERROR_INVALID,
                   "a device serial is 1 to %d bytes of UTF-8", SP_REVOCATION_TEXT_MAX);
      return FALSE;
    }
  for (const char *p = serial; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      {
        g_set_error (error, SIGNETD_TRUST_ERROR, SIGNETD_TRUST_ERROR_INVALID,
                     "a device serial may not contain control characters");
        return FALSE;
      }
  if (!signetd_store_begin (self->store, error))
    return FALSE;
  return finish (self,
                 signetd_store_run (self->store, NULL, error,
                                    "INSERT OR IGNORE INTO revocations (kind, value, added) "
                                    "VALUES ('serial', ?, ?)", "ti", serial, now),
                 now, error);
}

GBytes *
signetd_trust_get_revocation_list (SignetdTrust  *self,
                                   guint64       *out_version,
                                   GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt =
    signetd_store_prepare (self->store,
                           "SELECT version, signed FROM revocation_list WHERE id = 1", error);
  GBytes *signed_list;
  int r;

  if (stmt == NULL)
    return NULL;
  r = signetd_store_step (self->store, stmt, error);
  if (r < 0)
    return NULL;
  signed_list = r == 1 ? signetd_store_column_bytes (stmt, 1) : NULL;
  if (signed_list == NULL)
    {
      g_set_error (error, SIGNETD_TRUST_ERROR, SIGNETD_TRUST_ERROR_FAILED,
                   "the revocation list has not been signed yet");
      return NULL;
    }
  if (out_version != NULL)
    *out_version = (guint64) sqlite3_column_int64 (stmt, 0);
  return signed_list;
}

JsonNode *
signetd_trust_to_json (SignetdTrust  *self,
                       gint64         now,
                       GError       **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GPtrArray) keys = signetd_keys_list_published (self->keys, now, error);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GBytes) list = NULL;
  g_autofree char *list_b64 = NULL;
  int r;

  if (keys == NULL)
    return NULL;
  list = signetd_trust_get_revocation_list (self, NULL, error);
  if (list == NULL)
    return NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "authority_keys");
  json_builder_begin_array (b);
  for (guint i = 0; i < keys->len; i++)
    {
      SignetdAuthorityKey *ak = g_ptr_array_index (keys, i);
      g_autoptr(GBytes) kid = g_bytes_new (ak->kid, strlen (ak->kid));
      g_autoptr(GBytes) cose = signet_key_to_cose_key (ak->key, kid, FALSE, error);
      g_autofree char *cose_b64 = NULL;
      JsonNode *jwk;
      JsonObject *jwk_obj;

      if (cose == NULL)
        return NULL;
      cose_b64 = signet_base64url_encode (g_bytes_get_data (cose, NULL), g_bytes_get_size (cose));
      jwk = signet_key_to_jwk_node (ak->key);
      jwk_obj = json_node_get_object (jwk);
      json_object_set_string_member (jwk_obj, "kid", ak->kid);
      json_object_set_string_member (jwk_obj, "alg", "ES256");
      json_object_set_string_member (jwk_obj, "use", "sig");

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "kid");
      json_builder_add_string_value (b, ak->kid);
      json_builder_set_member_name (b, "cose_key");
      json_builder_add_string_value (b, cose_b64);
      json_builder_set_member_name (b, "jwk");
      json_builder_add_value (b, jwk);
      json_builder_set_member_name (b, "current");
      json_builder_add_boolean_value (b, ak->current);
      json_builder_set_member_name (b, "not_after");
      if (ak->current)
        json_builder_add_null_value (b);
      else
        json_builder_add_int_value (b, ak->not_after);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "manufacturer_cas");
  json_builder_begin_array (b);
  stmt = signetd_store_prepare (self->store, "SELECT pem FROM manufacturer_cas ORDER BY id",
                                error);
  if (stmt == NULL)
    return NULL;
  while ((r = signetd_store_step (self->store, stmt, error)) == 1)
    json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 0));
  if (r < 0)
    return NULL;
  json_builder_end_array (b);

  list_b64 = signet_base64url_encode (g_bytes_get_data (list, NULL), g_bytes_get_size (list));
  json_builder_set_member_name (b, "revocation_list");
  json_builder_add_string_value (b, list_b64);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

GPtrArray *
signetd_trust_dup_ca_ders (SignetdTrust  *self,
                           GError       **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(sqlite3_stmt) stmt =
    signetd_store_prepare (self->store, "SELECT pem FROM manufacturer_cas ORDER BY id", error);
  int r;

  if (stmt == NULL)
    return NULL;
  while ((r = signetd_store_step (self->store, stmt, error)) == 1)
    {
      GBytes *der = signet_x509_der_from_pem ((const char *) sqlite3_column_text (stmt, 0),
                                              error);

      if (der == NULL)
        return NULL;
      g_ptr_array_add (out, der);
    }
  if (r < 0)
    return NULL;
  return g_steal_pointer (&out);
}

GStrv
signetd_trust_dup_revoked_serials (SignetdTrust  *self,
                                   GError       **error)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  g_autoptr(sqlite3_stmt) stmt =
    signetd_store_prepare (self->store,
                           "SELECT value FROM revocations WHERE kind = 'serial'", error);
  int r;

  if (stmt == NULL)
    return NULL;
  while ((r = signetd_store_step (self->store, stmt, error)) == 1)
    {
      /* Stored as bound text; read back as text of its exact length. */
      const char *p = (const char *) sqlite3_column_blob (stmt, 0);
      int len = sqlite3_column_bytes (stmt, 0);

      if (p != NULL && len > 0)
        {
          g_autofree char *serial = g_strndup (p, (gsize) len);

          g_strv_builder_add (b, serial);
        }
    }
  if (r < 0)
    return NULL;
  return g_strv_builder_end (b);
}
