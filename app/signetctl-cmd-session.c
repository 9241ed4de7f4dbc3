/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetctl-cmd-session.c: the commands about the signed-in session:
 * login, logout, status, step-up, log upload, and the hidden `agent`
 * that login starts. Passwords and codes are read here, handed to the
 * agent once and wiped (signet-secret.h); they are never printed.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "signet-secret.h"
#include "signetctl-agent.h"
#include "signetctl-cli.h"
#include "signetctl-client.h"
#include "signetctl-error.h"
#include "signetctl-output.h"
#include "signetctl-prompt.h"

static char *
format_time (gint64 seconds)
{
  g_autoptr(GDateTime) t = g_date_time_new_from_unix_local (seconds);

  return t != NULL ? g_date_time_format (t, "%H:%M:%S") : g_strdup ("?");
}

static const char *
lookup_str (GVariant   *dict,
            const char *key)
{
  const char *s = NULL;

  return g_variant_lookup (dict, key, "&s", &s) ? s : NULL;
}

static gint64
lookup_int (GVariant   *dict,
            const char *key)
{
  gint64 v = 0;

  return g_variant_lookup (dict, key, "x", &v) ? v : 0;
}

/* The first member of a reply tuple, as JSON (printed with --json). */
static void
print_json_reply (GVariant *reply)
{
  g_autoptr(GVariant) value = g_variant_get_child_value (reply, 0);

  signetctl_output_json (signetctl_variant_to_json (value));
}

/* Ask for a code (--otp wins). Returns: (transfer full) (nullable) */
static char *
get_code (const char  *otp,
          const char  *prompt,
          GError     **error)
{
  if (otp != NULL)
    return g_strdup (otp);
  return signetctl_prompt_secret (prompt, error);
}

int
signetctl_cmd_login (SignetctlCli  *cli,
                     int            argc,
                     char         **argv)
{
  g_autofree char *user = NULL;
  g_auto(SignetSecretString) otp_arg = NULL;
  g_auto(SignetSecretString) password = NULL;
  g_auto(SignetSecretString) otp = NULL;
  gboolean password_stdin = FALSE;
  int idle_timeout = SIGNETCTL_AGENT_IDLE_TIMEOUT_DEFAULT;
  const GOptionEntry entries[] = {
    { "user", 'u', 0, G_OPTION_ARG_STRING, &user, N_("Your user name (default: your login)"),
      N_("NAME") },
    { "otp", 0, 0, G_OPTION_ARG_STRING, &otp_arg,
      N_("The code of your authenticator app (else asked)"), N_("CODE") },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &password_stdin,
      N_("Read the password from the first line of standard input"), NULL },
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &idle_timeout,
      N_("Sign out after this many seconds without a command (default 1800, 0: never)"),
      N_("SECONDS") },
    { NULL }
  };
  const SignetctlCommand *command = signetctl_cli_command ("login");
  g_autoptr(SignetctlAgent1) agent = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) status = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *until = NULL;
  int rc;

  rc = signetctl_cli_parse (cli, command, entries, &argc, &argv);
  if (rc >= 0)
    return rc;
  if (argc > 1)
    return signetctl_cli_usage (command, _("login takes no arguments"));
  if (idle_timeout < 0)
    return signetctl_cli_usage (command, _("--idle-timeout is a number of seconds"));
  if (cli->config.service_url == NULL || cli->config.ca_file == NULL)
    return signetctl_cli_usage (command,
                                _("Which service? Give --service URL and --ca FILE (or set "
                                  "SIGNET_SERVICE_URL and SIGNET_SERVICE_CA, or write them in "
                                  "signetctl.conf)"));
  if (user == NULL)
    user = g_strdup (g_get_user_name ());

  /* One session at a time. */
  agent = signetctl_client_connect (cli->config.socket_path, NULL);
  if (agent != NULL)
    {
      reply = signetctl_cli_call (cli, agent, "GetStatus", NULL, NULL);
      if (reply != NULL)
        {
          status = g_variant_get_child_value (reply, 0);
          error = g_error_new (SIGNETCTL_ERROR, SIGNETCTL_ERROR_ALREADY_SIGNED_IN,
                               _("Already signed in as %s: signetctl logout first"),
                               lookup_str (status, "username") ?: "?");
          return signetctl_cli_fail (error);
        }
      g_clear_object (&agent);
    }

  /* Ask first: no agent is started for a question nobody can answer. */
  if (password_stdin)
    password = signetctl_prompt_stdin (&error);
  else
    {
      g_autofree char *prompt = g_strdup_printf (_("Password for %s: "), user);

      password = signetctl_prompt_secret (prompt, &error);
    }
  if (password == NULL)
    return signetctl_cli_fail (error);
  otp = get_code (otp_arg, _("Code from your authenticator app: "), &error);
  if (otp == NULL)
    return signetctl_cli_fail (error);

  if (!signetctl_client_spawn_agent (&cli->config, (guint) idle_timeout, &error))
    return signetctl_cli_fail (error);
  agent = signetctl_client_connect (cli->config.socket_path, &error);
  if (agent == NULL)
    return signetctl_cli_fail (error);
  reply = signetctl_cli_call (cli, agent, "SignIn", g_variant_new ("(sss)", user, password, otp),
                              &error);
  if (reply == NULL)
    return signetctl_cli_fail (error);
  status = g_variant_get_child_value (reply, 0);
  until = format_time (lookup_int (status, "expires_at"));
  signetctl_print (_("Signed in as %s (%s); the token is renewed until the session ends "
                     "(this token: until %s).\n"),
                   lookup_str (status, "username") ?: user, lookup_str (status, "role") ?: "?",
                   until);
  if (lookup_str (status, "log") != NULL)
    signetctl_note (_("Session log: %s\n"), lookup_str (status, "log"));
  print_json_reply (reply);
  return SIGNETCTL_EXIT_OK;
}

int
signetctl_cmd_logout (SignetctlCli  *cli,
                      int            argc,
                      char         **argv)
{
  const SignetctlCommand *command = signetctl_cli_command ("logout");
  g_autoptr(SignetctlAgent1) agent = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  gboolean uploaded = FALSE;
  int rc;

  rc = signetctl_cli_parse (cli, command, NULL, &argc, &argv);
  if (rc >= 0)
    return rc;
  if (argc > 1)
    return signetctl_cli_usage (command, _("logout takes no arguments"));
  agent = signetctl_cli_agent (cli, &error);
  if (agent == NULL)
    return signetctl_cli_fail (error);
  reply = signetctl_cli_call (cli, agent, "SignOut", NULL, &error);
  if (reply == NULL)
    return signetctl_cli_fail (error);
  result = g_variant_get_child_value (reply, 0);
  g_variant_lookup (result, "uploaded", "b", &uploaded);
  if (uploaded)
    signetctl_print (_("Signed out. The session log was sealed and uploaded.\n"));
  else
    signetctl_print (_("Signed out. The session log could not be uploaded (%s): it stays "
                       "queued in %s and goes with your next session.\n"),
                     lookup_str (result, "upload_error") ?: "?",
                     lookup_str (result, "log") ?: cli->config.state_dir);
  print_json_reply (reply);
  return SIGNETCTL_EXIT_OK;
}

int
signetctl_cmd_status (SignetctlCli  *cli,
                      int            argc,
                      char         **argv)
{
  const SignetctlCommand *command = signetctl_cli_command ("status");
  g_autoptr(SignetctlAgent1) agent = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) status = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *until = NULL;
  g_autofree char *auth = NULL;
  int rc;

  rc = signetctl_cli_parse (cli, command, NULL, &argc, &argv);
  if (rc >= 0)
    return rc;
  if (argc > 1)
    return signetctl_cli_usage (command, _("status takes no arguments"));
  agent = signetctl_cli_agent (cli, &error);
  if (agent != NULL)
    reply = signetctl_cli_call (cli, agent, "GetStatus", NULL, &error);
  if (reply == NULL)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      if (!g_error_matches (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_NOT_SIGNED_IN))
        return signetctl_cli_fail (error);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, "signed-out");
      json_builder_set_member_name (b, "socket");
      json_builder_add_string_value (b, cli->config.socket_path);
      json_builder_end_object (b);
      signetctl_output_json (json_builder_get_root (b));
      signetctl_print (_("Not signed in.\n"));
      return SIGNETCTL_EXIT_AUTH;
    }
  status = g_variant_get_child_value (reply, 0);
  until = format_time (lookup_int (status, "expires_at"));
  auth = format_time (lookup_int (status, "auth_time"));
  signetctl_print (_("Signed in as %s (%s) at %s\n"), lookup_str (status, "username") ?: "?",
                   lookup_str (status, "role") ?: "?", lookup_str (status, "service") ?: "?");
  signetctl_print (_("  token until %s (%lld s left), last code at %s\n"),
                   until, (long long) lookup_int (status, "remaining"), auth);
  signetctl_print (_("  scope: %s\n"), lookup_str (status, "scope") ?: "");
  if (lookup_str (status, "log") != NULL)
    signetctl_print (_("  session log: %s\n"), lookup_str (status, "log"));
  print_json_reply (reply);
  return g_strcmp0 (lookup_str (status, "state"), "signed-in") == 0 ? SIGNETCTL_EXIT_OK
                                                                     : SIGNETCTL_EXIT_AUTH;
}

int
signetctl_cmd_step_up (SignetctlCli  *cli,
                       int            argc,
                       char         **argv)
{
  g_auto(SignetSecretString) otp_arg = NULL;
  g_auto(SignetSecretString) otp = NULL;
  const GOptionEntry entries[] = {
    { "otp", 0, 0, G_OPTION_ARG_STRING, &otp_arg,
      N_("A fresh code of your authenticator app (else asked)"), N_("CODE") },
    { NULL }
  };
  const SignetctlCommand *command = signetctl_cli_command ("step-up");
  g_autoptr(SignetctlAgent1) agent = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  int rc;

  rc = signetctl_cli_parse (cli, command, entries, &argc, &argv);
  if (rc >= 0)
    return rc;
  if (argc > 1)
    return signetctl_cli_usage (command, _("step-up takes no arguments"));
  agent = signetctl_cli_agent (cli, &error);
  if (agent == NULL)
    return signetctl_cli_fail (error);
  otp = get_code (otp_arg, _("A fresh code from your authenticator app: "), &error);
  if (otp == NULL)
    return signetctl_cli_fail (error);
  reply = signetctl_cli_call (cli, agent, "StepUp", g_variant_new ("(s)", otp), &error);
  if (reply == NULL)
    return signetctl_cli_fail (error);
  signetctl_print (_("Stepped up: changes that need a recent code may go ahead.\n"));
  print_json_reply (reply);
  return SIGNETCTL_EXIT_OK;
}

int
signetctl_cmd_log_upload (SignetctlCli  *cli,
                          int            argc,
                          char         **argv)
{
  const SignetctlCommand *command = signetctl_cli_command ("log upload");
  g_autoptr(SignetctlAgent1) agent = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  guint64 sent = 0;
  gint64 pending = 0;
  int rc;

  rc = signetctl_cli_parse (cli, command, NULL, &argc, &argv);
  if (rc >= 0)
    return rc;
  if (argc > 1)
    return signetctl_cli_usage (command, _("log upload takes no arguments"));
  agent = signetctl_cli_agent (cli, &error);
  if (agent == NULL)
    return signetctl_cli_fail (error);
  reply = signetctl_cli_call (cli, agent, "UploadLogs", NULL, &error);
  if (reply == NULL)
    {
      if (!signetctl_output_is_json ())
        signetctl_note (_("The logs stay queued and go at the next upload.\n"));
      return signetctl_cli_fail (error);
    }
  result = g_variant_get_child_value (reply, 0);
  g_variant_lookup (result, "bytes_sent", "t", &sent);
  g_variant_lookup (result, "pending", "x", &pending);
  signetctl_print (_("Uploaded %llu bytes; %lld records of this session's log still to send.\n"),
                   (unsigned long long) sent, (long long) MAX (pending, 0));
  print_json_reply (reply);
  return SIGNETCTL_EXIT_OK;
}

int
signetctl_cmd_agent (SignetctlCli  *cli,
                     int            argc,
                     char         **argv)
{
  int idle_timeout = SIGNETCTL_AGENT_IDLE_TIMEOUT_DEFAULT;
  int ready_fd = -1;
  const GOptionEntry entries[] = {
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &idle_timeout, NULL, NULL },
    { "ready-fd", 0, 0, G_OPTION_ARG_INT, &ready_fd, NULL, NULL },
    { NULL }
  };
  SignetctlAgentOptions options = { 0 };
  int rc;

  rc = signetctl_cli_parse (cli, signetctl_cli_command ("agent"), entries, &argc, &argv);
  if (rc >= 0)
    return rc;
  if (cli->config.service_url == NULL || cli->config.ca_file == NULL || idle_timeout < 0)
    return signetctl_cli_usage (NULL, _("agent: --service and --ca are needed"));
  options.socket_path = cli->config.socket_path;
  options.state_dir = cli->config.state_dir;
  options.service_url = cli->config.service_url;
  options.ca_file = cli->config.ca_file;
  options.pin = cli->config.pin;
  options.idle_timeout = (guint) idle_timeout;
  options.ready_fd = ready_fd;
  return signetctl_agent_run (&options);
}
