/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The offline upload queue (core/signet-log-uploader.c) against a real
 * signetd on 127.0.0.1 (suite integration; the first argument is the
 * signetd binary): a log written while the service is down is queued and
 * uploaded when it returns; a restarted uploader sends only the tail; a
 * lost acknowledgement does not duplicate records; the service's copy
 * equals the local file byte for byte.
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <curl/curl.h>
#include <glib/gstdio.h>

#include "signet-eventlog.h"
#include "signet-log-uploader.h"
#include "signet-pop.h"
#include "signet-service-client.h"
#include "signet-service-error.h"
#include "signet-totp.h"

#define PASSWORD "correct horse battery staple"

static const char *signetd_path;

typedef struct {
  char *tmp;
  char *data;
  char *stderr_path;
  GSubprocess *proc;
  char *url;
  char *listen;      /* 127.0.0.1:PORT, kept across restarts */
  GBytes *ca;
  GHashTable *secrets;
} Signetd;

static Signetd srv;

static void
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        rm_rf (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static char *
run_cli (const char *stdin_text,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) p = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *arg;
  va_list ap;

  g_ptr_array_add (argv, (char *) signetd_path);
  va_start (ap, stdin_text);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
  p = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (p, stdin_text, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (p))
    g_error ("signetd %s failed: %s", (char *) argv->pdata[1], err);
  return g_steal_pointer (&out);
}

static void
add_user (const char *name,
          const char *role)
{
  g_autofree char *out = run_cli (PASSWORD "\n", "user", "--data-dir", srv.data, "add", name,
                                  "--role", role, NULL);
  g_autoptr(GRegex) re = g_regex_new ("otpauth://totp/\\S*[?&]secret=([A-Z2-7]+)", 0, 0, NULL);
  g_autoptr(GMatchInfo) m = NULL;

  g_assert_true (g_regex_match (re, out, 0, &m));
  g_hash_table_insert (srv.secrets, g_strdup (name), g_match_info_fetch (m, 1));
}

static char *
totp_at (const char *user,
         gint64      offset)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) key = signet_totp_secret_from_base32 (g_hash_table_lookup (srv.secrets, user),
                                                          &error);
  char *code;

  g_assert_no_error (error);
  code = signet_totp_generate (key, g_get_real_time () / G_USEC_PER_SEC + offset, 30, 6,
                               SIGNET_TOTP_ALGORITHM_SHA1, &error);
  g_assert_no_error (error);
  return code;
}

/* Serve on srv.listen (127.0.0.1:0 the first time: the port is then kept). */
static void
signetd_serve (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GRegex) re = NULL;
  g_autoptr(GMatchInfo) m = NULL;
  g_autofree char *line = NULL;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
  g_subprocess_launcher_set_stderr_file_path (launcher, srv.stderr_path);
  srv.proc = g_subprocess_launcher_spawn (launcher, &error, signetd_path, "serve", "--data-dir",
                                          srv.data, "--listen", srv.listen, NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (srv.proc));
  line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  re = g_regex_new ("^listening on (https://(127\\.0\\.0\\.1:\\d+))$", 0, 0, NULL);
  if (line == NULL || !g_regex_match (re, line, 0, &m))
    {
      g_autofree char *err = NULL;

      g_file_get_contents (srv.stderr_path, &err, NULL, NULL);
      g_error ("signetd did not start (%s): %s", line != NULL ? line : "no line",
               err != NULL ? err : "?");
    }
  g_free (srv.url);
  srv.url = g_match_info_fetch (m, 1);
  g_free (srv.listen);
  srv.listen = g_match_info_fetch (m, 2);
}

static void
signetd_stop (void)
{
  if (srv.proc == NULL)
    return;
  g_subprocess_send_signal (srv.proc, SIGTERM);
  g_subprocess_wait (srv.proc, NULL, NULL);
  g_clear_object (&srv.proc);
}

static void
signetd_setup (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cert_path = NULL;
  char *pem = NULL;
  gsize len = 0;

  srv.secrets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  srv.tmp = g_dir_make_tmp ("signet-uploader-XXXXXX", &error);
  g_assert_no_error (error);
  srv.data = g_build_filename (srv.tmp, "data", NULL);
  srv.stderr_path = g_build_filename (srv.tmp, "signetd.stderr", NULL);
  srv.listen = g_strdup ("127.0.0.1:0");
  g_free (run_cli (NULL, "init", "--data-dir", srv.data, NULL));
  add_user ("alice", "technician");
  add_user ("sam", "supervisor");
  /* A code is taken once per 30 s step: each test signs in its own users. */
  add_user ("bob", "technician");
  add_user ("sue", "supervisor");
  add_user ("tina", "technician");
  add_user ("sid", "supervisor");
  signetd_serve ();
  cert_path = g_build_filename (srv.data, "tls-cert.pem", NULL);
  g_assert_true (g_file_get_contents (cert_path, &pem, &len, &error));
  srv.ca = g_bytes_new_take (pem, len);
}

static void
signetd_teardown (void)
{
  signetd_stop ();
  rm_rf (srv.tmp);
  g_free (srv.tmp);
  g_free (srv.data);
  g_free (srv.stderr_path);
  g_free (srv.url);
  g_free (srv.listen);
  g_clear_pointer (&srv.ca, g_bytes_unref);
  g_clear_pointer (&srv.secrets, g_hash_table_unref);
}

static void
store_result (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
await (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return g_steal_pointer (slot);
}

/* Sign in with the code of the TOTP step offset seconds away (a second
 * sign-in of a user in the same step would be a replay). */
static SignetServiceSession *
login_at (SignetServiceClient *c,
          const char          *user,
          gint64               offset)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = totp_at (user, offset);
  GAsyncResult *slot = NULL;
  g_autoptr(GAsyncResult) r = NULL;
  SignetServiceSession *s;

  signet_service_client_login_async (c, user, PASSWORD, code, NULL, NULL, store_result, &slot);
  r = await (&slot);
  s = signet_service_client_login_finish (c, r, &error);
  g_assert_no_error (error);
  return s;
}

static SignetServiceSession *
login (SignetServiceClient *c,
       const char          *user)
{
  return login_at (c, user, 0);
}

static gboolean
flush (SignetLogUploader *u,
       GError           **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr(GAsyncResult) r = NULL;

  signet_log_uploader_flush_async (u, NULL, store_result, &slot);
  r = await (&slot);
  return signet_log_uploader_flush_finish (u, r, error);
}

/* GET /v1/logs/{id} as the supervisor: the stored bytes and the
 * service's verdict. */
static GBytes *
get_stored_log (SignetServiceClient  *c,
                SignetServiceSession *sup,
                const char           *id,
                char                **verdict)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetServiceLog) log = NULL;
  GAsyncResult *slot = NULL;
  g_autoptr(GAsyncResult) r = NULL;

  signet_service_client_log_fetch_async (c, sup, id, NULL, store_result, &slot);
  r = await (&slot);
  log = signet_service_client_log_fetch_finish (c, r, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (log->id, ==, id);
  *verdict = g_strdup (log->verdict);
  return g_bytes_ref (log->log);
}

static void
append_n (SignetEventLog *log,
          guint           n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SignetEventData) d = signet_event_data_new ();

      g_assert_true (signet_event_data_add_uint (d, "step", i, &error));
      g_assert_true (signet_event_log_append (log, "device.apply", "SN-000042", d, &error));
      g_assert_no_error (error);
    }
}

static GBytes *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  return g_bytes_new_take (contents, len);
}

static void
test_offline_queue (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetServiceClient) c = NULL;
  g_autoptr(SignetServiceSession) s = NULL;
  g_autoptr(SignetServiceSession) sup = NULL;
  g_autoptr(GBytes) k0 = NULL;
  g_autoptr(SignetEventLog) log = NULL;
  g_autoptr(SignetLogUploader) u = NULL;
  g_autoptr(GBytes) head = NULL;
  g_autoptr(GBytes) local = NULL;
  g_autoptr(GBytes) stored = NULL;
  g_autoptr(GBytes) old_state = NULL;
  g_autofree char *logs_dir = NULL;
  g_autofree char *state_dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *verdict = NULL;
  g_autofree char *state_file = NULL;
  gsize first_size;

  if (signetd_path == NULL)
    {
      g_test_skip ("no signetd given (first argument)");
      return;
    }
  c = signet_service_client_new (srv.url, srv.ca, &error);
  g_assert_no_error (error);
  s = login (c, "alice");
  k0 = signet_service_session_take_log_key (s);
  g_assert_nonnull (k0);

  logs_dir = g_build_filename (srv.tmp, "logs", NULL);
  state_dir = g_build_filename (srv.tmp, "upload-state", NULL);
  g_assert_cmpint (g_mkdir (logs_dir, 0700), ==, 0);
  path = g_build_filename (logs_dir, "session-1.log", NULL);
  log = signet_event_log_create (path, k0, "alice", signet_service_session_get_id (s), NULL,
                                 &error);
  g_assert_no_error (error);
  append_n (log, 10);

  /* The service is down: the log is queued, nothing is lost, a retry is
   * scheduled. */
  signetd_stop ();
  u = signet_log_uploader_new (c, state_dir, &error);
  g_assert_no_error (error);
  signet_log_uploader_set_session (u, s);
  g_assert_true (signet_log_uploader_add_log (u, path, log, &error));
  g_assert_false (flush (u, &error));
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_UNREACHABLE);
  g_clear_error (&error);
  g_assert_cmpint (signet_log_uploader_get_acked (u, path, NULL), ==, 0);
  g_assert_cmpuint (signet_log_uploader_get_retry_delay (u), ==, SIGNET_LOG_UPLOADER_RETRY_MIN_MS);
  /* Sealed before the cut: 10 records + session.start + a seal. */
  g_assert_cmpint (signet_log_uploader_get_pending (u, path), ==, 12);
  g_assert_cmpint (signet_log_uploader_get_pending (u, path), ==,
                   (gint64) signet_event_log_get_next_seq (log));
  g_assert_false (flush (u, &error));
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_UNREACHABLE);
  g_clear_error (&error);
  g_assert_cmpuint (signet_log_uploader_get_retry_delay (u), ==,
                    2 * SIGNET_LOG_UPLOADER_RETRY_MIN_MS);

  /* The service returns: everything is acknowledged. */
  signetd_serve ();
  g_assert_true (flush (u, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (signet_log_uploader_get_retry_delay (u), ==, 0);
  g_assert_cmpint (signet_log_uploader_get_acked (u, path, &head), ==,
                   (gint64) signet_event_log_get_next_seq (log));
  {
    g_autoptr(GBytes) local_head = signet_event_log_dup_chain_head (log);

    g_assert_true (g_bytes_equal (head, local_head));
  }
  g_assert_cmpint (signet_log_uploader_get_pending (u, path), ==, 0);
  first_size = g_bytes_get_size (local = read_file (path));
  g_assert_cmpuint (signet_log_uploader_get_bytes_sent (u), ==, first_size);
  g_clear_pointer (&local, g_bytes_unref);
  /* Nothing new: nothing sent. */
  g_assert_true (flush (u, &error));
  g_assert_cmpuint (signet_log_uploader_get_bytes_sent (u), ==, first_size);
  state_file = NULL;
  {
    g_autoptr(GDir) d = g_dir_open (state_dir, 0, &error);
    const char *name;

    g_assert_no_error (error);
    while ((name = g_dir_read_name (d)) != NULL)
      if (g_str_has_suffix (name, ".upload"))
        state_file = g_build_filename (state_dir, name, NULL);
  }
  g_assert_nonnull (state_file);
  old_state = read_file (state_file);

  /* More records; a new uploader from the state dir sends only the tail
   * (the log is queued again from its state file). */
  append_n (log, 5);
  g_clear_object (&u);
  u = signet_log_uploader_new (c, state_dir, &error);
  g_assert_no_error (error);
  signet_log_uploader_set_session (u, s);
  g_assert_cmpint (signet_log_uploader_get_acked (u, path, NULL), ==, 12);
  g_assert_true (signet_log_uploader_add_log (u, path, log, &error));
  g_assert_true (flush (u, &error));
  g_assert_no_error (error);
  local = read_file (path);
  g_assert_cmpuint (signet_log_uploader_get_bytes_sent (u), ==,
                    g_bytes_get_size (local) - first_size);
  g_assert_cmpint (signet_log_uploader_get_acked (u, path, NULL), ==,
                   (gint64) signet_event_log_get_next_seq (log));

  /* The session ends; the acknowledgement of the last upload is lost (the
   * old state file is back, as after a crash before it was written): the
   * overlap is taken byte for byte, nothing is duplicated. */
  g_assert_true (signet_event_log_close_session (log, &error));
  g_assert_no_error (error);
  g_clear_object (&u);
  g_assert_true (g_file_set_contents (state_file, g_bytes_get_data (old_state, NULL),
                                      g_bytes_get_size (old_state), &error));
  u = signet_log_uploader_new (c, state_dir, &error);
  g_assert_no_error (error);
  signet_log_uploader_set_session (u, s);
  g_assert_true (flush (u, &error));
  g_assert_no_error (error);
  g_clear_pointer (&local, g_bytes_unref);
  local = read_file (path);
  g_assert_cmpint (signet_log_uploader_get_acked (u, path, NULL), ==,
                   (gint64) signet_event_log_get_next_seq (log));
  g_assert_cmpint (signet_log_uploader_get_pending (u, path), ==, 0);

  /* The service's copy is the local file, byte for byte, and verifies. */
  sup = login (c, "sam");
  stored = get_stored_log (c, sup, signet_service_session_get_id (s), &verdict);
  g_assert_true (g_bytes_equal (stored, local));
  g_assert_cmpstr (verdict, ==, "verified");

  g_clear_object (&u);
}

static char *
only_state_file (const char *state_dir)
{
  g_autoptr(GDir) d = g_dir_open (state_dir, 0, NULL);
  const char *name;
  char *found = NULL;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".upload"))
      {
        g_assert_null (found);
        found = g_build_filename (state_dir, name, NULL);
      }
  g_assert_nonnull (found);
  return found;
}

/* The state claims more than the service holds (say, the service's data
 * was restored from a backup): the service refuses the tail with 409, the
 * uploader re-reads the acknowledgement by sending from record 0, and the
 * service ends with the whole log, once. */
static void
test_conflict (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetServiceClient) c = NULL;
  g_autoptr(SignetServiceSession) s = NULL;
  g_autoptr(SignetServiceSession) sup = NULL;
  g_autoptr(GBytes) k0 = NULL;
  g_autoptr(SignetEventLog) log = NULL;
  g_autoptr(SignetLogUploader) u = NULL;
  g_autoptr(GBytes) head = NULL;
  g_autoptr(GBytes) local = NULL;
  g_autoptr(GBytes) stored = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *state_dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *state_file = NULL;
  g_autofree char *state = NULL;
  g_autofree char *head_hex = NULL;
  g_autofree char *verdict = NULL;

  if (signetd_path == NULL)
    {
      g_test_skip ("no signetd given (first argument)");
      return;
    }
  c = signet_service_client_new (srv.url, srv.ca, &error);
  g_assert_no_error (error);
  s = login (c, "bob");
  k0 = signet_service_session_take_log_key (s);
  dir = g_dir_make_tmp ("signet-uploader-conflict-XXXXXX", &error);
  g_assert_no_error (error);
  state_dir = g_build_filename (dir, "state", NULL);
  path = g_build_filename (dir, "session-2.log", NULL);
  log = signet_event_log_create (path, k0, "bob", signet_service_session_get_id (s), NULL,
                                 &error);
  g_assert_no_error (error);
  append_n (log, 5);
  u = signet_log_uploader_new (c, state_dir, &error);
  g_assert_no_error (error);
  signet_log_uploader_set_session (u, s);
  g_assert_true (signet_log_uploader_add_log (u, path, log, &error));
  g_assert_true (flush (u, &error));
  g_assert_no_error (error);
  g_assert_cmpint (signet_log_uploader_get_acked (u, path, NULL), ==, 7);
  g_clear_object (&u);

  /* More records, sealed, never uploaded; the state is made to claim them. */
  append_n (log, 5);
  g_assert_true (signet_event_log_seal (log, &error));
  head = signet_event_log_dup_chain_head (log);
  {
    const guint8 *h = g_bytes_get_data (head, NULL);
    GString *hex = g_string_new (NULL);

    for (gsize i = 0; i < g_bytes_get_size (head); i++)
      g_string_append_printf (hex, "%02x", h[i]);
    head_hex = g_string_free (hex, FALSE);
  }
  state_file = only_state_file (state_dir);
  state = g_strdup_printf ("[upload]\npath=%s\nnext_seq=%" G_GUINT64_FORMAT "\nhead=%s\n", path,
                           signet_event_log_get_next_seq (log), head_hex);
  g_assert_true (g_file_set_contents (state_file, state, -1, &error));
  append_n (log, 3);
  g_assert_true (signet_event_log_close_session (log, &error));

  u = signet_log_uploader_new (c, state_dir, &error);
  g_assert_no_error (error);
  signet_log_uploader_set_session (u, s);
  g_assert_true (flush (u, &error));
  g_assert_no_error (error);
  g_assert_cmpint (signet_log_uploader_get_acked (u, path, NULL), ==,
                   (gint64) signet_event_log_get_next_seq (log));

  local = read_file (path);
  sup = login (c, "sue");
  stored = get_stored_log (c, sup, signet_service_session_get_id (s), &verdict);
  g_assert_true (g_bytes_equal (stored, local));
  g_assert_cmpstr (verdict, ==, "verified");
  g_clear_object (&u);
  rm_rf (dir);
}

static gboolean
logout (SignetServiceClient  *c,
        SignetServiceSession *s,
        GError              **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr(GAsyncResult) r = NULL;

  signet_service_client_logout_async (c, s, NULL, store_result, &slot);
  r = await (&slot);
  return signet_service_client_logout_finish (c, r, error);
}

/* Session 1's log could not be uploaded before it ended (the service was
 * down at sign-out) and the app was restarted: the same state dir,
 * flushed with session 2 of the same user, delivers session 1's log to
 * session 1 (POST /v1/logs?session=) and session 2's to session 2. */
static void
test_later_session (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetServiceClient) c = NULL;
  g_autoptr(SignetServiceSession) s1 = NULL;
  g_autoptr(SignetServiceSession) s2 = NULL;
  g_autoptr(SignetServiceSession) sup = NULL;
  g_autoptr(GBytes) k0 = NULL;
  g_autoptr(GBytes) k0_2 = NULL;
  g_autoptr(SignetEventLog) log = NULL;
  g_autoptr(SignetEventLog) log2 = NULL;
  g_autoptr(SignetLogUploader) u = NULL;
  g_autoptr(GBytes) local = NULL;
  g_autoptr(GBytes) stored = NULL;
  g_autoptr(GBytes) local2 = NULL;
  g_autoptr(GBytes) stored2 = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *state_dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *path2 = NULL;
  g_autofree char *state_file = NULL;
  g_autofree char *state = NULL;
  g_autofree char *session_line = NULL;
  g_autofree char *verdict = NULL;
  g_autofree char *verdict2 = NULL;
  g_autofree char *s1_id = NULL;

  if (signetd_path == NULL)
    {
      g_test_skip ("no signetd given (first argument)");
      return;
    }
  c = signet_service_client_new (srv.url, srv.ca, &error);
  g_assert_no_error (error);
  dir = g_dir_make_tmp ("signet-uploader-later-XXXXXX", &error);
  g_assert_no_error (error);
  state_dir = g_build_filename (dir, "state", NULL);

  /* Session 1: a log, queued; the service goes down before sign-out. */
  s1 = login (c, "tina");
  s1_id = g_strdup (signet_service_session_get_id (s1));
  k0 = signet_service_session_take_log_key (s1);
  path = g_build_filename (dir, "session-1.log", NULL);
  log = signet_event_log_create (path, k0, "tina", s1_id, NULL, &error);
  g_assert_no_error (error);
  append_n (log, 6);
  u = signet_log_uploader_new (c, state_dir, &error);
  g_assert_no_error (error);
  signet_log_uploader_set_auto_retry (u, FALSE);
  signet_log_uploader_set_session (u, s1);
  g_assert_true (signet_log_uploader_add_log (u, path, log, &error));
  signetd_stop ();
  g_assert_true (signet_event_log_close_session (log, &error));
  g_assert_false (flush (u, &error));
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_UNREACHABLE);
  g_clear_error (&error);
  g_assert_false (logout (c, s1, &error));
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_UNREACHABLE);
  g_clear_error (&error);
  g_assert_cmpint (signet_log_uploader_get_acked (u, path, NULL), ==, 0);
  /* The state file names the log's session already. */
  state_file = only_state_file (state_dir);
  g_assert_true (g_file_get_contents (state_file, &state, NULL, &error));
  session_line = g_strconcat ("\nsession=", s1_id, "\n", NULL);
  g_assert_nonnull (strstr (state, session_line));
  /* The app quits. */
  g_clear_object (&u);
  g_clear_object (&log);

  /* Later: the service is back, the app starts again, the technician
   * signs in (session 2, the next code) and starts a log of its own. */
  signetd_serve ();
  s2 = login_at (c, "tina", 30);
  g_assert_cmpstr (signet_service_session_get_id (s2), !=, s1_id);
  k0_2 = signet_service_session_take_log_key (s2);
  path2 = g_build_filename (dir, "session-2.log", NULL);
  log2 = signet_event_log_create (path2, k0_2, "tina", signet_service_session_get_id (s2), NULL,
                                  &error);
  g_assert_no_error (error);
  append_n (log2, 2);
  u = signet_log_uploader_new (c, state_dir, &error);
  g_assert_no_error (error);
  signet_log_uploader_set_session (u, s2);
  g_assert_true (signet_log_uploader_add_log (u, path2, log2, &error));
  /* session.start, 6 records, session.end and the final seal. */
  g_assert_cmpint (signet_log_uploader_get_pending (u, path), ==, 1 + 6 + 2);
  g_assert_true (flush (u, &error));
  g_assert_no_error (error);
  g_assert_cmpint (signet_log_uploader_get_acked (u, path, NULL), ==, 1 + 6 + 2);
  g_assert_cmpint (signet_log_uploader_get_pending (u, path), ==, 0);
  g_assert_cmpint (signet_log_uploader_get_acked (u, path2, NULL), ==,
                   (gint64) signet_event_log_get_next_seq (log2));

  /* The service holds each under its own session, verified. */
  sup = login (c, "sid");
  local = read_file (path);
  stored = get_stored_log (c, sup, s1_id, &verdict);
  g_assert_true (g_bytes_equal (stored, local));
  g_assert_cmpstr (verdict, ==, "verified");
  local2 = read_file (path2);
  stored2 = get_stored_log (c, sup, signet_service_session_get_id (s2), &verdict2);
  g_assert_true (g_bytes_equal (stored2, local2));
  g_assert_cmpstr (verdict2, ==, "truncated");   /* sealed at the cut, not ended yet */
  g_clear_object (&u);
  rm_rf (dir);
}

/* A log that does not match its acknowledgement is never uploaded. */
static void
test_diverged (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetServiceClient) c = NULL;
  g_autoptr(SignetLogUploader) u = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("signet-uploader-XXXXXX", NULL);
  g_autofree char *state_dir = g_build_filename (tmp, "state", NULL);
  g_autofree char *path = g_build_filename (tmp, "a.log", NULL);
  g_autofree char *state_file = NULL;
  g_autofree char *state = NULL;
  static const guint8 k[32] = { 7 };
  g_autoptr(GBytes) k0 = g_bytes_new_static (k, sizeof k);
  g_autoptr(SignetEventLog) log = NULL;

  if (signetd_path == NULL)
    {
      g_test_skip ("no signetd given (first argument)");
      rm_rf (tmp);
      return;
    }
  /* Nothing is contacted: the log is refused before. */
  c = signet_service_client_new (srv.url, srv.ca, &error);
  g_assert_no_error (error);
  log = signet_event_log_create (path, k0, "alice", "s-1", NULL, &error);
  g_assert_no_error (error);
  append_n (log, 3);
  u = signet_log_uploader_new (c, state_dir, &error);
  g_assert_no_error (error);
  g_assert_true (signet_log_uploader_add_log (u, path, NULL, &error));
  g_clear_object (&u);
  /* Claim an acknowledgement with another head. */
  {
    g_autoptr(GDir) d = g_dir_open (state_dir, 0, NULL);

    state_file = g_build_filename (state_dir, g_dir_read_name (d), NULL);
  }
  state = g_strdup_printf ("[upload]\npath=%s\nnext_seq=2\nhead=%064d\n", path, 0);
  g_assert_true (g_file_set_contents (state_file, state, -1, NULL));
  u = signet_log_uploader_new (c, state_dir, &error);
  g_assert_no_error (error);
  signet_log_uploader_set_auto_retry (u, FALSE);
  g_assert_false (flush (u, &error));
  g_assert_error (error, SIGNET_LOG_UPLOADER_ERROR, SIGNET_LOG_UPLOADER_ERROR_DIVERGED);
  g_clear_object (&u);
  rm_rf (tmp);
}

int
main (int   argc,
      char *argv[])
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  if (argc > 1)
    signetd_path = argv[1];
  curl_global_init (CURL_GLOBAL_DEFAULT);
  g_test_add_func ("/signet/log-uploader/offline-queue", test_offline_queue);
  g_test_add_func ("/signet/log-uploader/conflict", test_conflict);
  g_test_add_func ("/signet/log-uploader/diverged", test_diverged);
  g_test_add_func ("/signet/log-uploader/later-session", test_later_session);
  if (signetd_path != NULL)
    signetd_setup ();
  rc = g_test_run ();
  if (signetd_path != NULL)
    signetd_teardown ();
  curl_global_cleanup ();
  return rc;
}
