/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "signet-crypto.h"
#include "signet-secret.h"
#include "signetd-keys.h"

struct _SignetdKeys {
  GBytes *master;          /* wiping */
  SignetdStore *store;     /* borrowed */
  char *cached_kid;        /* the current key, decrypted once */
  SignetKey *cached_key;
};

G_DEFINE_QUARK (signetd-keys-error-quark, signetd_keys_error)

#define AAD_PREFIX "signetd:v1:"

void
signetd_authority_key_free (SignetdAuthorityKey *ak)
{
  if (ak == NULL)
    return;
  g_free (ak->kid);
  g_clear_pointer (&ak->key, signet_key_unref);
  g_free (ak);
}

gboolean
signetd_keys_create_master (const char  *data_dir,
                            GError     **error)
{
  g_autofree char *path = g_build_filename (data_dir, SIGNETD_MASTER_KEY_FILE, NULL);
  guint8 key[SIGNETD_MASTER_KEY_LEN];
  gboolean ok = FALSE;
  int fd;

  if (!signet_random_fill (key, sizeof key, error))
    return FALSE;
  fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, SIGNETD_KEYS_ERROR, SIGNETD_KEYS_ERROR_MASTER_KEY,
                   "%s: %s", path, g_strerror (saved));
      goto out;
    }
  if (write (fd, key, sizeof key) != (gssize) sizeof key || fsync (fd) != 0)
    {
      int saved = errno;

      g_set_error (error, SIGNETD_KEYS_ERROR, SIGNETD_KEYS_ERROR_MASTER_KEY,
                   "%s: %s", path, g_strerror (saved));
      close (fd);
      goto out;
    }
  close (fd);
  ok = TRUE;

out:
  signet_secret_wipe (key, sizeof key);
  return ok;
}

static GBytes *
load_master (const char  *data_dir,
             GError     **error)
{
  g_autofree char *path = g_build_filename (data_dir, SIGNETD_MASTER_KEY_FILE, NULL);
  guint8 key[SIGNETD_MASTER_KEY_LEN + 1];
  struct stat st;
  gssize n;
  int fd;

  fd = g_open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, SIGNETD_KEYS_ERROR, SIGNETD_KEYS_ERROR_MASTER_KEY,
                   "%s: %s", path, g_strerror (saved));
      return NULL;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, SIGNETD_KEYS_ERROR, SIGNETD_KEYS_ERROR_MASTER_KEY,
                   "%s: not a regular file", path);
      return NULL;
    }
  if ((st.st_mode & 077) != 0)
    {
      close (fd);
      g_set_error (error, SIGNETD_KEYS_ERROR, SIGNETD_KEYS_ERROR_MASTER_KEY,
                   "%s: readable by other users (mode %03o); chmod 600 it",
                   path, (unsigned) (st.st_mode & 0777));
      return NULL;
    }
  n = read (fd, key, sizeof key);
  close (fd);
  if (n != SIGNETD_MASTER_KEY_LEN)
    {
      signet_secret_wipe (key, sizeof key);
      g_set_error (error, SIGNETD_KEYS_ERROR, SIGNETD_KEYS_ERROR_MASTER_KEY,
                   "%s: must hold exactly %d bytes", path, SIGNETD_MASTER_KEY_LEN);
      return NULL;
    }
  {
    GBytes *master = signet_secret_bytes_new (key, SIGNETD_MASTER_KEY_LEN);

    signet_secret_wipe (key, sizeof key);
    return master;
  }
}

SignetdKeys *
signetd_keys_new_with_master (GBytes       *master,
                              SignetdStore *store)
{
  SignetdKeys *self = g_new0 (SignetdKeys, 1);

  g_return_val_if_fail (g_bytes_get_size (master) == SIGNETD_MASTER_KEY_LEN, NULL);
  self->master = g_bytes_ref (master);
  self->store = store;
  return self;
}

SignetdKeys *
signetd_keys_new (const char    *data_dir,
                  SignetdStore  *store,
                  GError       **error)
{
  g_autoptr(GBytes) master = load_master (data_dir, error);

  if (master == NULL)
    return NULL;
  return signetd_keys_new_with_master (master, store);
}

void
signetd_keys_free (SignetdKeys *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->master, g_bytes_unref);
  g_clear_pointer (&self->cached_key, signet_key_unref);
  g_free (self->cached_kid);
  g_free (self);
}

static GBytes *
make_aad (const char *purpose)
{
  char *text = g_strconcat (AAD_PREFIX, purpose, NULL);
  gsize len = strlen (text);

  return g_bytes_new_take (text, len);
}

GBytes *
signetd_keys_seal (SignetdKeys  *self,
                   const char   *purpose,
                   GBytes       *plaintext,
                   GError      **error)
{
  g_autoptr(GBytes) nonce = signet_random_bytes (SIGNET_AES_GCM_NONCE_LEN, error);
  g_autoptr(GBytes) aad = make_aad (purpose);
  g_autoptr(GBytes) ct = NULL;
  g_autoptr(GByteArray) out = NULL;

  if (nonce == NULL)
    return NULL;
  ct = signet_aes_gcm_seal (self->master, nonce, aad, plaintext, error);
  if (ct == NULL)
    return NULL;
  out = g_byte_array_sized_new (SIGNET_AES_GCM_NONCE_LEN + (guint) g_bytes_get_size (ct));
  g_byte_array_append (out, g_bytes_get_data (nonce, NULL), SIGNET_AES_GCM_NONCE_LEN);
  g_byte_array_append (out, g_bytes_get_data (ct, NULL), (guint) g_bytes_get_size (ct));
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

GBytes *
signetd_keys_open (SignetdKeys  *self,
                   const char   *purpose,
                   GBytes       *sealed,
                   GError      **error)
{
  g_autoptr(GBytes) aad = make_aad (purpose);
  g_autoptr(GBytes) nonce = NULL;
  g_autoptr(GBytes) ct = NULL;
  g_autoptr(GError) local_error = NULL;
  GBytes *plain;
  gsize len = sealed != NULL ? g_bytes_get_size (sealed) : 0;

  if (len < SIGNET_AES_GCM_NONCE_LEN + SIGNET_AES_GCM_TAG_LEN)
    {
      g_set_error (error, SIGNETD_KEYS_ERROR, SIGNETD_KEYS_ERROR_DECRYPT,
                   "stored %s: too short to be sealed", purpose);
      return NULL;
    }
  nonce = g_bytes_new_from_bytes (sealed, 0, SIGNET_AES_GCM_NONCE_LEN);
  ct = g_bytes_new_from_bytes (sealed, SIGNET_AES_GCM_NONCE_LEN,
                               len - SIGNET_AES_GCM_NONCE_LEN);
  plain = signet_aes_gcm_open (self->master, nonce, aad, ct, &local_error);
  if (plain == NULL)
    {
      g_set_error (error, SIGNETD_KEYS_ERROR, SIGNETD_KEYS_ERROR_DECRYPT,
                   "stored %s does not decrypt (another master key, or moved from "
                   "another row)", purpose);
      return NULL;
    }
  return plain;
}

char *
signetd_keys_rotate (SignetdKeys  *self,
                     gint64        now,
                     GError      **error)
{
  g_autoptr(SignetKey) key = signet_key_generate (error);
  g_autofree char *kid = NULL;
  g_autofree char *purpose = NULL;
  g_auto(SignetSecretString) pem = NULL;
  g_autoptr(GBytes) plain = NULL;
  g_autoptr(GBytes) sealed = NULL;
  g_autoptr(GBytes) pub = NULL;

  if (key == NULL)
    return NULL;
  kid = signet_key_dup_thumbprint (key);
  purpose = g_strconcat ("authority:", kid, NULL);
  pem = signet_key_to_pkcs8_pem (key, error);
  if (pem == NULL)
    return NULL;
  plain = signet_secret_bytes_new (pem, strlen (pem));
  sealed = signetd_keys_seal (self, purpose, plain, error);
  if (sealed == NULL)
    return NULL;
  pub = signet_key_get_public_bytes (key);

  if (!signetd_store_begin (self->store, error))
    return NULL;
  if (!signetd_store_run (self->store, NULL, error,
                          "UPDATE authority_keys SET retired = ? WHERE retired IS NULL",
                          "i", now) ||
      !signetd_store_run (self->store, NULL, error,
                          "INSERT INTO authority_keys (kid, public_key, private_key, created) "
                          "VALUES (?, ?, ?, ?)", "tBBi", kid, pub, sealed, now) ||
      !signetd_store_commit (self->store, error))
    {
      signetd_store_rollback (self->store);
      return NULL;
    }
  return g_steal_pointer (&kid);
}

SignetKey *
signetd_keys_get_current (SignetdKeys  *self,
                          char        **out_kid,
                          GError      **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *kid = NULL;
  g_autofree char *purpose = NULL;
  g_autoptr(GBytes) sealed = NULL;
  g_autoptr(GBytes) plain = NULL;
  g_auto(SignetSecretString) pem = NULL;
  SignetKey *key;
  int r;

  stmt = signetd_store_prepare (self->store,
                                "SELECT kid, private_key FROM authority_keys "
                                "WHERE retired IS NULL ORDER BY id DESC LIMIT 1", error);
  if (stmt == NULL)
    return NULL;
  r = signetd_store_step (self->store, stmt, error);
  if (r < 0)
    return NULL;
  if (r == 0)
    {
      g_set_error (error, SIGNETD_KEYS_ERROR, SIGNETD_KEYS_ERROR_NO_AUTHORITY,
                   "no current authority key (run signetd key rotate)");
      return NULL;
    }
  kid = signetd_store_column_text (stmt, 0);
  if (self->cached_kid != NULL && g_str_equal (self->cached_kid, kid))
    {
      if (out_kid != NULL)
        *out_kid = g_steal_pointer (&kid);
      return signet_key_ref (self->cached_key);
    }

  sealed = signetd_store_column_bytes (stmt, 1);
  purpose = g_strconcat ("authority:", kid, NULL);
  plain = signetd_keys_open (self, purpose, sealed, error);
  if (plain == NULL)
    return NULL;
  pem = g_strndup (g_bytes_get_data (plain, NULL), g_bytes_get_size (plain));
  key = signet_key_new_from_pem (pem, error);
  if (key == NULL)
    return NULL;

  g_clear_pointer (&self->cached_key, signet_key_unref);
  g_free (self->cached_kid);
  self->cached_key = signet_key_ref (key);
  self->cached_kid = g_strdup (kid);
  if (out_kid != NULL)
    *out_kid = g_steal_pointer (&kid);
  return key;
}

gboolean
signetd_keys_note_issued (SignetdKeys  *self,
                          const char   *kid,
                          gint64        exp,
                          GError      **error)
{
  return signetd_store_run (self->store, NULL, error,
                            "UPDATE authority_keys SET last_exp = MAX(last_exp, ?) "
                            "WHERE kid = ?", "it", exp, kid);
}

GPtrArray *
signetd_keys_list_published (SignetdKeys  *self,
                             gint64        now,
                             GError      **error)
{
  g_autoptr(GPtrArray) keys =
    g_ptr_array_new_with_free_func ((GDestroyNotify) signetd_authority_key_free);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int r;

  stmt = signetd_store_prepare (self->store,
                                "SELECT kid, public_key, retired IS NULL, last_exp "
                                "FROM authority_keys "
                                "WHERE retired IS NULL OR last_exp > ? "
                                "ORDER BY retired IS NULL DESC, id DESC", error);
  if (stmt == NULL || !signetd_store_bind (self->store, stmt, error, "i", now))
    return NULL;
  while ((r = signetd_store_step (self->store, stmt, error)) == 1)
    {
      g_autoptr(SignetdAuthorityKey) ak = g_new0 (SignetdAuthorityKey, 1);
      g_autoptr(GBytes) pub = signetd_store_column_bytes (stmt, 1);

      ak->kid = signetd_store_column_text (stmt, 0);
      ak->current = sqlite3_column_int (stmt, 2) != 0;
      ak->not_after = sqlite3_column_int64 (stmt, 3);
      ak->key = pub != NULL ? signet_key_new_from_public_bytes (pub, error) : NULL;
      if (ak->key == NULL)
        {
          if (pub == NULL)
            g_set_error (error, SIGNETD_KEYS_ERROR, SIGNETD_KEYS_ERROR_FAILED,
                         "authority key without a public key");
          return NULL;
        }
      g_ptr_array_add (keys, g_steal_pointer (&ak));
    }
  if (r < 0)
    return NULL;
  return g_steal_pointer (&keys);
}
