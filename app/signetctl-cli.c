/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "signetctl-cli.h"
#include "signetctl-client.h"
#include "signetctl-error.h"
#include "signetctl-output.h"

#define EXIT_HELP N_( \
  "Exit status:\n" \
  "  0  done\n" \
  "  1  unexpected failure\n" \
  "  2  usage: bad options, bad --set, a key, value or profile the profile does not allow\n" \
  "  3  not signed in, wrong password or code, session expired, account locked\n" \
  "  4  a fresh code is needed (signetctl step-up)\n" \
  "  5  refused by the device or the service (scope, wrong device, replay, version)\n" \
  "  6  the device is not trusted (attestation failed, revoked, bad receipt)\n" \
  "  7  the device or the service cannot be reached (log upload: still queued)\n" \
  "  8  the log does not verify (tampered, truncated, malformed)\n" \
  "  9  the device failed the change (health check, storage)\n" \
  " 10  log verify without a key: chain intact, seals not checked")

static const SignetctlCommand commands[] = {
  { "login", N_("[--user NAME] [--otp CODE] [--password-stdin]"),
    N_("Sign in to the token service and start the session agent"),
    N_("The password is asked on the terminal (or read from standard input with\n"
       "--password-stdin), the code from your authenticator app too (or --otp).\n"
       "The session, and its proof-of-possession key, live in memory in the\n"
       "session agent until logout, expiry or --idle-timeout.\n\n"
       "Examples:\n"
       "  signetctl login --service https://signet.example:8443 --ca service-ca.pem\n"
       "  pass show signet | signetctl login --user alice --password-stdin --otp 123456"),
    signetctl_cmd_login },
  { "logout", "", N_("End the session: seal and upload its log, sign out, stop the agent"),
    NULL, signetctl_cmd_logout },
  { "status", "", N_("Show who is signed in and until when (exit 3 if nobody)"), NULL,
    signetctl_cmd_status },
  { "step-up", N_("[--otp CODE]"),
    N_("Give a fresh code, for changes that need a recent sign-in"), NULL,
    signetctl_cmd_step_up },
  { "devices", N_("[--watch]"),
    N_("List Signet devices on USB and the devices this session has open"),
    N_("With --watch, print a line for each device plugged in (+) or out (-)\n"
       "until interrupted."),
    signetctl_cmd_devices },
  { "info", N_("DEVICE"),
    N_("Identify a device and read its configuration (secrets are never read back)"),
    N_("DEVICE is serial:/dev/ttyACM0, or the serial number of a device this\n"
       "session has opened (or, without sign-in, the USB serial of one plugged in).\n\n"
       "Signed in, the session agent says HELLO, attests the device, authorizes\n"
       "and reads its configuration. Without sign-in this needs only --service\n"
       "and --ca (for the service's public trust document): the device is attested\n"
       "here and its configuration is not read (reading needs a signed-in token).\n\n"
       "Example:\n"
       "  signetctl info serial:/dev/ttyACM0"),
    signetctl_cmd_info },
  { "attest", N_("DEVICE"),
    N_("Check that a device is genuine and not revoked"),
    N_("ATTEST with a fresh challenge, verified against the manufacturer CAs and\n"
       "the revocation list of the service's trust document: exit 0 if the device\n"
       "is genuine, 6 if not. No sign-in is needed: without a session agent it\n"
       "runs here (--service and --ca give the trust document; nothing is\n"
       "recorded in a session log); signed in, through the agent.\n\n"
       "Example:\n"
       "  signetctl attest serial:/dev/ttyACM0 --service https://signet.example:8443 \\\n"
       "      --ca service-ca.pem"),
    signetctl_cmd_attest },
  { "profiles", N_("[--model MODEL]"), N_("List the profiles the service offers"), NULL,
    signetctl_cmd_profiles },
  { "apply", N_("DEVICE --profile ID [--set KEY=VALUE]... [--commit]"),
    N_("Apply a profile to a device (pending until commit)"),
    N_("Values are typed by the profile (int, bool, string, enum) and checked\n"
       "before anything is sent. Secret fields are sealed by the service from its\n"
       "vault: they are never given here. Without --commit the change is pending:\n"
       "commit it (or roll it back) with the same session before the device's\n"
       "deadline, or the device rolls it back by itself.\n\n"
       "Examples:\n"
       "  signetctl apply serial:/dev/ttyACM0 --profile acme-wifi \\\n"
       "      --set wifi.ssid=site-a --set wifi.channel=6 --set wifi.band=5g\n"
       "  signetctl commit GW1-7001"),
    signetctl_cmd_apply },
  { "commit", N_("DEVICE"), N_("Make the pending change of a device its configuration"), NULL,
    signetctl_cmd_commit },
  { "rollback", N_("DEVICE"), N_("Drop the pending change of a device"), NULL,
    signetctl_cmd_rollback },
  { "log verify", N_("FILE [--key-file KEYFILE]"),
    N_("Verify an event log: its chain, and with the key its seals"),
    N_("Without the session's key (K_0, which the service holds) only the\n"
       "structure and the hash chain are checked, and the exit status is 10 if\n"
       "they are intact. KEYFILE holds the 32-byte key, raw or as hex."),
    signetctl_cmd_log_verify },
  { "log export", N_("FILE --format json|csv [--output OUT]"),
    N_("Export an event log as JSON or CSV (it is not verified: verify first)"), NULL,
    signetctl_cmd_log_export },
  { "log upload", "", N_("Upload the queued event logs now"), NULL, signetctl_cmd_log_upload },
  { "agent", "", NULL, NULL, signetctl_cmd_agent },
};

const SignetctlCommand *
signetctl_cli_command (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_strcmp0 (commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

char *signetctl_cli_main_help (void);

/* The help of `signetctl --help`. */
char *
signetctl_cli_main_help (void)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "%s\n  signetctl [--json] [--quiet] COMMAND [OPTION…]\n\n%s\n\n",
                          _("Usage:"),
                          _("The command-line face of Signet: sign in, then change devices "
                            "with signed commands, every step in a tamper-evident log."));
  g_string_append_printf (s, "%s\n", _("Commands:"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (commands[i].summary != NULL)
      g_string_append_printf (s, "  %-12s %s\n", commands[i].name, _(commands[i].summary));
  g_string_append_printf (s, "\n%s\n", _("Global options (any command):"));
  g_string_append (s, _("  --service URL     the token service (env SIGNET_SERVICE_URL)\n"
                        "  --ca FILE         its CA certificate, PEM (env SIGNET_SERVICE_CA)\n"
                        "  --pin PIN         its key pin, sha256//BASE64 (env SIGNET_SERVICE_PIN)\n"
                        "  --state-dir DIR   logs and upload queue (env SIGNET_STATE_DIR)\n"
                        "  --socket PATH     the session agent's socket (env SIGNETCTL_SOCKET)\n"
                        "  --json            print one JSON object on stdout, errors too\n"
                        "  --quiet           no notes or progress on stderr\n"
                        "  --version         print the version\n"));
  g_string_append_printf (s, "\n%s\n\n%s\n\n%s\n", _(EXIT_HELP),
                          _("Defaults come from $XDG_CONFIG_HOME/signet/signetctl.conf "
                            "([service] url=, ca=, pin=)."),
                          _("`signetctl COMMAND --help` says more about each command."));
  return g_string_free (s, FALSE);
}

int
signetctl_cli_usage (const SignetctlCommand *command,
                     const char             *message)
{
  g_autoptr(GError) error = g_error_new (SIGNETCTL_ERROR, SIGNETCTL_ERROR_USAGE, "%s%s%s%s",
                                         message,
                                         command != NULL ? " (signetctl " : "",
                                         command != NULL ? command->name : "",
                                         command != NULL ? " --help)" : "");

  return signetctl_output_error (error);
}

int
signetctl_cli_fail (const GError *error)
{
  return signetctl_output_error (error);
}

int
signetctl_cli_parse (SignetctlCli            *cli,
                     const SignetctlCommand  *command,
                     const GOptionEntry      *entries,
                     int                     *argc,
                     char                  ***argv)
{
  g_autoptr(GOptionContext) octx = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *param = NULL;
  g_autofree char *description = NULL;
  const GOptionEntry global[] = {
    { "service", 0, 0, G_OPTION_ARG_STRING, &cli->config.service_url,
      N_("The token service, https://HOST[:PORT]"), N_("URL") },
    { "ca", 0, 0, G_OPTION_ARG_FILENAME, &cli->config.ca_file,
      N_("The service's CA certificate (PEM)"), N_("FILE") },
    { "pin", 0, 0, G_OPTION_ARG_STRING, &cli->config.pin,
      N_("The service key's pin (sha256//BASE64)"), N_("PIN") },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &cli->config.state_dir,
      N_("Where logs and the upload queue live"), N_("DIR") },
    { "socket", 0, 0, G_OPTION_ARG_FILENAME, &cli->config.socket_path,
      N_("The session agent's socket"), N_("PATH") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &cli->json,
      N_("Print one JSON object on stdout (errors too)"), NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &cli->quiet,
      N_("No notes or progress on stderr"), NULL },
    { NULL }
  };

  param = g_strdup_printf ("%s %s", command->name, _(command->parameters));
  octx = g_option_context_new (param);
  g_option_context_set_translation_domain (octx, GETTEXT_PACKAGE);
  if (command->summary != NULL)
    g_option_context_set_summary (octx, _(command->summary));
  description = g_strdup_printf ("%s%s%s", command->description != NULL ?
                                 _(command->description) : "",
                                 command->description != NULL ? "\n\n" : "", _(EXIT_HELP));
  g_option_context_set_description (octx, description);
  if (entries != NULL)
    g_option_context_add_main_entries (octx, entries, GETTEXT_PACKAGE);
  /* The hidden agent command takes the same options; everyone else sees
   * them in the command's own help. */
  g_option_context_add_main_entries (octx, global, GETTEXT_PACKAGE);
  if (!g_option_context_parse (octx, argc, argv, &error))
    {
      signetctl_output_init (cli->json, cli->quiet);
      return signetctl_cli_usage (command, error->message);
    }
  signetctl_output_init (cli->json, cli->quiet);
  if (!signetctl_config_resolve (&cli->config, &error))
    return signetctl_cli_fail (error);
  return -1;
}

SignetctlAgent1 *
signetctl_cli_agent (SignetctlCli  *cli,
                     GError       **error)
{
  return signetctl_client_connect (cli->config.socket_path, error);
}

typedef struct {
  GMainLoop *loop;
  GVariant *reply;
  GError *error;
} CallData;

static void
call_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  CallData *data = user_data;

  data->reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &data->error);
  g_main_loop_quit (data->loop);
}

static void
on_progress (SignetctlAgent1 *agent,
             const char      *device,
             const char      *step,
             double           fraction,
             CallData        *data)
{
  signetctl_output_progress (device, step, fraction);
}

GVariant *
signetctl_cli_call (SignetctlCli     *cli,
                    SignetctlAgent1  *agent,
                    const char       *method,
                    GVariant         *parameters,
                    GError          **error)
{
  CallData data = { 0 };
  gulong id;

  data.loop = g_main_loop_new (NULL, FALSE);
  id = g_signal_connect (agent, "progress", G_CALLBACK (on_progress), &data);
  g_dbus_proxy_call (G_DBUS_PROXY (agent), method, parameters, G_DBUS_CALL_FLAGS_NONE, -1,
                     NULL, call_cb, &data);
  g_main_loop_run (data.loop);
  g_signal_handler_disconnect (agent, id);
  g_main_loop_unref (data.loop);
  signetctl_output_progress_clear ();
  if (data.reply == NULL)
    {
      signetctl_error_strip (data.error);
      g_propagate_error (error, data.error);
      return NULL;
    }
  return data.reply;
}
