/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "devsim-ca.h"
#include "devsim-error.h"
#include "signet-secret.h"
#include "signet-x509.h"

void
devsim_ca_free (DevsimCa *ca)
{
  if (ca == NULL)
    return;
  g_clear_pointer (&ca->key, signet_key_unref);
  g_clear_pointer (&ca->cert, g_bytes_unref);
  g_free (ca);
}

static gboolean
x509_failed (GError      **error,
             GError       *local_error,
             const char   *what)
{
  g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED, "%s: %s", what, local_error->message);
  return FALSE;
}

static gboolean
write_file (const char   *path,
            const char   *text,
            int           mode,
            GError      **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, mode,
                                 &local_error))
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED, "%s", local_error->message);
      return FALSE;
    }
  return TRUE;
}

DevsimCa *
devsim_ca_create (const char  *dir,
                  const char  *name,
                  GError     **error)
{
  g_autoptr(DevsimCa) ca = g_new0 (DevsimCa, 1);
  g_autoptr(GError) local_error = NULL;
  g_autofree char *cert_pem = NULL;
  g_auto(SignetSecretString) key_pem = NULL;
  g_autofree char *parent = NULL;
  g_autofree char *base = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *tmp_cert = NULL;
  g_autofree char *tmp_key = NULL;
  g_autofree char *cert_path = g_build_filename (dir, DEVSIM_CA_CERT_FILE, NULL);

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (name == NULL)
    name = DEVSIM_CA_DEFAULT_NAME;
  if (g_file_test (cert_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_EXISTS, "%s already holds a CA", dir);
      return NULL;
    }

  ca->key = signet_key_generate (&local_error);
  if (ca->key == NULL)
    {
      x509_failed (error, local_error, "Generating the CA key");
      return NULL;
    }
  ca->cert = signet_x509_issue (ca->key, NULL, ca->key, name, NULL, TRUE, DEVSIM_CA_DAYS,
                                &local_error);
  if (ca->cert == NULL || !signet_x509_check_ca (ca->cert, &local_error))
    {
      g_set_error (error, DEVSIM_ERROR,
                   g_error_matches (local_error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID)
                   ? DEVSIM_ERROR_INVALID : DEVSIM_ERROR_FAILED,
                   "Making the CA certificate: %s", local_error->message);
      return NULL;
    }
  cert_pem = signet_x509_pem_from_der (ca->cert, &local_error);
  if (cert_pem == NULL
      || (key_pem = signet_key_to_pkcs8_pem (ca->key, &local_error)) == NULL)
    {
      x509_failed (error, local_error, "Encoding the CA");
      return NULL;
    }

  /* Build the CA in a fresh directory beside dir and rename it into
   * place: rename () replaces an empty directory and refuses a non-empty
   * one, so a CA appears whole or not at all, and two simulators that
   * both create the same CA at once end up with one of them. */
  parent = g_path_get_dirname (dir);
  base = g_path_get_basename (dir);
  tmp = g_build_filename (parent, ".devsim-ca-XXXXXX", NULL);
  if (g_mkdir_with_parents (parent, 0700) != 0 || g_mkdtemp_full (tmp, 0700) == NULL)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED, "Making a directory beside %s: %s",
                   dir, g_strerror (errno));
      return NULL;
    }
  tmp_cert = g_build_filename (tmp, DEVSIM_CA_CERT_FILE, NULL);
  tmp_key = g_build_filename (tmp, DEVSIM_CA_KEY_FILE, NULL);
  if (!write_file (tmp_key, key_pem, 0600, error) || !write_file (tmp_cert, cert_pem, 0644, error))
    goto fail;
  if (rename (tmp, dir) != 0)
    {
      int saved = errno;

      if (saved == ENOTEMPTY || saved == EEXIST)
        g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_EXISTS,
                     "%s is not empty (it holds a CA, or something else)", dir);
      else
        g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED, "Creating %s: %s", dir,
                     g_strerror (saved));
      goto fail;
    }
  return g_steal_pointer (&ca);

fail:
  g_unlink (tmp_key);
  g_unlink (tmp_cert);
  g_rmdir (tmp);
  return NULL;
}

DevsimCa *
devsim_ca_load (const char  *dir,
                GError     **error)
{
  g_autoptr(DevsimCa) ca = g_new0 (DevsimCa, 1);
  g_autoptr(GError) local_error = NULL;
  g_autofree char *cert_path = g_build_filename (dir, DEVSIM_CA_CERT_FILE, NULL);
  g_autofree char *key_path = g_build_filename (dir, DEVSIM_CA_KEY_FILE, NULL);
  g_autofree char *cert_pem = NULL;
  g_auto(SignetSecretString) key_pem = NULL;
  gsize key_len = 0;

  if (!g_file_get_contents (cert_path, &cert_pem, NULL, &local_error)
      || !g_file_get_contents (key_path, &key_pem, &key_len, &local_error))
    {
      g_set_error (error, DEVSIM_ERROR,
                   g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                   ? DEVSIM_ERROR_NOT_FOUND : DEVSIM_ERROR_FAILED,
                   "No CA in %s: %s", dir, local_error->message);
      return NULL;
    }
  ca->cert = signet_x509_der_from_pem (cert_pem, &local_error);
  if (ca->cert == NULL || !signet_x509_check_ca (ca->cert, &local_error))
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID, "%s: %s", cert_path,
                   local_error->message);
      return NULL;
    }
  ca->key = signet_key_new_from_pem (key_pem, &local_error);
  if (ca->key == NULL || !signet_key_has_private (ca->key))
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID, "%s: %s", key_path,
                   local_error != NULL ? local_error->message : "not a private key");
      return NULL;
    }
  return g_steal_pointer (&ca);
}

GBytes *
devsim_ca_issue (DevsimCa    *ca,
                 SignetKey   *subject_key,
                 const char  *model,
                 const char  *serial,
                 GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GBytes) cert = NULL;
  g_autoptr(GPtrArray) chain = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GPtrArray) anchors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autofree char *checked_serial = NULL;

  cert = signet_x509_issue (ca->key, ca->cert, subject_key, model, serial, FALSE,
                            DEVSIM_DEVICE_CERT_DAYS, &local_error);
  if (cert == NULL)
    {
      g_set_error (error, DEVSIM_ERROR,
                   g_error_matches (local_error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID)
                   ? DEVSIM_ERROR_INVALID : DEVSIM_ERROR_FAILED,
                   "Issuing the identity certificate: %s", local_error->message);
      return NULL;
    }

  /* What the tool and the service will check (docs/security.md): make
   * sure now rather than in the field. */
  g_ptr_array_add (chain, g_bytes_ref (cert));
  g_ptr_array_add (anchors, g_bytes_ref (ca->cert));
  if (!signet_x509_verify_chain (chain, anchors, NULL, g_get_real_time () / G_USEC_PER_SEC,
                                 NULL, &checked_serial, &local_error))
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED,
                   "The identity certificate does not verify: %s", local_error->message);
      return NULL;
    }
  g_assert (g_str_equal (checked_serial, serial));
  return g_steal_pointer (&cert);
}
