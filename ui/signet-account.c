/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-account.c: see signet-account.h.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <libsecret/secret.h>

#include "signet-account.h"

static const SecretSchema *
account_schema (void)
{
  static const SecretSchema schema = {
    "org.signet.Signet.Account", SECRET_SCHEMA_NONE,
    {
      { "service", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    },
    0, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  };

  return &schema;
}

static void
lookup_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  char *username;

  username = secret_password_lookup_finish (result, &error);
  if (error != NULL)
    g_debug ("No remembered user name: %s", error->message);
  g_task_return_pointer (task, username, (GDestroyNotify) secret_password_free);
}

void
signet_account_lookup_username_async (const char          *service_url,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, signet_account_lookup_username_async);
  if (service_url == NULL || *service_url == '\0')
    {
      g_task_return_pointer (task, NULL, NULL);
      g_object_unref (task);
      return;
    }
  secret_password_lookup (account_schema (), cancellable, lookup_cb, task,
                          "service", service_url, NULL);
}

char *
signet_account_lookup_username_finish (GAsyncResult *result)
{
  char *stored;
  char *username = NULL;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  stored = g_task_propagate_pointer (G_TASK (result), NULL);
  if (stored != NULL && *stored != '\0')
    username = g_strdup (stored);
  secret_password_free (stored);
  return username;
}

static void
store_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!secret_password_store_finish (result, &error))
    g_debug ("Could not remember the user name: %s", error->message);
}

void
signet_account_store_username (const char *service_url,
                               const char *username)
{
  g_autofree char *label = NULL;

  g_return_if_fail (service_url != NULL);
  g_return_if_fail (username != NULL);

  /* TRANSLATORS: the label of the keyring item; %s is the service URL */
  label = g_strdup_printf (_("Signet user name for %s"), service_url);
  secret_password_store (account_schema (), SECRET_COLLECTION_DEFAULT, label, username, NULL,
                         store_cb, NULL, "service", service_url, NULL);
}
