/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "signetctl-config.h"

static char *
absolute (const char *path,
          const char *base)
{
  g_autofree char *cwd = NULL;

  if (path == NULL || g_path_is_absolute (path))
    return g_strdup (path);
  if (base == NULL)
    base = cwd = g_get_current_dir ();
  return g_build_filename (base, path, NULL);
}

static void
take_env (char       **member,
          const char  *name)
{
  const char *value = g_getenv (name);

  if (*member == NULL && value != NULL && *value != '\0')
    *member = g_strdup (value);
}

static gboolean
read_file (SignetctlConfig  *config,
           GError          **error)
{
  g_autofree char *path = g_build_filename (g_get_user_config_dir (), "signet",
                                            "signetctl.conf", NULL);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local = NULL;
  g_autofree char *dir = NULL;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, local->domain, local->code, _("%s: %s"), path, local->message);
      return FALSE;
    }
  config->config_file = g_strdup (path);
  dir = g_path_get_dirname (path);
  if (config->service_url == NULL)
    config->service_url = g_key_file_get_string (kf, "service", "url", NULL);
  if (config->ca_file == NULL)
    {
      g_autofree char *ca = g_key_file_get_string (kf, "service", "ca", NULL);

      config->ca_file = absolute (ca, dir);
    }
  if (config->pin == NULL)
    config->pin = g_key_file_get_string (kf, "service", "pin", NULL);
  return TRUE;
}

gboolean
signetctl_config_resolve (SignetctlConfig  *config,
                          GError          **error)
{
  char *tmp;

  take_env (&config->service_url, "SIGNET_SERVICE_URL");
  take_env (&config->ca_file, "SIGNET_SERVICE_CA");
  take_env (&config->pin, "SIGNET_SERVICE_PIN");
  take_env (&config->state_dir, "SIGNET_STATE_DIR");
  take_env (&config->socket_path, "SIGNETCTL_SOCKET");
  if (!read_file (config, error))
    return FALSE;
  if (config->state_dir == NULL)
    config->state_dir = g_build_filename (g_get_user_state_dir (), "signet", NULL);
  if (config->socket_path == NULL)
    config->socket_path = g_build_filename (g_get_user_runtime_dir (), "signet",
                                            "agent.socket", NULL);
  tmp = absolute (config->ca_file, NULL);
  g_free (config->ca_file);
  config->ca_file = tmp;
  tmp = absolute (config->state_dir, NULL);
  g_free (config->state_dir);
  config->state_dir = tmp;
  tmp = absolute (config->socket_path, NULL);
  g_free (config->socket_path);
  config->socket_path = tmp;
  return TRUE;
}

void
signetctl_config_clear (SignetctlConfig *config)
{
  g_clear_pointer (&config->service_url, g_free);
  g_clear_pointer (&config->ca_file, g_free);
  g_clear_pointer (&config->pin, g_free);
  g_clear_pointer (&config->state_dir, g_free);
  g_clear_pointer (&config->socket_path, g_free);
  g_clear_pointer (&config->config_file, g_free);
}
