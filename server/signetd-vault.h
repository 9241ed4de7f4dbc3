/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-vault.h: the secrets the service seals to devices (DESIGN.md §3
 * "Secrets and profiles"), encrypted at rest.
 *
 * A secret has a name of 1 to 128 characters of a-z, 0-9, '.', '_', '-'
 * and '/', in segments separated by single slashes ("site-a/wifi-psk":
 * no leading, trailing or doubled '/', no "." or ".." segment), and a
 * value of 1 to SIGNETD_VAULT_VALUE_MAX bytes. The value is sealed by
 * signetd-keys with purpose "vault:NAME" (AES-256-GCM, the row's name in
 * the additional data), so a ciphertext moved to another name does not
 * open. Values leave this module only through signetd_vault_dup_value(),
 * in a wiping GBytes, for sealing to a device; listings carry names and
 * times, never values or lengths.
 *
 * Borrows the store and the keys.
 */
#pragma once

#include <glib.h>

#include "signetd-keys.h"
#include "signetd-store.h"

G_BEGIN_DECLS

#define SIGNETD_VAULT_ERROR (signetd_vault_error_quark ())
GQuark signetd_vault_error_quark (void);

typedef enum {
  SIGNETD_VAULT_ERROR_FAILED,
  SIGNETD_VAULT_ERROR_INVALID_NAME,   /* a name outside the rules above */
  SIGNETD_VAULT_ERROR_INVALID_VALUE,  /* empty or longer than SIGNETD_VAULT_VALUE_MAX */
  SIGNETD_VAULT_ERROR_NOT_FOUND,      /* no secret has this name */
} SignetdVaultError;

#define SIGNETD_VAULT_NAME_MAX 128
#define SIGNETD_VAULT_VALUE_MAX 4096

typedef struct _SignetdVault SignetdVault;

typedef struct {
  char *name;
  gint64 created;
  gint64 updated;
} SignetdVaultEntry;

void signetd_vault_entry_free (SignetdVaultEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdVaultEntry, signetd_vault_entry_free)

/* Returns: (transfer full) */
SignetdVault *signetd_vault_new            (SignetdStore  *store,
                                            SignetdKeys   *keys);
void          signetd_vault_free           (SignetdVault  *self);

/* SIGNETD_VAULT_ERROR_INVALID_NAME unless name follows the rules above. */
gboolean      signetd_vault_validate_name  (const char    *name,
                                            GError       **error);

/* Store value under name, replacing any value it had. *out_replaced
 * (nullable) says whether one was replaced. */
gboolean      signetd_vault_set            (SignetdVault  *self,
                                            const char    *name,
                                            GBytes        *value,
                                            gint64         now,
                                            gboolean      *out_replaced,
                                            GError       **error);

/* Returns: (transfer full) (element-type SignetdVaultEntry) (nullable):
 * every entry, by name */
GPtrArray    *signetd_vault_list           (SignetdVault  *self,
                                            GError       **error);

gboolean      signetd_vault_delete         (SignetdVault  *self,
                                            const char    *name,
                                            GError       **error);

gboolean      signetd_vault_exists         (SignetdVault  *self,
                                            const char    *name,
                                            GError       **error);

/* Returns: (transfer full) (nullable): the value, in a wiping GBytes */
GBytes       *signetd_vault_dup_value      (SignetdVault  *self,
                                            const char    *name,
                                            GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdVault, signetd_vault_free)

G_END_DECLS
