/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "signetd-vault.h"

struct _SignetdVault {
  SignetdStore *store;   /* borrowed */
  SignetdKeys *keys;     /* borrowed */
};

G_DEFINE_QUARK (signetd-vault-error-quark, signetd_vault_error)

void
signetd_vault_entry_free (SignetdVaultEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->name);
  g_free (entry);
}

SignetdVault *
signetd_vault_new (SignetdStore *store,
                   SignetdKeys  *keys)
{
  SignetdVault *self = g_new0 (SignetdVault, 1);

  self->store = store;
  self->keys = keys;
  return self;
}

void
signetd_vault_free (SignetdVault *self)
{
  g_free (self);
}

gboolean
signetd_vault_validate_name (const char  *name,
                             GError     **error)
{
  gsize len = name != NULL ? strlen (name) : 0;
  gsize seg_start = 0;

  if (len == 0 || len > SIGNETD_VAULT_NAME_MAX)
    goto bad;
  for (gsize i = 0; i <= len; i++)
    {
      char c = name[i];

      if (c == '/' || c == '\0')
        {
          gsize seg = i - seg_start;

          /* No empty segment (leading, trailing or doubled '/'), and no
           * "." or "..": names must not look like paths that walk. */
          if (seg == 0 || (seg == 1 && name[seg_start] == '.') ||
              (seg == 2 && name[seg_start] == '.' && name[seg_start + 1] == '.'))
            goto bad;
          seg_start = i + 1;
          continue;
        }
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
            c == '-'))
        goto bad;
    }
  return TRUE;

bad:
  /* The name is not a secret: it may be quoted, but an invalid one may
   * hold anything, so it is not. */
  g_set_error (error, SIGNETD_VAULT_ERROR, SIGNETD_VAULT_ERROR_INVALID_NAME,
               "a secret name is 1 to %d characters of a-z, 0-9, '.', '_', '-' in segments "
               "separated by single '/' (no empty, \".\" or \"..\" segment)",
               SIGNETD_VAULT_NAME_MAX);
  return FALSE;
}

static char *
purpose_for (const char *name)
{
  return g_strconcat ("vault:", name, NULL);
}

gboolean
signetd_vault_set (SignetdVault  *self,
                   const char    *name,
                   GBytes        *value,
                   gint64         now,
                   gboolean      *out_replaced,
                   GError       **error)
{
  g_autofree char *purpose = NULL;
  g_autoptr(GBytes) sealed = NULL;
  gsize len = value != NULL ? g_bytes_get_size (value) : 0;
  gboolean exists;
  g_autoptr(GError) local_error = NULL;

  if (!signetd_vault_validate_name (name, error))
    return FALSE;
  if (len == 0 || len > SIGNETD_VAULT_VALUE_MAX)
    {
      g_set_error (error, SIGNETD_VAULT_ERROR, SIGNETD_VAULT_ERROR_INVALID_VALUE,
                   "a secret value is 1 to %d bytes", SIGNETD_VAULT_VALUE_MAX);
      return FALSE;
    }
  purpose = purpose_for (name);
  sealed = signetd_keys_seal (self->keys, purpose, value, error);
  if (sealed == NULL || !signetd_store_begin (self->store, error))
    return FALSE;
  exists = signetd_vault_exists (self, name, &local_error);
  if (local_error != NULL ||
      !signetd_store_run (self->store, NULL, &local_error,
                          "INSERT INTO vault_secrets (name, value, created, updated) "
                          "VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                          "value = excluded.value, updated = excluded.updated",
                          "tBii", name, sealed, now, now) ||
      !signetd_store_commit (self->store, &local_error))
    {
      signetd_store_rollback (self->store);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (out_replaced != NULL)
    *out_replaced = exists;
  return TRUE;
}

GPtrArray *
signetd_vault_list (SignetdVault  *self,
                    GError       **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) signetd_vault_entry_free);
  g_autoptr(sqlite3_stmt) stmt =
    signetd_store_prepare (self->store,
                           "SELECT name, created, updated FROM vault_secrets ORDER BY name",
                           error);
  int r;

  if (stmt == NULL)
    return NULL;
  while ((r = signetd_store_step (self->store, stmt, error)) == 1)
    {
      SignetdVaultEntry *e = g_new0 (SignetdVaultEntry, 1);

      e->name = signetd_store_column_text (stmt, 0);
      e->created = sqlite3_column_int64 (stmt, 1);
      e->updated = sqlite3_column_int64 (stmt, 2);
      g_ptr_array_add (out, e);
    }
  if (r < 0)
    return NULL;
  return g_steal_pointer (&out);
}

static void
set_not_found (GError **error)
{
  g_set_error (error, SIGNETD_VAULT_ERROR, SIGNETD_VAULT_ERROR_NOT_FOUND,
               "no secret has this name");
}

gboolean
signetd_vault_delete (SignetdVault  *self,
                      const char    *name,
                      GError       **error)
{
  gint changes = 0;

  if (!signetd_vault_validate_name (name, error))
    return FALSE;
  if (!signetd_store_run (self->store, &changes, error,
                          "DELETE FROM vault_secrets WHERE name = ?", "t", name))
    return FALSE;
  if (changes == 0)
    {
      set_not_found (error);
      return FALSE;
    }
  return TRUE;
}

gboolean
signetd_vault_exists (SignetdVault  *self,
                      const char    *name,
                      GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt =
    signetd_store_prepare (self->store, "SELECT 1 FROM vault_secrets WHERE name = ?", error);
  int r;

  if (stmt == NULL || !signetd_store_bind (self->store, stmt, error, "t", name))
    return FALSE;
  r = signetd_store_step (self->store, stmt, error);
  return r == 1;
}

GBytes *
signetd_vault_dup_value (SignetdVault  *self,
                         const char    *name,
                         GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt =
    signetd_store_prepare (self->store, "SELECT value FROM vault_secrets WHERE name = ?",
                           error);
  g_autoptr(GBytes) sealed = NULL;
  g_autofree char *purpose = NULL;
  int r;

  if (stmt == NULL || !signetd_store_bind (self->store, stmt, error, "t", name))
    return NULL;
  r = signetd_store_step (self->store, stmt, error);
  if (r < 0)
    return NULL;
  if (r == 0)
    {
      set_not_found (error);
      return NULL;
    }
  sealed = signetd_store_column_bytes (stmt, 0);
  purpose = purpose_for (name);
  return signetd_keys_open (self->keys, purpose, sealed, error);
}
