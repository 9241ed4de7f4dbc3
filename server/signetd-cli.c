/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>

#include "signet-secret.h"
#include "signet-totp.h"
#include "signet-x509.h"
#include "signetd-accounts.h"
#include "signetd-audit.h"
#include "signetd-cli.h"
#include "signetd-config.h"
#include "signetd-http.h"
#include "signetd-keys.h"
#include "signetd-lockout.h"
#include "signetd-logs.h"
#include "signetd-profiles.h"
#include "signetd-qr.h"
#include "signetd-seal.h"
#include "signetd-store.h"
#include "signetd-tokens.h"
#include "signetd-trust.h"
#include "signetd-vault.h"

#define EXIT_CODES_HELP \
  "Exit status: 0 success, 1 failure, 2 usage error, 3 not found, 4 already exists."

/* Everything a command needs, opened from the data dir. */
typedef struct {
  SignetdConfig *config;
  SignetdStore *store;
  SignetdKeys *keys;
  SignetdAccounts *accounts;
  SignetdTrust *trust;
  SignetdVault *vault;
  SignetdProfiles *profiles;
  SignetdAudit *audit;       /* opened by the first audited change */
} Context;

static void
context_free (Context *ctx)
{
  if (ctx == NULL)
    return;
  g_clear_pointer (&ctx->audit, signetd_audit_close);
  g_clear_pointer (&ctx->profiles, signetd_profiles_free);
  g_clear_pointer (&ctx->vault, signetd_vault_free);
  g_clear_pointer (&ctx->trust, signetd_trust_free);
  g_clear_pointer (&ctx->accounts, signetd_accounts_free);
  g_clear_pointer (&ctx->keys, signetd_keys_free);
  g_clear_pointer (&ctx->store, signetd_store_free);
  g_clear_pointer (&ctx->config, signetd_config_free);
  g_free (ctx);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Context, context_free)

static Context *
context_open (const char  *data_dir,
              GError     **error)
{
  g_autoptr(Context) ctx = g_new0 (Context, 1);
  g_autofree char *db = g_build_filename (data_dir, SIGNETD_STORE_FILE, NULL);

  if (!g_file_test (db, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   "%s is not a signetd data dir (run signetd init)", data_dir);
      return NULL;
    }
  ctx->config = signetd_config_load (data_dir, error);
  if (ctx->config == NULL)
    return NULL;
  ctx->store = signetd_store_open (db, FALSE, error);
  if (ctx->store == NULL)
    return NULL;
  ctx->keys = signetd_keys_new (data_dir, ctx->store, error);
  if (ctx->keys == NULL)
    return NULL;
  ctx->accounts = signetd_accounts_new (ctx->store, ctx->keys);
  ctx->trust = signetd_trust_new (ctx->store, ctx->keys);
  ctx->vault = signetd_vault_new (ctx->store, ctx->keys);
  ctx->profiles = signetd_profiles_new (ctx->store, ctx->keys);
  return g_steal_pointer (&ctx);
}

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* Record a change this command made in its own audit log (signetd-audit.h;
 * one file per command run, never the server's). The change is done
 * already: a failure here is reported, and the exit status says so. */
static gboolean
audited (Context     *ctx,
         const char  *type,
         const char  *device,
         GError     **error,
         const char  *fmt,
         ...)
{
  va_list ap;
  gboolean ok;

  if (ctx->audit == NULL)
    {
      ctx->audit = signetd_audit_open (ctx->config->data_dir, ctx->store, ctx->keys, "cli",
                                       error);
      if (ctx->audit == NULL)
        return FALSE;
    }
  va_start (ap, fmt);
  ok = signetd_audit_record_valist (ctx->audit, type, device, error, fmt, ap);
  va_end (ap);
  return ok;
}

static int
fail (GError *error)
{
  g_printerr ("signetd: %s\n", error->message);
  if ((error->domain == SIGNETD_ACCOUNTS_ERROR &&
       error->code == SIGNETD_ACCOUNTS_ERROR_NOT_FOUND) ||
      (error->domain == SIGNETD_TRUST_ERROR && error->code == SIGNETD_TRUST_ERROR_NOT_FOUND) ||
      (error->domain == SIGNETD_VAULT_ERROR && error->code == SIGNETD_VAULT_ERROR_NOT_FOUND) ||
      (error->domain == SIGNETD_PROFILES_ERROR &&
       error->code == SIGNETD_PROFILES_ERROR_NOT_FOUND) ||
      (error->domain == G_FILE_ERROR && error->code == G_FILE_ERROR_NOENT))
    return SIGNETD_EXIT_NOT_FOUND;
  if ((error->domain == SIGNETD_ACCOUNTS_ERROR && error->code == SIGNETD_ACCOUNTS_ERROR_EXISTS) ||
      (error->domain == SIGNETD_TRUST_ERROR && error->code == SIGNETD_TRUST_ERROR_EXISTS) ||
      (error->domain == G_FILE_ERROR && error->code == G_FILE_ERROR_EXIST))
    return SIGNETD_EXIT_EXISTS;
  if ((error->domain == SIGNETD_ACCOUNTS_ERROR &&
       (error->code == SIGNETD_ACCOUNTS_ERROR_INVALID_NAME ||
        error->code == SIGNETD_ACCOUNTS_ERROR_INVALID_ROLE ||
        error->code == SIGNETD_ACCOUNTS_ERROR_WEAK_PASSWORD)) ||
      (error->domain == SIGNETD_TRUST_ERROR && error->code == SIGNETD_TRUST_ERROR_INVALID) ||
      (error->domain == SIGNETD_VAULT_ERROR &&
       (error->code == SIGNETD_VAULT_ERROR_INVALID_NAME ||
        error->code == SIGNETD_VAULT_ERROR_INVALID_VALUE)))
    return SIGNETD_EXIT_USAGE;
  return SIGNETD_EXIT_FAILURE;
}

static int
usage_error (GOptionContext *octx,
             const char     *message)
{
  g_autofree char *help = octx != NULL ? g_option_context_get_help (octx, TRUE, NULL) : NULL;

  g_printerr ("signetd: %s\n", message);
  if (help != NULL)
    g_printerr ("\n%s", help);
  return SIGNETD_EXIT_USAGE;
}

/* Parse argv with entries; data_dir is required. Returns -1 on success,
 * else the exit status. */
static int
parse_options (GOptionContext  *octx,
               const char      *summary,
               GOptionEntry    *entries,
               char           **data_dir,
               int             *argc,
               char          ***argv)
{
  g_autoptr(GError) error = NULL;
  GOptionEntry common[] = {
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, data_dir,
      "The service's data directory (database, keys, configuration)", "DIR" },
    { NULL }
  };

  g_option_context_set_summary (octx, summary);
  g_option_context_set_description (octx, EXIT_CODES_HELP);
  g_option_context_add_main_entries (octx, common, NULL);
  if (entries != NULL)
    g_option_context_add_main_entries (octx, entries, NULL);
  if (!g_option_context_parse (octx, argc, argv, &error))
    return usage_error (octx, error->message);
  if (*data_dir == NULL)
    return usage_error (octx, "--data-dir is required");
  return -1;
}

/* Write text to path with mode, refusing to replace a file. */
static gboolean
write_new_file (const char  *path,
                const char  *text,
                int          mode,
                GError     **error)
{
  gsize len = strlen (text);
  int fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

  if (fd < 0 || write (fd, text, len) != (gssize) len || fsync (fd) != 0)
    {
      int saved = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

/* ---- init --------------------------------------------------------------- */

static gboolean
make_tls_files (SignetdConfig  *config,
                const char     *hostname,
                GError        **error)
{
  g_autoptr(SignetKey) key = signet_key_generate (error);
  g_auto(SignetSecretString) key_pem = NULL;
  g_autofree char *cert_pem = NULL;
  const char *names[] = { "localhost", "127.0.0.1", "::1", hostname, NULL };

  if (key == NULL)
    return FALSE;
  cert_pem = signet_x509_self_signed_pem (key, hostname != NULL ? hostname : "localhost",
                                          names, 825, error);
  if (cert_pem == NULL)
    return FALSE;
  key_pem = signet_key_to_pkcs8_pem (key, error);
  return key_pem != NULL &&
         write_new_file (config->tls_key, key_pem, 0600, error) &&
         write_new_file (config->tls_cert, cert_pem, 0644, error);
}

static int
cmd_init (int    argc,
          char **argv)
{
  g_autoptr(GOptionContext) octx = g_option_context_new ("- create a data directory");
  g_autofree char *data_dir = NULL;
  g_autofree char *tls_cert = NULL;
  g_autofree char *tls_key = NULL;
  g_autofree char *hostname = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *db = NULL;
  g_autofree char *kid = NULL;
  g_autoptr(SignetdConfig) config = NULL;
  g_autoptr(SignetdStore) store = NULL;
  g_autoptr(SignetdKeys) keys = NULL;
  g_autoptr(SignetdTrust) trust = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  GOptionEntry entries[] = {
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert,
      "Serve this TLS certificate (PEM) instead of a new self-signed one", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key,
      "The private key (PEM) of --tls-cert", "FILE" },
    { "hostname", 0, 0, G_OPTION_ARG_STRING, &hostname,
      "Also name this host in the self-signed certificate", "HOST" },
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen,
      "The address to serve on (default 127.0.0.1:8443)", "ADDR:PORT" },
    { NULL }
  };
  int rc;

  rc = parse_options (octx,
                      "Creates DIR (mode 0700) with the database, the master key, the "
                      "first authority key,\na self-signed TLS certificate for localhost, "
                      "127.0.0.1 and ::1 (unless --tls-cert\nand --tls-key are given) and "
                      "signetd.conf. Refuses a DIR that exists and is not empty.",
                      entries, &data_dir, &argc, &argv);
  if (rc >= 0)
    return rc;
  if (argc != 1)
    return usage_error (octx, "unexpected argument");
  if ((tls_cert == NULL) != (tls_key == NULL))
    return usage_error (octx, "--tls-cert and --tls-key go together");

  dir = g_dir_open (data_dir, 0, NULL);
  if (dir != NULL && g_dir_read_name (dir) != NULL)
    {
      g_printerr ("signetd: %s exists and is not empty: refusing to overwrite it\n", data_dir);
      return SIGNETD_EXIT_EXISTS;
    }
  if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      int saved = errno;

      g_printerr ("signetd: %s: %s\n", data_dir, g_strerror (saved));
      return SIGNETD_EXIT_FAILURE;
    }

  config = signetd_config_new_default (data_dir);
  if (listen != NULL && !signetd_config_set_listen (config, listen, &error))
    return usage_error (octx, error->message);
  if (tls_cert != NULL)
    {
      g_autoptr(GTlsCertificate) cert = NULL;

      g_free (config->tls_cert);
      g_free (config->tls_key);
      config->tls_cert = g_canonicalize_filename (tls_cert, NULL);
      config->tls_key = g_canonicalize_filename (tls_key, NULL);
      cert = g_tls_certificate_new_from_files (config->tls_cert, config->tls_key, &error);
      if (cert == NULL)
        return fail (error);
    }
  else if (!make_tls_files (config, hostname, &error))
    return fail (error);

  db = g_build_filename (data_dir, SIGNETD_STORE_FILE, NULL);
  if (!signetd_keys_create_master (data_dir, &error))
    return fail (error);
  store = signetd_store_open (db, TRUE, &error);
  if (store == NULL)
    return fail (error);
  keys = signetd_keys_new (data_dir, store, &error);
  if (keys == NULL)
    return fail (error);
  kid = signetd_keys_rotate (keys, now_seconds (), &error);
  if (kid == NULL)
    return fail (error);
  trust = signetd_trust_new (store, keys);
  if (!signetd_trust_regenerate (trust, now_seconds (), &error) ||
      !signetd_config_save (config, &error))
    return fail (error);
  {
    g_autoptr(SignetdAudit) audit = signetd_audit_open (data_dir, store, keys, "cli", &error);

    if (audit == NULL ||
        !signetd_audit_record (audit, "key.rotate", NULL, &error, "tt", "kid", kid,
                               "command", "init"))
      return fail (error);
  }

  g_print ("initialised %s\nauthority key %s\n", data_dir, kid);
  return SIGNETD_EXIT_OK;
}

/* ---- serve -------------------------------------------------------------- */

static gboolean
on_quit_signal (gpointer user_data)
{
  GMainLoop *loop = user_data;

  g_message ("shutting down");
  g_main_loop_quit (loop);
  return G_SOURCE_CONTINUE;
}

/* The serve audit log's rotation: when the UTC time crosses a multiple of
 * the configured period, the log is closed (session.end + final seal,
 * verifiable on its own) and a new one takes its place. */
typedef struct {
  Context *ctx;              /* borrowed */
  SignetdHttp *http;         /* borrowed */
  SignetdLogs *logs;         /* borrowed */
  SignetdAudit *audit;       /* owned: the live log */
  gint64 period;             /* seconds */
  gint64 epoch;              /* the period the live log started in */
} Rotation;

static void
rotation_clear (Rotation *rotation)
{
  g_clear_pointer (&rotation->audit, signetd_audit_close);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Rotation, rotation_clear)

static gint64
rotation_epoch (const Rotation *rotation)
{
  return g_get_real_time () / G_USEC_PER_SEC / rotation->period;
}

static gboolean
rotate_audit (gpointer data)
{
  Rotation *rotation = data;
  g_autoptr(GError) error = NULL;
  SignetdAudit *next;
  gint64 epoch = rotation_epoch (rotation);

  if (epoch == rotation->epoch)
    return G_SOURCE_CONTINUE;
  next = signetd_audit_open (rotation->ctx->config->data_dir, rotation->ctx->store,
                             rotation->ctx->keys, "serve", &error);
  if (next == NULL)
    {
      /* Keep writing the old one: a long log beats no log. Try again. */
      g_warning ("audit log rotation: %s", error->message);
      return G_SOURCE_CONTINUE;
    }
  g_message ("audit log rotated: %s follows %s", signetd_audit_get_id (next),
             signetd_audit_get_id (rotation->audit));
  /* Commits the open group and moves the server to the new log. */
  signetd_http_set_logs (rotation->http, rotation->logs, next);
  signetd_logs_set_live_audit (rotation->logs, signetd_audit_get_id (next));
  g_clear_pointer (&rotation->audit, signetd_audit_close);
  rotation->audit = next;
  rotation->epoch = epoch;
  return G_SOURCE_CONTINUE;
}

static int
cmd_serve (int    argc,
           char **argv)
{
  g_autoptr(GOptionContext) octx = g_option_context_new ("- serve the token service API");
  g_autofree char *data_dir = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *url = NULL;
  g_autofree char *issuer = NULL;
  g_autoptr(Context) ctx = NULL;
  g_autoptr(SignetdTokens) tokens = NULL;
  g_autoptr(SignetdSeal) seal = NULL;
  g_autoptr(SignetdLogs) logs = NULL;
  g_auto(Rotation) rotation = { 0 };
  g_autoptr(SignetdHttp) http = NULL;
  g_autoptr(SignetKey) current = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen,
      "Serve on ADDR:PORT instead of the configured address (port 0: any free port)",
      "ADDR:PORT" },
    { NULL }
  };
  guint sigterm, sigint, rotate;
  int rc;

  rc = parse_options (octx,
                      "Serves HTTPS until SIGTERM or SIGINT, then shuts down gracefully.\n"
                      "Prints \"listening on https://ADDR:PORT\" on standard output when "
                      "ready.",
                      entries, &data_dir, &argc, &argv);
  if (rc >= 0)
    return rc;
  if (argc != 1)
    return usage_error (octx, "unexpected argument");

  ctx = context_open (data_dir, &error);
  if (ctx == NULL)
    return fail (error);
  if (listen != NULL && !signetd_config_set_listen (ctx->config, listen, &error))
    return usage_error (octx, error->message);
  if (!signet_totp_init (&error))
    return fail (error);
  current = signetd_keys_get_current (ctx->keys, NULL, &error);
  if (current == NULL)
    return fail (error);
  /* Pay for the dummy hash now, not on the first unknown user. */
  (void) signetd_password_verify (NULL, "");

  tokens = signetd_tokens_new (ctx->store, ctx->keys, ctx->trust, "", ctx->config->token_lifetime,
                               ctx->config->session_max);
  http = signetd_http_new (ctx->config, ctx->store, ctx->accounts, ctx->trust, tokens, &error);
  if (http == NULL)
    return fail (error);
  seal = signetd_seal_new (ctx->trust, ctx->profiles, ctx->vault);
  signetd_http_set_sealing (http, ctx->profiles, seal);
  /* This run's audit log; closed (session.end + final seal) at shutdown,
   * and replaced by a new one at each rotation. */
  rotation.audit = signetd_audit_open (data_dir, ctx->store, ctx->keys, "serve", &error);
  if (rotation.audit == NULL)
    return fail (error);
  logs = signetd_logs_new (ctx->store, ctx->keys, data_dir);
  signetd_logs_set_live_audit (logs, signetd_audit_get_id (rotation.audit));
  signetd_http_set_logs (http, logs, rotation.audit);
  rotation.ctx = ctx;
  rotation.http = http;
  rotation.logs = logs;
  rotation.period = ctx->config->audit_rotate;
  rotation.epoch = rotation_epoch (&rotation);
  rotate = g_timeout_add_seconds (1, rotate_audit, &rotation);
  url = signetd_http_listen (http, &error);
  if (url == NULL)
    return fail (error);
  issuer = ctx->config->public_url != NULL ? g_strdup (ctx->config->public_url)
                                           : g_strdup (url);
  signetd_tokens_set_issuer (tokens, issuer);

  loop = g_main_loop_new (NULL, FALSE);
  sigterm = g_unix_signal_add (SIGTERM, on_quit_signal, loop);
  sigint = g_unix_signal_add (SIGINT, on_quit_signal, loop);

  g_print ("listening on %s\n", url);
  fflush (stdout);
  g_message ("serving %s as issuer %s", url, issuer);
  g_main_loop_run (loop);

  g_source_remove (rotate);
  g_source_remove (sigterm);
  g_source_remove (sigint);
  signetd_http_stop (http);
  signetd_http_set_logs (http, logs, NULL);
  g_clear_pointer (&rotation.audit, signetd_audit_close);
  return SIGNETD_EXIT_OK;
}

/* ---- user --------------------------------------------------------------- */

/* One line of standard input, without echo on a terminal. Returns: a
 * secret string, or NULL at end of input or for a line too long. */
static char *
read_password (void)
{
  char buf[SIGNETD_PASSWORD_MAX + 2];
  struct termios old, quiet;
  gboolean tty = isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &old) == 0;
  char *result = NULL;
  gsize len;

  if (tty)
    {
      g_printerr ("Password: ");
      quiet = old;
      quiet.c_lflag &= (tcflag_t) ~ECHO;
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
    }
  if (fgets (buf, sizeof buf, stdin) != NULL)
    {
      len = strlen (buf);
      if (len > 0 && buf[len - 1] == '\n')
        buf[--len] = '\0';
      if (len > 0 && buf[len - 1] == '\r')
        buf[--len] = '\0';
      if (len <= SIGNETD_PASSWORD_MAX)
        result = g_strdup (buf);
    }
  if (tty)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &old);
      g_printerr ("\n");
    }
  signet_secret_wipe (buf, sizeof buf);
  return result;
}

static int
print_enrolment (const char *uri,
                 const char *qr_png)
{
  g_autoptr(GError) error = NULL;
  g_auto(SignetSecretString) qr = signetd_qr_to_terminal (uri, &error);

  if (qr == NULL)
    return fail (error);
  g_print ("%s\n\n%s", uri, qr);
  if (qr_png != NULL && !signetd_qr_write_png (uri, qr_png, &error))
    return fail (error);
  return SIGNETD_EXIT_OK;
}

/* End a listing: close the JSON array that was built alongside the text
 * lines, and print it instead of them for --json. */
static int
finish_list (JsonBuilder *b,
             gboolean     json)
{
  json_builder_end_array (b);
  if (json)
    {
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      g_autofree char *text = json_to_string (root, TRUE);

      g_print ("%s\n", text);
    }
  return SIGNETD_EXIT_OK;
}

static int
cmd_user (int    argc,
          char **argv)
{
  g_autoptr(GOptionContext) octx =
    g_option_context_new ("add|list|disable|enable|reset-otp|unlock|delete [NAME]");
  g_autofree char *data_dir = NULL;
  g_autofree char *role_text = NULL;
  g_autofree char *qr_png = NULL;
  g_autoptr(Context) ctx = NULL;
  g_autoptr(GError) error = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "role", 'r', 0, G_OPTION_ARG_STRING, &role_text,
      "add: technician, supervisor or admin", "ROLE" },
    { "qr-png", 0, 0, G_OPTION_ARG_FILENAME, &qr_png,
      "add, reset-otp: also write the QR code to this new PNG file", "FILE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "list: as JSON", NULL },
    { NULL }
  };
  const char *verb, *name;
  gint64 now = now_seconds ();
  int rc;

  rc = parse_options (octx,
                      "Manages accounts.\n"
                      "  add NAME --role R    the password is read from standard input (one "
                      "line, at least 12\n                       characters); prints the "
                      "otpauth:// URI and its QR code\n"
                      "  list [--json]        names, roles, state\n"
                      "  disable|enable NAME  refuse or allow sign-in (existing tokens stop "
                      "working)\n"
                      "  reset-otp NAME       a new TOTP secret, printed like add\n"
                      "  unlock NAME          clear the failure counter and the lock\n"
                      "  delete NAME          revoke the user's sessions and delete the "
                      "account\n"
                      "NAME is 1 to 64 characters of a-z, 0-9, '.', '_' and '-'.",
                      entries, &data_dir, &argc, &argv);
  if (rc >= 0)
    return rc;
  if (argc < 2)
    return usage_error (octx, "which user command?");
  verb = argv[1];
  if (g_str_equal (verb, "list"))
    {
      g_autoptr(GPtrArray) users = NULL;
      g_autoptr(JsonBuilder) b = json_builder_new ();

      if (argc != 2)
        return usage_error (octx, "list takes no argument");
      ctx = context_open (data_dir, &error);
      if (ctx == NULL || (users = signetd_accounts_list (ctx->accounts, &error)) == NULL)
        return fail (error);
      json_builder_begin_array (b);
      for (guint i = 0; i < users->len; i++)
        {
          SignetdUser *u = g_ptr_array_index (users, i);
          guint failures = 0;
          gboolean locked;

          if (!signetd_lockout_get_count (ctx->store, u->name, &failures, &error))
            return fail (error);
          locked = failures >= ctx->config->lock_after;
          if (json)
            {
              json_builder_begin_object (b);
              json_builder_set_member_name (b, "name");
              json_builder_add_string_value (b, u->name);
              json_builder_set_member_name (b, "role");
              json_builder_add_string_value (b, signetd_role_to_string (u->role));
              json_builder_set_member_name (b, "disabled");
              json_builder_add_boolean_value (b, u->disabled);
              json_builder_set_member_name (b, "locked");
              json_builder_add_boolean_value (b, locked);
              json_builder_set_member_name (b, "failures");
              json_builder_add_int_value (b, failures);
              json_builder_set_member_name (b, "created");
              json_builder_add_int_value (b, u->created);
              json_builder_end_object (b);
            }
          else
            g_print ("%-24s %-10s %s%s\n", u->name, signetd_role_to_string (u->role),
                     u->disabled ? "disabled" : "enabled", locked ? " locked" : "");
        }
      return finish_list (b, json);
    }

  if (argc != 3)
    return usage_error (octx, "expected: user COMMAND NAME");
  name = argv[2];
  if (!signetd_accounts_validate_name (name, &error))
    return fail (error);
  ctx = context_open (data_dir, &error);
  if (ctx == NULL)
    return fail (error);

  if (g_str_equal (verb, "add"))
    {
      g_auto(SignetSecretString) password = NULL;
      g_auto(SignetSecretString) uri = NULL;
      SignetdRole role;

      if (role_text == NULL || !signetd_role_from_string (role_text, &role))
        return usage_error (octx, "--role must be technician, supervisor or admin");
      password = read_password ();
      if (password == NULL)
        {
          g_printerr ("signetd: no password on standard input (or longer than %d bytes)\n",
                      SIGNETD_PASSWORD_MAX);
          return SIGNETD_EXIT_USAGE;
        }
      uri = signetd_accounts_add (ctx->accounts, name, role, password, now, &error);
      if (uri == NULL ||
          !audited (ctx, "user.add", NULL, &error, "tt", "user", name,
                    "role", signetd_role_to_string (role)))
        return fail (error);
      return print_enrolment (uri, qr_png);
    }
  if (g_str_equal (verb, "reset-otp"))
    {
      g_auto(SignetSecretString) uri = signetd_accounts_reset_otp (ctx->accounts, name, &error);

      if (uri == NULL || !audited (ctx, "user.reset-otp", NULL, &error, "t", "user", name))
        return fail (error);
      return print_enrolment (uri, qr_png);
    }
  if (g_str_equal (verb, "disable"))
    {
      if (!signetd_accounts_set_disabled (ctx->accounts, name, TRUE, &error))
        return fail (error);
    }
  else if (g_str_equal (verb, "enable"))
    {
      if (!signetd_accounts_set_disabled (ctx->accounts, name, FALSE, &error) ||
          !signetd_trust_unrevoke_user (ctx->trust, name, now, &error))
        return fail (error);
    }
  else if (g_str_equal (verb, "unlock"))
    {
      g_autoptr(SignetdUser) user = signetd_accounts_lookup (ctx->accounts, name, &error);

      if (user == NULL || !signetd_lockout_reset (ctx->store, name, NULL, &error))
        return fail (error);
    }
  else if (g_str_equal (verb, "delete"))
    {
      if (!signetd_trust_revoke_user_sessions (ctx->trust, name, now, &error) ||
          !signetd_accounts_delete (ctx->accounts, name, &error))
        return fail (error);
    }
  else
    return usage_error (octx, "unknown user command");
  {
    g_autofree char *type = g_strconcat ("user.", verb, NULL);

    if (!audited (ctx, type, NULL, &error, "t", "user", name))
      return fail (error);
  }
  g_print ("%s: %s\n", verb, name);
  return SIGNETD_EXIT_OK;
}

/* ---- ca, revoke, key ---------------------------------------------------- */

static int
cmd_ca (int    argc,
        char **argv)
{
  g_autoptr(GOptionContext) octx = g_option_context_new ("add FILE.pem");
  g_autofree char *data_dir = NULL;
  g_autofree char *pem = NULL;
  g_autofree char *fingerprint = NULL;
  g_autoptr(Context) ctx = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  int rc;

  rc = parse_options (octx,
                      "Trusts a manufacturer CA certificate (P-256, CA:TRUE, keyCertSign, "
                      "valid now);\nit is published in GET /v1/trust.",
                      NULL, &data_dir, &argc, &argv);
  if (rc >= 0)
    return rc;
  if (argc != 3 || !g_str_equal (argv[1], "add"))
    return usage_error (octx, "expected: ca add FILE.pem");
  if (!g_file_get_contents (argv[2], &pem, &len, &error))
    return fail (error);
  if (len > 1024 * 1024)
    return usage_error (octx, "the file is too large for a certificate");
  ctx = context_open (data_dir, &error);
  if (ctx == NULL)
    return fail (error);
  fingerprint = signetd_trust_add_ca (ctx->trust, pem, now_seconds (), &error);
  if (fingerprint == NULL ||
      !audited (ctx, "ca.add", NULL, &error, "t", "sha256", fingerprint))
    return fail (error);
  g_print ("trusted CA sha256:%s\n", fingerprint);
  return SIGNETD_EXIT_OK;
}

static int
cmd_revoke (int    argc,
            char **argv)
{
  g_autoptr(GOptionContext) octx = g_option_context_new ("- revoke a session, user or device");
  g_autofree char *data_dir = NULL;
  g_autofree char *session = NULL;
  g_autofree char *user = NULL;
  g_autofree char *device = NULL;
  g_autoptr(Context) ctx = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "session", 0, 0, G_OPTION_ARG_STRING, &session, "A session id (from login)", "ID" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user,
      "A user: disables the account and revokes all its sessions", "NAME" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "A device serial", "SERIAL" },
    { NULL }
  };
  gint64 now = now_seconds ();
  gboolean ok;
  int rc;

  rc = parse_options (octx,
                      "Adds to the signed revocation list (GET /v1/trust); its version "
                      "rises. Give exactly one\nof --session, --user, --device.",
                      entries, &data_dir, &argc, &argv);
  if (rc >= 0)
    return rc;
  if (argc != 1 || (session != NULL) + (user != NULL) + (device != NULL) != 1)
    return usage_error (octx, "give exactly one of --session, --user, --device");
  if (user != NULL && !signetd_accounts_validate_name (user, &error))
    return fail (error);
  ctx = context_open (data_dir, &error);
  if (ctx == NULL)
    return fail (error);
  if (session != NULL)
    ok = signetd_trust_revoke_session (ctx->trust, session, now, &error) &&
         audited (ctx, "revoke.session", NULL, &error, "t", "session", session);
  else if (user != NULL)
    ok = signetd_trust_revoke_user (ctx->trust, user, now, &error) &&
         audited (ctx, "revoke.user", NULL, &error, "t", "user", user);
  else
    ok = signetd_trust_revoke_device (ctx->trust, device, now, &error) &&
         audited (ctx, "revoke.device", device, &error, "t", "serial", device);
  if (!ok)
    return fail (error);
  g_print ("revoked\n");
  return SIGNETD_EXIT_OK;
}

static int
cmd_key (int    argc,
         char **argv)
{
  g_autoptr(GOptionContext) octx = g_option_context_new ("rotate");
  g_autofree char *data_dir = NULL;
  g_autofree char *kid = NULL;
  g_autoptr(Context) ctx = NULL;
  g_autoptr(GError) error = NULL;
  int rc;

  rc = parse_options (octx,
                      "Makes a new current authority key. The old one stays published in "
                      "GET /v1/trust\nuntil the last token it signed has expired.",
                      NULL, &data_dir, &argc, &argv);
  if (rc >= 0)
    return rc;
  if (argc != 2 || !g_str_equal (argv[1], "rotate"))
    return usage_error (octx, "expected: key rotate");
  ctx = context_open (data_dir, &error);
  if (ctx == NULL)
    return fail (error);
  kid = signetd_keys_rotate (ctx->keys, now_seconds (), &error);
  if (kid == NULL || !signetd_trust_regenerate (ctx->trust, now_seconds (), &error) ||
      !audited (ctx, "key.rotate", NULL, &error, "tt", "kid", kid, "command", "key rotate"))
    return fail (error);
  g_print ("authority key %s\n", kid);
  return SIGNETD_EXIT_OK;
}

/* ---- secret, profile ---------------------------------------------------- */

/* A secret value from standard input: on a terminal one line, without
 * echo; otherwise all of it, less one trailing newline (so both
 * `echo VALUE |` and a PEM bundle work). Returns: a wiping GBytes, or
 * NULL (message printed) for no value or one over the limit. */
static GBytes *
read_secret_value (void)
{
  char buf[SIGNETD_VAULT_VALUE_MAX + 3];
  gsize len = 0;
  GBytes *value = NULL;

  if (isatty (STDIN_FILENO))
    {
      struct termios old, quiet;
      gboolean tty = tcgetattr (STDIN_FILENO, &old) == 0;

      g_printerr ("Value: ");
      if (tty)
        {
          quiet = old;
          quiet.c_lflag &= (tcflag_t) ~ECHO;
          tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
        }
      if (fgets (buf, sizeof buf, stdin) != NULL)
        len = strlen (buf);
      if (tty)
        tcsetattr (STDIN_FILENO, TCSAFLUSH, &old);
      g_printerr ("\n");
      if (len > 0 && buf[len - 1] != '\n' && len == sizeof buf - 1)
        len = sizeof buf;   /* a line longer than the buffer: too long */
    }
  else
    {
      for (;;)
        {
          gssize n = read (STDIN_FILENO, buf + len, sizeof buf - len);

          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            break;
          len += (gsize) n;
          if (len == sizeof buf)
            break;
        }
    }
  if (len < sizeof buf)
    {
      if (len > 0 && buf[len - 1] == '\n')
        len--;
      if (len > 0 && buf[len - 1] == '\r')
        len--;
    }
  if (len == 0 || len > SIGNETD_VAULT_VALUE_MAX)
    g_printerr ("signetd: %s\n", len == 0 ? "no value on standard input"
                                          : "the value is longer than 4096 bytes");
  else
    value = signet_secret_bytes_new (buf, len);
  signet_secret_wipe (buf, sizeof buf);
  return value;
}

static int
cmd_secret (int    argc,
            char **argv)
{
  g_autoptr(GOptionContext) octx = g_option_context_new ("set|list|delete [NAME]");
  g_autofree char *data_dir = NULL;
  g_autoptr(Context) ctx = NULL;
  g_autoptr(GError) error = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "list: as JSON", NULL },
    { NULL }
  };
  const char *verb;
  int rc;

  rc = parse_options (octx,
                      "Manages the vault: secrets sealed to devices, encrypted at rest.\n"
                      "  set NAME         the value is read from standard input: all of it "
                      "less one trailing\n                   newline (one line, not echoed, "
                      "on a terminal); 1 to 4096 bytes.\n                   An existing "
                      "secret of that name is replaced.\n"
                      "  list [--json]    names and times, never values\n"
                      "  delete NAME\n"
                      "NAME is 1 to 128 characters of a-z, 0-9, '.', '_', '-' in segments "
                      "separated by '/'\n(site-a/wifi-psk).",
                      entries, &data_dir, &argc, &argv);
  if (rc >= 0)
    return rc;
  if (argc < 2)
    return usage_error (octx, "which secret command?");
  verb = argv[1];
  if (g_str_equal (verb, "list"))
    {
      g_autoptr(GPtrArray) entries_list = NULL;
      g_autoptr(JsonBuilder) b = json_builder_new ();

      if (argc != 2)
        return usage_error (octx, "list takes no argument");
      ctx = context_open (data_dir, &error);
      if (ctx == NULL || (entries_list = signetd_vault_list (ctx->vault, &error)) == NULL)
        return fail (error);
      json_builder_begin_array (b);
      for (guint i = 0; i < entries_list->len; i++)
        {
          SignetdVaultEntry *e = g_ptr_array_index (entries_list, i);

          if (!json)
            {
              g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc (e->updated);
              g_autofree char *when = t != NULL ? g_date_time_format_iso8601 (t) : NULL;

              g_print ("%-40s updated %s\n", e->name, when != NULL ? when : "?");
              continue;
            }
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "name");
          json_builder_add_string_value (b, e->name);
          json_builder_set_member_name (b, "created");
          json_builder_add_int_value (b, e->created);
          json_builder_set_member_name (b, "updated");
          json_builder_add_int_value (b, e->updated);
          json_builder_end_object (b);
        }
      return finish_list (b, json);
    }
  if (argc != 3)
    return usage_error (octx, "expected: secret set|delete NAME");
  if (!signetd_vault_validate_name (argv[2], &error))
    return fail (error);
  if (g_str_equal (verb, "set"))
    {
      g_autoptr(GBytes) value = NULL;
      gboolean replaced = FALSE;

      ctx = context_open (data_dir, &error);
      if (ctx == NULL)
        return fail (error);
      value = read_secret_value ();
      if (value == NULL)
        return SIGNETD_EXIT_USAGE;
      if (!signetd_vault_set (ctx->vault, argv[2], value, now_seconds (), &replaced, &error) ||
          !audited (ctx, "secret.set", NULL, &error, "ti", "name", argv[2],
                    "replaced", (gint64) replaced))
        return fail (error);
      g_print ("%s: %s\n", replaced ? "replaced" : "set", argv[2]);
      return SIGNETD_EXIT_OK;
    }
  if (g_str_equal (verb, "delete"))
    {
      ctx = context_open (data_dir, &error);
      if (ctx == NULL || !signetd_vault_delete (ctx->vault, argv[2], &error) ||
          !audited (ctx, "secret.delete", NULL, &error, "t", "name", argv[2]))
        return fail (error);
      g_print ("deleted: %s\n", argv[2]);
      return SIGNETD_EXIT_OK;
    }
  return usage_error (octx, "unknown secret command");
}

static int
cmd_profile (int    argc,
             char **argv)
{
  g_autoptr(GOptionContext) octx = g_option_context_new ("add FILE.json|list|remove ID");
  g_autofree char *data_dir = NULL;
  g_autoptr(Context) ctx = NULL;
  g_autoptr(GError) error = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "list: as JSON (with vault names)", NULL },
    { NULL }
  };
  const char *verb;
  int rc;

  rc = parse_options (octx,
                      "Manages device profiles (docs/api.md, \"Profiles\"), served signed "
                      "in GET /v1/profiles.\n"
                      "  add FILE.json    validate and add; a profile whose id exists must "
                      "have a higher version\n"
                      "  list [--json]    the profiles served\n"
                      "  remove ID        stop serving it (its version still only rises)",
                      entries, &data_dir, &argc, &argv);
  if (rc >= 0)
    return rc;
  if (argc < 2)
    return usage_error (octx, "which profile command?");
  verb = argv[1];
  if (g_str_equal (verb, "list"))
    {
      g_autoptr(GPtrArray) profiles = NULL;
      g_autoptr(JsonBuilder) b = json_builder_new ();

      if (argc != 2)
        return usage_error (octx, "list takes no argument");
      ctx = context_open (data_dir, &error);
      if (ctx == NULL || (profiles = signetd_profiles_list (ctx->profiles, NULL, &error)) == NULL)
        return fail (error);
      json_builder_begin_array (b);
      for (guint i = 0; i < profiles->len; i++)
        {
          SignetdProfile *p = g_ptr_array_index (profiles, i);

          if (json)
            json_builder_add_value (b, signetd_profile_to_json (p, TRUE));
          else
            g_print ("%-32s v%-6" G_GINT64_FORMAT " %-20s %-10s %s%u field%s\n", p->id,
                     p->version, p->model, signetd_profile_class_to_string (p->klass),
                     p->critical ? "critical " : "", p->fields->len,
                     p->fields->len == 1 ? "" : "s");
        }
      return finish_list (b, json);
    }
  if (argc != 3)
    return usage_error (octx, "expected: profile add FILE.json | profile remove ID");
  if (g_str_equal (verb, "add"))
    {
      g_autofree char *text = NULL;
      g_autoptr(SignetdProfile) p = NULL;
      gsize len = 0;

      if (!g_file_get_contents (argv[2], &text, &len, &error))
        return fail (error);
      if (len > SIGNETD_PROFILE_DOCUMENT_MAX)
        return usage_error (octx, "the file is larger than 64 KiB");
      ctx = context_open (data_dir, &error);
      if (ctx == NULL)
        return fail (error);
      p = signetd_profiles_add (ctx->profiles, text, len, now_seconds (), &error);
      if (p == NULL)
        {
          g_printerr ("signetd: %s: %s\n", argv[2], error->message);
          return error->domain == SIGNETD_PROFILES_ERROR &&
                 error->code != SIGNETD_PROFILES_ERROR_FAILED ? SIGNETD_EXIT_USAGE
                                                              : SIGNETD_EXIT_FAILURE;
        }
      if (!audited (ctx, "profile.add", NULL, &error, "tit", "id", p->id, "version", p->version,
                    "model", p->model))
        return fail (error);
      g_print ("added profile %s version %" G_GINT64_FORMAT "\n", p->id, p->version);
      return SIGNETD_EXIT_OK;
    }
  if (g_str_equal (verb, "remove"))
    {
      ctx = context_open (data_dir, &error);
      if (ctx == NULL || !signetd_profiles_remove (ctx->profiles, argv[2], now_seconds (), &error) ||
          !audited (ctx, "profile.remove", NULL, &error, "t", "id", argv[2]))
        return fail (error);
      g_print ("removed profile %s\n", argv[2]);
      return SIGNETD_EXIT_OK;
    }
  return usage_error (octx, "unknown profile command");
}

static const struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *help;
} commands[] = {
  { "init", cmd_init, "create a data directory" },
  { "serve", cmd_serve, "serve the HTTPS API" },
  { "user", cmd_user, "add, list, disable, enable, reset-otp, unlock, delete users" },
  { "ca", cmd_ca, "trust a manufacturer CA" },
  { "revoke", cmd_revoke, "revoke a session, a user or a device" },
  { "key", cmd_key, "rotate the authority key" },
  { "secret", cmd_secret, "set, list, delete vault secrets" },
  { "profile", cmd_profile, "add, list, remove device profiles" },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: signetd COMMAND --data-dir DIR [OPTION…]\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-8s %s\n", commands[i].name, commands[i].help);
  fprintf (out, "\nsignetd COMMAND --help tells more.\n%s\n", EXIT_CODES_HELP);
}

int
signetd_cli_main (int    argc,
                  char **argv)
{
  g_autofree char *prgname = NULL;

  if (argc < 2)
    {
      print_usage (stderr);
      return SIGNETD_EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") ||
      g_str_equal (argv[1], "help"))
    {
      print_usage (stdout);
      return SIGNETD_EXIT_OK;
    }
  if (g_str_equal (argv[1], "--version"))
    {
      g_print ("signetd %s\n", PACKAGE_VERSION);
      return SIGNETD_EXIT_OK;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      {
        prgname = g_strdup_printf ("signetd %s", commands[i].name);
        g_set_prgname (prgname);
        return commands[i].run (argc - 1, argv + 1);
      }
  g_printerr ("signetd: unknown command “%s”\n", argv[1]);
  print_usage (stderr);
  return SIGNETD_EXIT_USAGE;
}
