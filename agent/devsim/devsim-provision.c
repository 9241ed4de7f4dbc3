/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "devsim-error.h"
#include "devsim-flash.h"
#include "devsim-platform.h"
#include "devsim-provision.h"
#include "signet-secret.h"

/* Printable serials only (the certificate's PrintableString). */
static gboolean
serial_ok (const char *serial)
{
  gsize len = strlen (serial);
  gsize i;

  if (len == 0 || len > SA_SERIAL_MAX)
    return FALSE;
  for (i = 0; i < len; i++)
    if (!g_ascii_isalnum (serial[i]) && strchr (" '()+,-./:=?", serial[i]) == NULL)
      return FALSE;
  return TRUE;
}

static gboolean
key_private (SignetKey  *key,
             guint8      out[SP_P256_SCALAR_LEN],
             GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GBytes) d = signet_key_dup_private_bytes (key, &local_error);

  if (d == NULL || g_bytes_get_size (d) != SP_P256_SCALAR_LEN)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED, "Exporting a device key: %s",
                   local_error != NULL ? local_error->message : "wrong size");
      return FALSE;
    }
  memcpy (out, g_bytes_get_data (d, NULL), SP_P256_SCALAR_LEN);
  return TRUE;
}

/* Write the flash of the new device at tmp_path. */
static gboolean
build_state (const DevsimProvisionParams  *p,
             const char                   *tmp_path,
             GBytes                       *cert,
             SignetKey                    *identity_key,
             SignetKey                    *kem_key,
             GError                      **error)
{
  g_autoptr(DevsimFlash) flash = NULL;
  g_autoptr(DevsimPlatform) platform = NULL;
  GBytes *config = devsim_model_get_initial_config (p->model);
  sa_identity id;
  gsize i;
  sp_err err;
  gboolean ok = FALSE;

  flash = devsim_flash_create (tmp_path,
                               p->flash_size != 0 ? p->flash_size : DEVSIM_FLASH_DEFAULT_SIZE,
                               p->sector_size != 0 ? p->sector_size : DEVSIM_FLASH_DEFAULT_SECTOR,
                               devsim_model_get_json (p->model), error);
  if (flash == NULL)
    return FALSE;
  platform = devsim_platform_new (flash);

  memset (&id, 0, sizeof id);
  id.serial = p->serial;
  id.model = devsim_model_get_name (p->model);
  id.firmware = p->firmware != NULL ? p->firmware : devsim_model_get_firmware (p->model);
  if (!key_private (identity_key, id.identity_d, error)
      || !key_private (kem_key, id.kem_d, error))
    goto out;
  id.chain[0] = g_bytes_get_data (cert, &id.chain_len[0]);
  id.n_chain = 1;
  for (i = 0; i < p->n_authorities; i++)
    id.authorities[i] = p->authorities[i];
  id.n_authorities = p->n_authorities;
  id.config = g_bytes_get_data (config, &id.config_len);
  id.config_version = devsim_model_get_config_version (p->model);
  id.clock_floor = p->clock_floor;

  err = sa_provision (devsim_platform_get (platform), devsim_model_get_schema (p->model), &id);
  if (err != SP_OK)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_AGENT, "The agent refused to provision: %s%s",
                   sp_strerror (err),
                   err == SP_ERR_INVALID_ARG ? " (is the flash large enough for its layout?)" : "");
      goto out;
    }
  ok = devsim_flash_sync (flash, error);

out:
  signet_secret_wipe (&id, sizeof id);
  return ok;
}

DevsimDeviceInfo *
devsim_provision (const DevsimProvisionParams  *p,
                  GError                      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(SignetKey) identity_key = NULL;
  g_autoptr(SignetKey) kem_key = NULL;
  g_autoptr(GBytes) cert = NULL;
  g_autoptr(DevsimFlash) snapshot = NULL;
  g_autoptr(DevsimDeviceInfo) info = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *base = NULL;
  g_autofree char *tmp_path = NULL;
  gboolean linked;
  int saved;

  g_return_val_if_fail (p != NULL && p->state_path != NULL && p->model != NULL, NULL);
  g_return_val_if_fail (p->ca != NULL || p->clone_certificate != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!serial_ok (p->serial))
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                   "The serial must be 1 to %d characters of A-Z, a-z, 0-9 and "
                   "\" '()+,-./:=?\" (an X.509 PrintableString)", SA_SERIAL_MAX);
      return NULL;
    }
  if (p->firmware != NULL && (p->firmware[0] == '\0' || strlen (p->firmware) > 64
                              || !g_utf8_validate (p->firmware, -1, NULL)))
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                   "The firmware version must be 1 to 64 bytes of UTF-8");
      return NULL;
    }
  if (p->n_authorities == 0 || p->n_authorities > SA_AUTHORITIES_MAX)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                   "A device trusts 1 to %d service authority keys", SA_AUTHORITIES_MAX);
      return NULL;
    }
  if (devsim_flash_is_busy (p->state_path))
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_BUSY,
                   "%s is in use by a running signet-devsim", p->state_path);
      return NULL;
    }
  if (!p->force && g_file_test (p->state_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_EXISTS,
                   "%s already exists (--force replaces it)", p->state_path);
      return NULL;
    }

  identity_key = signet_key_generate (&local_error);
  if (identity_key != NULL)
    kem_key = signet_key_generate (&local_error);
  if (kem_key == NULL)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED, "Generating the device keys: %s",
                   local_error->message);
      return NULL;
    }
  if (p->clone_certificate != NULL)
    cert = g_bytes_ref (p->clone_certificate);
  else
    cert = devsim_ca_issue (p->ca, identity_key, devsim_model_get_name (p->model), p->serial,
                            error);
  if (cert == NULL)
    return NULL;
  if (g_bytes_get_size (cert) > SA_CERT_MAX)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                   "The identity certificate takes %" G_GSIZE_FORMAT " bytes, more than the %d "
                   "a device holds (shorten the CA name or the model)",
                   g_bytes_get_size (cert), SA_CERT_MAX);
      return NULL;
    }

  dir = g_path_get_dirname (p->state_path);
  base = g_path_get_basename (p->state_path);
  tmp_path = g_strdup_printf ("%s/.%s.%u.%08x.tmp", dir, base, (guint) getpid (),
                              g_random_int ());
  if (!build_state (p, tmp_path, cert, identity_key, kem_key, error))
    {
      g_unlink (tmp_path);
      return NULL;
    }

  /* Check it boots, and learn what it says, before anyone can see it. */
  snapshot = devsim_flash_open (tmp_path, DEVSIM_FLASH_SNAPSHOT, error);
  if (snapshot == NULL || (info = devsim_probe (snapshot, p->model, error)) == NULL)
    {
      g_unlink (tmp_path);
      return NULL;
    }

  /* rename () for --force; else link (), which never replaces: two
   * factories cannot both win. */
  linked = p->force ? rename (tmp_path, p->state_path) == 0
                    : link (tmp_path, p->state_path) == 0;
  saved = errno;
  g_unlink (tmp_path);
  if (!linked)
    {
      g_set_error (error, DEVSIM_ERROR, saved == EEXIST ? DEVSIM_ERROR_EXISTS : DEVSIM_ERROR_FAILED,
                   "Creating %s: %s", p->state_path, g_strerror (saved));
      return NULL;
    }
  return g_steal_pointer (&info);
}
