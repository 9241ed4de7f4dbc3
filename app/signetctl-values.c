/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "signetctl-error.h"
#include "signetctl-values.h"

gboolean
signetctl_values_split (const char  *arg,
                        char       **out_key,
                        char       **out_value,
                        GError     **error)
{
  const char *eq = strchr (arg, '=');

  if (eq == NULL || eq == arg)
    {
      g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_USAGE,
                   _("“%s” is not KEY=VALUE (for example --set wifi.channel=6)"), arg);
      return FALSE;
    }
  *out_key = g_strndup (arg, eq - arg);
  *out_value = g_strdup (eq + 1);
  return TRUE;
}

static const SignetServiceProfileField *
find_field (const SignetServiceProfile *profile,
            const char                 *key)
{
  for (guint i = 0; profile->fields != NULL && i < profile->fields->len; i++)
    {
      const SignetServiceProfileField *f = g_ptr_array_index (profile->fields, i);

      if (g_strcmp0 (f->key, key) == 0)
        return f;
    }
  return NULL;
}

static char *
field_keys (const SignetServiceProfile *profile)
{
  g_autoptr(GString) s = g_string_new (NULL);

  for (guint i = 0; profile->fields != NULL && i < profile->fields->len; i++)
    {
      const SignetServiceProfileField *f = g_ptr_array_index (profile->fields, i);

      if (f->secret)
        continue;
      if (s->len > 0)
        g_string_append (s, ", ");
      g_string_append (s, f->key);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static gboolean
parse_bool (const char *text,
            gboolean   *out)
{
  static const char *const yes[] = { "true", "yes", "on", "1", NULL };
  static const char *const no[] = { "false", "no", "off", "0", NULL };

  for (guint i = 0; yes[i] != NULL; i++)
    if (g_ascii_strcasecmp (text, yes[i]) == 0)
      return *out = TRUE, TRUE;
  for (guint i = 0; no[i] != NULL; i++)
    if (g_ascii_strcasecmp (text, no[i]) == 0)
      return *out = FALSE, TRUE;
  return FALSE;
}

static GVariant *
type_one (const SignetServiceProfile      *profile,
          const SignetServiceProfileField *f,
          const char                      *text,
          GError                         **error)
{
  if (g_strcmp0 (f->type, "int") == 0)
    {
      gint64 v;

      if (!g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, &v, NULL))
        {
          g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_USAGE,
                       _("%s takes a whole number, not “%s”"), f->key, text);
          return NULL;
        }
      return g_variant_new_int64 (v);
    }
  if (g_strcmp0 (f->type, "bool") == 0)
    {
      gboolean v;

      if (!parse_bool (text, &v))
        {
          g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_USAGE,
                       _("%s takes true or false, not “%s”"), f->key, text);
          return NULL;
        }
      return g_variant_new_boolean (v);
    }
  if (g_strcmp0 (f->type, "enum") == 0)
    {
      g_autofree char *choices = NULL;

      if (f->values != NULL && g_strv_contains ((const char * const *) f->values, text))
        return g_variant_new_string (text);
      choices = f->values != NULL ? g_strjoinv (", ", f->values) : g_strdup ("");
      g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_USAGE,
                   _("%s is one of %s, not “%s”"), f->key, choices, text);
      return NULL;
    }
  if (g_strcmp0 (f->type, "string") == 0)
    {
      if (!g_utf8_validate (text, -1, NULL))
        {
          g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_USAGE,
                       _("The value of %s is not valid UTF-8"), f->key);
          return NULL;
        }
      return g_variant_new_string (text);
    }
  g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_FAILED,
               _("Profile %s: field %s has a type this signetctl does not know (%s)"),
               profile->id, f->key, f->type);
  return NULL;
}

GVariant *
signetctl_values_type (const SignetServiceProfile *profile,
                       GVariant                   *settings,
                       GError                    **error)
{
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  GVariantIter iter;
  const char *key;
  const char *text;

  g_return_val_if_fail (profile != NULL, NULL);
  g_return_val_if_fail (g_variant_is_of_type (settings, G_VARIANT_TYPE ("a{ss}")), NULL);

  g_variant_iter_init (&iter, settings);
  while (g_variant_iter_next (&iter, "{&s&s}", &key, &text))
    {
      const SignetServiceProfileField *f = find_field (profile, key);
      GVariant *v;

      if (f == NULL)
        {
          g_autofree char *keys = field_keys (profile);

          g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_USAGE,
                       _("Profile %s has no field “%s” (it has: %s)"), profile->id, key, keys);
          return NULL;
        }
      if (f->secret)
        {
          g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_USAGE,
                       _("%s is a secret: the service seals it from its vault, it is never "
                         "given on the command line"), key);
          return NULL;
        }
      v = type_one (profile, f, text, error);
      if (v == NULL)
        return NULL;
      g_variant_builder_add (&b, "{sv}", key, v);
    }
  return g_variant_ref_sink (g_variant_builder_end (&b));
}
