/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "signetd-config.h"

G_DEFINE_QUARK (signetd-config-error-quark, signetd_config_error)

#define DEFAULT_LISTEN "127.0.0.1:8443"

typedef enum {
  KEY_STRING,
  KEY_INT,
} KeyType;

typedef struct {
  const char *group;
  const char *key;
  KeyType type;
  gint64 min;
  gint64 max;
} KeySpec;

/* Every key the file may hold, with its range. */
static const KeySpec key_specs[] = {
  { "server", "listen", KEY_STRING, 0, 0 },
  { "server", "public_url", KEY_STRING, 0, 0 },
  { "server", "tls_cert", KEY_STRING, 0, 0 },
  { "server", "tls_key", KEY_STRING, 0, 0 },
  { "tokens", "lifetime", KEY_INT, 1, 24 * 3600 },
  { "tokens", "session_max", KEY_INT, 1, 30 * 24 * 3600 },
  { "totp", "window", KEY_INT, 0, 10 },
  { "lockout", "backoff_after", KEY_INT, 1, 1000 },
  { "lockout", "lock_after", KEY_INT, 1, 1000 },
  { "lockout", "backoff_max", KEY_INT, 1, 24 * 3600 },
  { "lockout", "address_backoff_after", KEY_INT, 1, 100000 },
  { "audit", "rotate", KEY_INT, 1, 366 * 24 * 3600 },
};

static const KeySpec *
find_spec (const char *group,
           const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (key_specs); i++)
    if (g_str_equal (key_specs[i].group, group) && g_str_equal (key_specs[i].key, key))
      return &key_specs[i];
  return NULL;
}

SignetdConfig *
signetd_config_new_default (const char *data_dir)
{
  SignetdConfig *self = g_new0 (SignetdConfig, 1);

  g_return_val_if_fail (data_dir != NULL, NULL);

  self->data_dir = g_strdup (data_dir);
  self->listen = g_strdup (DEFAULT_LISTEN);
  self->tls_cert = g_build_filename (data_dir, "tls-cert.pem", NULL);
  self->tls_key = g_build_filename (data_dir, "tls-key.pem", NULL);
  self->token_lifetime = 900;
  self->session_max = 8 * 3600;
  self->totp_window = 1;
  self->backoff_after = 5;
  self->lock_after = 10;
  self->backoff_max = 900;
  self->address_backoff_after = 20;
  self->audit_rotate = 24 * 3600;
  return self;
}

void
signetd_config_free (SignetdConfig *self)
{
  if (self == NULL)
    return;
  g_free (self->data_dir);
  g_free (self->listen);
  g_free (self->public_url);
  g_free (self->tls_cert);
  g_free (self->tls_key);
  g_free (self);
}

gboolean
signetd_config_parse_listen (const char  *listen,
                             char       **out_host,
                             guint16     *out_port,
                             GError     **error)
{
  g_autofree char *host = NULL;
  const char *colon;
  const char *port_text;
  guint64 port;

  if (listen == NULL || *listen == '\0' || strlen (listen) > 255)
    goto invalid;

  if (listen[0] == '[')
    {
      const char *close = strchr (listen, ']');

      if (close == NULL || close[1] != ':')
        goto invalid;
      host = g_strndup (listen + 1, (gsize) (close - listen - 1));
      port_text = close + 2;
      if (!g_hostname_is_ip_address (host) || strchr (host, ':') == NULL)
        goto invalid;
    }
  else
    {
      colon = strrchr (listen, ':');
      if (colon == NULL || colon == listen)
        goto invalid;
      host = g_strndup (listen, (gsize) (colon - listen));
      port_text = colon + 1;
      if (strchr (host, ':') != NULL)
        goto invalid;
    }

  if (!g_ascii_string_to_unsigned (port_text, 10, 0, 65535, &port, NULL))
    goto invalid;

  if (out_host != NULL)
    *out_host = g_steal_pointer (&host);
  if (out_port != NULL)
    *out_port = (guint16) port;
  return TRUE;

invalid:
  g_set_error (error, SIGNETD_CONFIG_ERROR, SIGNETD_CONFIG_ERROR_INVALID,
               "listen address must be ADDR:PORT (IPv6 as [ADDR]:PORT)");
  return FALSE;
}

gboolean
signetd_config_set_listen (SignetdConfig  *self,
                           const char     *listen,
                           GError        **error)
{
  if (!signetd_config_parse_listen (listen, NULL, NULL, error))
    return FALSE;
  g_free (self->listen);
  self->listen = g_strdup (listen);
  return TRUE;
}

static char *
resolve_path (const char *data_dir,
              const char *path)
{
  if (g_path_is_absolute (path))
    return g_strdup (path);
  return g_build_filename (data_dir, path, NULL);
}

SignetdConfig *
signetd_config_load (const char  *data_dir,
                     GError     **error)
{
  g_autoptr(SignetdConfig) self = signetd_config_new_default (data_dir);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = g_build_filename (data_dir, SIGNETD_CONFIG_FILE, NULL);
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) groups = NULL;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, SIGNETD_CONFIG_ERROR,
                   g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE)
                   ? SIGNETD_CONFIG_ERROR_INVALID : SIGNETD_CONFIG_ERROR_IO,
                   "%s: %s", path, local_error->message);
      return NULL;
    }

  groups = g_key_file_get_groups (kf, NULL);
  for (gsize g = 0; groups[g] != NULL; g++)
    {
      g_auto(GStrv) keys = g_key_file_get_keys (kf, groups[g], NULL, NULL);

      for (gsize k = 0; keys != NULL && keys[k] != NULL; k++)
        {
          const KeySpec *spec = find_spec (groups[g], keys[k]);
          g_autofree char *text = NULL;

          if (spec == NULL)
            {
              g_set_error (error, SIGNETD_CONFIG_ERROR, SIGNETD_CONFIG_ERROR_INVALID,
                           "%s: unknown key “%s” in group [%s]", path, keys[k], groups[g]);
              return NULL;
            }
          text = g_key_file_get_string (kf, groups[g], keys[k], NULL);
          if (text == NULL || *text == '\0')
            {
              g_set_error (error, SIGNETD_CONFIG_ERROR, SIGNETD_CONFIG_ERROR_INVALID,
                           "%s: [%s] %s is empty", path, groups[g], keys[k]);
              return NULL;
            }
          if (spec->type == KEY_INT)
            {
              gint64 v;

              if (!g_ascii_string_to_signed (text, 10, spec->min, spec->max, &v, NULL))
                {
                  g_set_error (error, SIGNETD_CONFIG_ERROR, SIGNETD_CONFIG_ERROR_INVALID,
                               "%s: [%s] %s must be an integer in %" G_GINT64_FORMAT
                               "…%" G_GINT64_FORMAT, path, groups[g], keys[k],
                               spec->min, spec->max);
                  return NULL;
                }
              if (g_str_equal (keys[k], "lifetime"))
                self->token_lifetime = v;
              else if (g_str_equal (keys[k], "session_max"))
                self->session_max = v;
              else if (g_str_equal (keys[k], "window"))
                self->totp_window = (guint) v;
              else if (g_str_equal (keys[k], "backoff_after"))
                self->backoff_after = (guint) v;
              else if (g_str_equal (keys[k], "lock_after"))
                self->lock_after = (guint) v;
              else if (g_str_equal (keys[k], "backoff_max"))
                self->backoff_max = v;
              else if (g_str_equal (keys[k], "address_backoff_after"))
                self->address_backoff_after = (guint) v;
              else if (g_str_equal (keys[k], "rotate"))
                self->audit_rotate = v;
            }
          else if (g_str_equal (keys[k], "listen"))
            {
              if (!signetd_config_set_listen (self, text, error))
                return NULL;
            }
          else if (g_str_equal (keys[k], "public_url"))
            {
              if (!g_str_has_prefix (text, "https://") || strlen (text) > 255)
                {
                  g_set_error (error, SIGNETD_CONFIG_ERROR, SIGNETD_CONFIG_ERROR_INVALID,
                               "%s: [server] public_url must be an https:// URL", path);
                  return NULL;
                }
              g_free (self->public_url);
              self->public_url = g_steal_pointer (&text);
            }
          else if (g_str_equal (keys[k], "tls_cert"))
            {
              g_free (self->tls_cert);
              self->tls_cert = resolve_path (data_dir, text);
            }
          else if (g_str_equal (keys[k], "tls_key"))
            {
              g_free (self->tls_key);
              self->tls_key = resolve_path (data_dir, text);
            }
        }
    }

  if (self->lock_after < self->backoff_after)
    {
      g_set_error (error, SIGNETD_CONFIG_ERROR, SIGNETD_CONFIG_ERROR_INVALID,
                   "%s: [lockout] lock_after must not be below backoff_after", path);
      return NULL;
    }

  return g_steal_pointer (&self);
}

/* Files inside the data dir are written relative to it, so that a
 * restored backup works wherever it is put. */
static const char *
relative_path (const char *data_dir,
               const char *path)
{
  gsize n = strlen (data_dir);

  if (strncmp (path, data_dir, n) == 0 && path[n] == G_DIR_SEPARATOR && path[n + 1] != '\0')
    return path + n + 1;
  return path;
}

gboolean
signetd_config_save (SignetdConfig  *self,
                     GError        **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = g_build_filename (self->data_dir, SIGNETD_CONFIG_FILE, NULL);
  g_autofree char *text = NULL;
  gsize len = 0;
  int fd;

  g_key_file_set_comment (kf, NULL, NULL,
                          " signetd configuration; see docs/operations.md", NULL);
  g_key_file_set_string (kf, "server", "listen", self->listen);
  if (self->public_url != NULL)
    g_key_file_set_string (kf, "server", "public_url", self->public_url);
  g_key_file_set_string (kf, "server", "tls_cert", relative_path (self->data_dir, self->tls_cert));
  g_key_file_set_string (kf, "server", "tls_key", relative_path (self->data_dir, self->tls_key));
  g_key_file_set_int64 (kf, "tokens", "lifetime", self->token_lifetime);
  g_key_file_set_int64 (kf, "tokens", "session_max", self->session_max);
  g_key_file_set_integer (kf, "totp", "window", (gint) self->totp_window);
  g_key_file_set_integer (kf, "lockout", "backoff_after", (gint) self->backoff_after);
  g_key_file_set_integer (kf, "lockout", "lock_after", (gint) self->lock_after);
  g_key_file_set_int64 (kf, "lockout", "backoff_max", self->backoff_max);
  g_key_file_set_integer (kf, "lockout", "address_backoff_after",
                          (gint) self->address_backoff_after);
  g_key_file_set_int64 (kf, "audit", "rotate", self->audit_rotate);
  text = g_key_file_to_data (kf, &len, NULL);

  fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, SIGNETD_CONFIG_ERROR, SIGNETD_CONFIG_ERROR_IO,
                   "%s: %s", path, g_strerror (saved));
      return FALSE;
    }
  if (write (fd, text, len) != (gssize) len || fsync (fd) != 0)
    {
      int saved = errno;

      close (fd);
      g_set_error (error, SIGNETD_CONFIG_ERROR, SIGNETD_CONFIG_ERROR_IO,
                   "%s: %s", path, g_strerror (saved));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

char *
signetd_config_dup_issuer (SignetdConfig *self)
{
  if (self->public_url != NULL)
    return g_strdup (self->public_url);
  return g_strconcat ("https://", self->listen, NULL);
}
