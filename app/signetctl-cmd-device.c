/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetctl-cmd-device.c: the commands about devices: devices, info,
 * attest, profiles, apply, commit, rollback. They go through the session
 * agent, which holds the device sessions (a pending change belongs to the
 * device session that made it); `devices` without an agent and
 * `devices --watch` ask udev here, and `attest` and `info` without an
 * agent attest here (signetctl-direct.h: no sign-in needed).
 */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>

#include "signet-secret.h"
#include "signetctl-cli.h"
#include "signetctl-devices.h"
#include "signetctl-direct.h"
#include "signetctl-error.h"
#include "signetctl-output.h"
#include "signetctl-prompt.h"
#include "signetctl-values.h"

static const char *
lookup_str (GVariant   *dict,
            const char *key)
{
  const char *s = NULL;

  return g_variant_lookup (dict, key, "&s", &s) ? s : NULL;
}

static guint64
lookup_u64 (GVariant   *dict,
            const char *key)
{
  guint64 v = 0;

  return g_variant_lookup (dict, key, "t", &v) ? v : 0;
}

static void
print_json_reply (GVariant *reply)
{
  g_autoptr(GVariant) value = g_variant_get_child_value (reply, 0);

  signetctl_output_json (signetctl_variant_to_json (value));
}

/* The one DEVICE argument of argv. NULL after printing a usage error. */
static const char *
device_arg (const SignetctlCommand *command,
            int                     argc,
            char                  **argv,
            int                    *rc)
{
  if (argc != 2)
    {
      *rc = signetctl_cli_usage (command, argc < 2 ? _("Which device? Give DEVICE "
                                                       "(serial:/dev/ttyACM0 or a serial)")
                                                   : _("Give one DEVICE only"));
      return NULL;
    }
  return argv[1];
}

/* ---- devices -------------------------------------------------------------- */

static void
print_device (GVariant *dev,
              char      mark)
{
  gboolean open = FALSE;
  gboolean attested = FALSE;
  const char *product = lookup_str (dev, "product");
  const char *model = lookup_str (dev, "model");

  g_variant_lookup (dev, "open", "b", &open);
  g_variant_lookup (dev, "attested", "b", &attested);
  signetctl_print ("%s%-28s %-16s %-14s %s\n", mark == ' ' ? "" : (mark == '+' ? "+ " : "- "),
                   lookup_str (dev, "device") ?: "?",
                   lookup_str (dev, "serial") ?: lookup_str (dev, "usb_serial") ?: "-",
                   model ?: product ?: "-",
                   attested ? _("open, attested") : open ? _("open") : "");
}

static void
on_device_change (gboolean  added,
                  GVariant *device,
                  gpointer  user_data)
{
  if (signetctl_output_is_json ())
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "event");
      json_builder_add_string_value (b, added ? "added" : "removed");
      json_builder_set_member_name (b, "device");
      json_builder_add_value (b, signetctl_variant_to_json (device));
      json_builder_end_object (b);
      signetctl_output_json (json_builder_get_root (b));
    }
  else
    print_device (device, added ? '+' : '-');
}

static gboolean
on_interrupt (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
signetctl_cmd_devices (SignetctlCli  *cli,
                       int            argc,
                       char         **argv)
{
  gboolean watch = FALSE;
  const GOptionEntry entries[] = {
    { "watch", 'w', 0, G_OPTION_ARG_NONE, &watch,
      N_("Go on: print devices as they come and go, until Ctrl+C"), NULL },
    { NULL }
  };
  const SignetctlCommand *command = signetctl_cli_command ("devices");
  g_autoptr(SignetctlAgent1) agent = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) list = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetctlDevices) usb = NULL;
  GVariantIter iter;
  GVariant *dev;
  int rc;

  rc = signetctl_cli_parse (cli, command, entries, &argc, &argv);
  if (rc >= 0)
    return rc;
  if (argc > 1)
    return signetctl_cli_usage (command, _("devices takes no arguments"));

  if (watch)
    {
      g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);

      /* Every device present is "added" first, then the changes; the
       * note comes once the monitor listens (a test waits for it). */
      usb = signetctl_devices_new (on_device_change, NULL);
      signetctl_note (_("Watching for Signet devices (Ctrl+C to stop)…\n"));
      g_unix_signal_add (SIGINT, on_interrupt, loop);
      g_unix_signal_add (SIGTERM, on_interrupt, loop);
      g_main_loop_run (loop);
      return SIGNETCTL_EXIT_OK;
    }

  agent = signetctl_cli_agent (cli, NULL);
  if (agent != NULL)
    reply = signetctl_cli_call (cli, agent, "ListDevices", NULL, &error);
  if (reply != NULL)
    list = g_variant_get_child_value (reply, 0);
  else
    {
      if (error != NULL)
        return signetctl_cli_fail (error);
      usb = signetctl_devices_new (NULL, NULL);
      list = signetctl_devices_list (usb);
    }
  if (g_variant_n_children (list) == 0)
    signetctl_print (_("No Signet device found.\n"));
  g_variant_iter_init (&iter, list);
  while ((dev = g_variant_iter_next_value (&iter)) != NULL)
    {
      print_device (dev, ' ');
      g_variant_unref (dev);
    }
  {
    g_autoptr(JsonBuilder) b = json_builder_new ();

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "devices");
    json_builder_add_value (b, signetctl_variant_to_json (list));
    json_builder_end_object (b);
    signetctl_output_json (json_builder_get_root (b));
  }
  return SIGNETCTL_EXIT_OK;
}

/* ---- info, attest ----------------------------------------------------------- */

static void
print_identity (GVariant *info)
{
  const char *cert = lookup_str (info, "cert_sha256");

  signetctl_print (_("Device %s on %s\n"), lookup_str (info, "serial") ?: "?",
                   lookup_str (info, "port") ?: "?");
  signetctl_print (_("  model %s, firmware %s\n"), lookup_str (info, "model") ?: "?",
                   lookup_str (info, "firmware") ?: "?");
  signetctl_print (_("  configuration version %llu, revocation list version %llu\n"),
                   (unsigned long long) lookup_u64 (info, "config_version"),
                   (unsigned long long) lookup_u64 (info, "revocation_version"));
  if (cert != NULL)
    signetctl_print (_("  certificate SHA-256 %s\n"), cert);
}

int
signetctl_cmd_info (SignetctlCli  *cli,
                    int            argc,
                    char         **argv)
{
  const SignetctlCommand *command = signetctl_cli_command ("info");
  g_autoptr(SignetctlAgent1) agent = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GVariant) config = NULL;
  g_autoptr(GError) error = NULL;
  const char *device;
  int rc;

  rc = signetctl_cli_parse (cli, command, NULL, &argc, &argv);
  if (rc >= 0)
    return rc;
  device = device_arg (command, argc, argv, &rc);
  if (device == NULL)
    return rc;
  agent = signetctl_cli_agent (cli, &error);
  if (agent == NULL)
    {
      /* Nobody signed in: HELLO and ATTEST here; READ needs a token. */
      if (!g_error_matches (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_NOT_SIGNED_IN))
        return signetctl_cli_fail (error);
      g_clear_error (&error);
      info = signetctl_direct_attest (&cli->config, device, &error);
      if (info == NULL)
        return signetctl_cli_fail (error);
      print_identity (info);
      signetctl_print (_("  genuine: its certificate chains to a manufacturer CA the service "
                         "trusts, it is not revoked, and it answered our challenge\n"));
      signetctl_print (_("  configuration: not read (reading it needs sign-in: "
                         "signetctl login)\n"));
      signetctl_output_json (signetctl_variant_to_json (info));
      return SIGNETCTL_EXIT_OK;
    }
  reply = signetctl_cli_call (cli, agent, "Info", g_variant_new ("(s)", device), &error);
  if (reply == NULL)
    return signetctl_cli_fail (error);
  info = g_variant_get_child_value (reply, 0);
  print_identity (info);
  config = g_variant_lookup_value (info, "config", G_VARIANT_TYPE_VARDICT);
  if (config != NULL)
    {
      GVariantIter iter;
      const char *key;
      GVariant *value;

      signetctl_print (_("  configuration (secrets are never read back):\n"));
      g_variant_iter_init (&iter, config);
      while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
        {
          g_autofree char *text = g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)
                                  ? g_strdup (g_variant_get_string (value, NULL))
                                  : g_variant_print (value, FALSE);

          signetctl_print ("    %s = %s\n", key, text);
          g_variant_unref (value);
        }
    }
  print_json_reply (reply);
  return SIGNETCTL_EXIT_OK;
}

int
signetctl_cmd_attest (SignetctlCli  *cli,
                      int            argc,
                      char         **argv)
{
  const SignetctlCommand *command = signetctl_cli_command ("attest");
  g_autoptr(SignetctlAgent1) agent = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GError) error = NULL;
  const char *device;
  int rc;

  rc = signetctl_cli_parse (cli, command, NULL, &argc, &argv);
  if (rc >= 0)
    return rc;
  device = device_arg (command, argc, argv, &rc);
  if (device == NULL)
    return rc;
  agent = signetctl_cli_agent (cli, &error);
  if (agent == NULL)
    {
      /* Nobody signed in: attesting needs no sign-in, do it here. */
      if (!g_error_matches (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_NOT_SIGNED_IN))
        return signetctl_cli_fail (error);
      g_clear_error (&error);
      info = signetctl_direct_attest (&cli->config, device, &error);
      if (info == NULL)
        return signetctl_cli_fail (error);
    }
  else
    {
      reply = signetctl_cli_call (cli, agent, "Attest", g_variant_new ("(s)", device), &error);
      if (reply == NULL)
        return signetctl_cli_fail (error);
      info = g_variant_get_child_value (reply, 0);
    }
  print_identity (info);
  signetctl_print (_("  genuine: its certificate chains to a manufacturer CA the service "
                     "trusts, it is not revoked, and it answered our challenge\n"));
  signetctl_output_json (signetctl_variant_to_json (info));
  return SIGNETCTL_EXIT_OK;
}

/* ---- profiles --------------------------------------------------------------- */

int
signetctl_cmd_profiles (SignetctlCli  *cli,
                        int            argc,
                        char         **argv)
{
  g_autofree char *model = NULL;
  const GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &model, N_("Only the profiles of MODEL"),
      N_("MODEL") },
    { NULL }
  };
  const SignetctlCommand *command = signetctl_cli_command ("profiles");
  g_autoptr(SignetctlAgent1) agent = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) list = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  GVariant *p;
  int rc;

  rc = signetctl_cli_parse (cli, command, entries, &argc, &argv);
  if (rc >= 0)
    return rc;
  if (argc > 1)
    return signetctl_cli_usage (command, _("profiles takes no arguments"));
  agent = signetctl_cli_agent (cli, &error);
  if (agent == NULL)
    return signetctl_cli_fail (error);
  reply = signetctl_cli_call (cli, agent, "ListProfiles",
                              g_variant_new ("(s)", model != NULL ? model : ""), &error);
  if (reply == NULL)
    return signetctl_cli_fail (error);
  list = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, list);
  while ((p = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariant) fields = g_variant_lookup_value (p, "fields", G_VARIANT_TYPE ("aa{sv}"));
      gboolean critical = FALSE;
      gint64 version = 0;
      GVariantIter fi;
      GVariant *f;

      g_variant_lookup (p, "critical", "b", &critical);
      g_variant_lookup (p, "version", "x", &version);
      signetctl_print ("%s v%" G_GINT64_FORMAT " (%s, %s%s): %s\n", lookup_str (p, "id") ?: "?",
                       version, lookup_str (p, "model") ?: "?", lookup_str (p, "class") ?: "?",
                       critical ? _(", needs a fresh code") : "",
                       lookup_str (p, "description") ?: "");
      if (fields != NULL)
        {
          g_variant_iter_init (&fi, fields);
          while ((f = g_variant_iter_next_value (&fi)) != NULL)
            {
              g_autoptr(GString) range = g_string_new (NULL);
              g_autofree const char **values = NULL;
              gboolean secret = FALSE;
              gint64 min, max;

              g_variant_lookup (f, "secret", "b", &secret);
              if (g_variant_lookup (f, "min", "x", &min))
                g_string_append_printf (range, " min %" G_GINT64_FORMAT, min);
              if (g_variant_lookup (f, "max", "x", &max))
                g_string_append_printf (range, " max %" G_GINT64_FORMAT, max);
              if (g_variant_lookup (f, "values", "^a&s", &values))
                {
                  g_autofree char *joined = g_strjoinv ("|", (char **) values);

                  g_string_append_printf (range, " %s", joined);
                }
              signetctl_print ("  %-24s %-7s%s%s\n", lookup_str (f, "key") ?: "?",
                               lookup_str (f, "type") ?: "?", range->str,
                               secret ? _(" (secret: sealed by the service)") : "");
              g_variant_unref (f);
            }
        }
      g_variant_unref (p);
    }
  {
    g_autoptr(JsonBuilder) b = json_builder_new ();

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "profiles");
    json_builder_add_value (b, signetctl_variant_to_json (list));
    json_builder_end_object (b);
    signetctl_output_json (json_builder_get_root (b));
  }
  return SIGNETCTL_EXIT_OK;
}

/* ---- apply, commit, rollback ------------------------------------------------ */

static void
print_receipt (const char *title,
               GVariant   *r)
{
  signetctl_print ("%s %s\n", title, lookup_str (r, "device") ?: "?");
  signetctl_print (_("  committed version %llu, pending version %llu\n"),
                   (unsigned long long) lookup_u64 (r, "committed_version"),
                   (unsigned long long) lookup_u64 (r, "pending_version"));
  signetctl_print (_("  running configuration digest %s\n"),
                   lookup_str (r, "config_digest") ?: "?");
  signetctl_print (_("  command digest               %s\n"),
                   lookup_str (r, "command_digest") ?: "?");
}

/* A fresh code and StepUp, when a terminal can be asked. */
static gboolean
step_up_interactively (SignetctlCli     *cli,
                       SignetctlAgent1  *agent,
                       GError          **error)
{
  g_auto(SignetSecretString) otp = NULL;
  g_autoptr(GVariant) reply = NULL;

  otp = signetctl_prompt_secret (_("This change needs a fresh code from your authenticator "
                                   "app: "), error);
  if (otp == NULL)
    return FALSE;
  reply = signetctl_cli_call (cli, agent, "StepUp", g_variant_new ("(s)", otp), error);
  return reply != NULL;
}

int
signetctl_cmd_apply (SignetctlCli  *cli,
                     int            argc,
                     char         **argv)
{
  g_autofree char *profile = NULL;
  g_auto(GStrv) sets = NULL;
  gboolean commit = FALSE;
  const GOptionEntry entries[] = {
    { "profile", 'p', 0, G_OPTION_ARG_STRING, &profile, N_("The profile to apply"), N_("ID") },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets,
      N_("A value of the profile (repeat for each)"), N_("KEY=VALUE") },
    { "commit", 0, 0, G_OPTION_ARG_NONE, &commit, N_("Commit at once after the apply"), NULL },
    { NULL }
  };
  const SignetctlCommand *command = signetctl_cli_command ("apply");
  g_autoptr(SignetctlAgent1) agent = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GVariant) settings = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{ss}"));
  const char *device;
  int rc;

  rc = signetctl_cli_parse (cli, command, entries, &argc, &argv);
  if (rc >= 0)
    return rc;
  device = device_arg (command, argc, argv, &rc);
  if (device == NULL)
    return rc;
  if (profile == NULL)
    return signetctl_cli_usage (command, _("Which profile? Give --profile ID "
                                           "(signetctl profiles lists them)"));
  for (guint i = 0; sets != NULL && sets[i] != NULL; i++)
    {
      g_autofree char *key = NULL;
      g_autofree char *value = NULL;

      if (!signetctl_values_split (sets[i], &key, &value, &error))
        return signetctl_cli_usage (command, error->message);
      if (g_hash_table_contains (seen, key))
        {
          g_autofree char *msg = g_strdup_printf (_("%s is set twice"), key);

          return signetctl_cli_usage (command, msg);
        }
      g_variant_builder_add (&b, "{ss}", key, value);
      g_hash_table_add (seen, g_steal_pointer (&key));
    }
  settings = g_variant_ref_sink (g_variant_builder_end (&b));

  agent = signetctl_cli_agent (cli, &error);
  if (agent == NULL)
    return signetctl_cli_fail (error);
  for (int attempt = 0; attempt < 2; attempt++)
    {
      g_clear_error (&error);
      reply = signetctl_cli_call (cli, agent, "Apply",
                                  g_variant_new ("(ss@a{ss}b)", device, profile, settings, commit),
                                  &error);
      if (reply != NULL || !signetctl_error_is_step_up (error) || attempt > 0 ||
          !signetctl_prompt_have_tty ())
        break;
      /* Ask for a code, step up (the agent authorizes the device again
       * with the new token), and apply once more. */
      signetctl_note ("%s\n", error->message);
      g_clear_error (&error);
      if (!step_up_interactively (cli, agent, &error))
        return signetctl_cli_fail (error);
    }
  if (reply == NULL)
    {
      rc = signetctl_cli_fail (error);
      if (signetctl_error_is_step_up (error))
        signetctl_note (_("Hint: run `signetctl step-up` with a fresh code, then apply "
                          "again.\n"));
      return rc;
    }
  result = g_variant_get_child_value (reply, 0);
  if (commit)
    {
      g_autoptr(GVariant) a = g_variant_lookup_value (result, "apply", G_VARIANT_TYPE_VARDICT);
      g_autoptr(GVariant) c = g_variant_lookup_value (result, "commit", G_VARIANT_TYPE_VARDICT);

      if (a != NULL)
        print_receipt (_("Applied to"), a);
      if (c != NULL)
        print_receipt (_("Committed on"), c);
    }
  else
    {
      print_receipt (_("Applied (pending until commit) to"), result);
      signetctl_note (_("Commit with `signetctl commit %s` (or roll back) before the device's "
                        "deadline.\n"), lookup_str (result, "device") ?: device);
    }
  print_json_reply (reply);
  return SIGNETCTL_EXIT_OK;
}

static int
simple_op (SignetctlCli *cli,
           const char   *name,
           const char   *method,
           const char   *title,
           int           argc,
           char        **argv)
{
  const SignetctlCommand *command = signetctl_cli_command (name);
  g_autoptr(SignetctlAgent1) agent = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *device;
  int rc;

  rc = signetctl_cli_parse (cli, command, NULL, &argc, &argv);
  if (rc >= 0)
    return rc;
  device = device_arg (command, argc, argv, &rc);
  if (device == NULL)
    return rc;
  agent = signetctl_cli_agent (cli, &error);
  if (agent == NULL)
    return signetctl_cli_fail (error);
  reply = signetctl_cli_call (cli, agent, method, g_variant_new ("(s)", device), &error);
  if (reply == NULL)
    return signetctl_cli_fail (error);
  result = g_variant_get_child_value (reply, 0);
  print_receipt (title, result);
  print_json_reply (reply);
  return SIGNETCTL_EXIT_OK;
}

int
signetctl_cmd_commit (SignetctlCli  *cli,
                      int            argc,
                      char         **argv)
{
  return simple_op (cli, "commit", "Commit", _("Committed on"), argc, argv);
}

int
signetctl_cmd_rollback (SignetctlCli  *cli,
                        int            argc,
                        char         **argv)
{
  return simple_op (cli, "rollback", "Rollback", _("Rolled back on"), argc, argv);
}
