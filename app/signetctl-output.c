/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "signetctl-error.h"
#include "signetctl-output.h"

static gboolean json_mode;
static gboolean quiet_mode;
static gboolean progress_shown;

void
signetctl_output_init (gboolean json,
                       gboolean quiet)
{
  json_mode = json;
  quiet_mode = quiet;
}

gboolean
signetctl_output_is_json (void)
{
  return json_mode;
}

gboolean
signetctl_output_is_quiet (void)
{
  return quiet_mode;
}

void
signetctl_print (const char *format,
                 ...)
{
  va_list ap;

  if (json_mode)
    return;
  va_start (ap, format);
  vfprintf (stdout, format, ap);
  va_end (ap);
  fflush (stdout);
}

void
signetctl_note (const char *format,
                ...)
{
  va_list ap;

  if (quiet_mode)
    return;
  va_start (ap, format);
  vfprintf (stderr, format, ap);
  va_end (ap);
}

void
signetctl_output_progress (const char *device,
                           const char *step,
                           double      fraction)
{
  /* On a terminal only: a log file gets no \r noise. */
  if (quiet_mode || !isatty (STDERR_FILENO))
    return;
  fprintf (stderr, "\r\033[K%s: %s %3d%%", device, step, (int) (fraction * 100 + 0.5));
  progress_shown = TRUE;
}

void
signetctl_output_progress_clear (void)
{
  if (progress_shown)
    fprintf (stderr, "\r\033[K");
  progress_shown = FALSE;
}

void
signetctl_output_json (JsonNode *object)
{
  g_autoptr(JsonNode) node = object;
  g_autofree char *text = NULL;

  if (!json_mode)
    return;
  text = json_to_string (node, FALSE);
  fprintf (stdout, "%s\n", text);
  fflush (stdout);
}

JsonNode *
signetctl_variant_to_json (GVariant *value)
{
  return json_gvariant_serialize (value);
}

int
signetctl_output_error (const GError *error)
{
  int status = signetctl_error_exit_code (error);

  if (json_mode)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "error");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "domain");
      json_builder_add_string_value (b, g_quark_to_string (error->domain));
      json_builder_set_member_name (b, "code");
      json_builder_add_int_value (b, error->code);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, signetctl_error_name (error));
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, error->message);
      json_builder_set_member_name (b, "exit");
      json_builder_add_int_value (b, status);
      json_builder_end_object (b);
      json_builder_end_object (b);
      signetctl_output_json (json_builder_get_root (b));
    }
  else
    fprintf (stderr, "signetctl: %s\n", error->message);
  return status;
}
