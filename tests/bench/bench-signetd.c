/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-signetd: signetd's token issuance and sign-in, each printed next
 * to a baseline measured in the same run on the same machine (DESIGN §9:
 * issuance >= 50 % of the raw ES256 signing rate). Prints numbers;
 * asserts nothing about time.
 *
 *   meson test -C _build --benchmark --verbose signetd
 *   bench-signetd PATH/TO/signetd              (or run it directly)
 *
 * Measurements:
 *   (a) raw ES256: EVP_DigestSign over a message the size of an issued
 *       token's Sig_structure — the baseline of every rate below;
 *   (b) in-process issuance through signetd's own code
 *       (signetd_tokens_login: session row + CWT + sign + token row, one
 *       transaction; signetd_tokens_refresh likewise) into a real SQLite
 *       database in a temporary directory (WAL, synchronous = FULL as
 *       signetd opens it); once more with synchronous = NORMAL, to show
 *       what the per-commit fsync costs;
 *   (c) end to end: refreshes/s over HTTPS with keep-alive from a libsoup 3
 *       client against a real `signetd serve` child on 127.0.0.1 (a fresh
 *       PoP proof each), with 1 and with CONCURRENCY requests in flight
 *       (signetd commits the requests that arrive together as one group,
 *       signetd-store.h);
 *   (d) sign-in latency p50/p90/p99 over N_LOGINS logins, each by its own
 *       user (a TOTP step is good once per user), codes made in-process
 *       from the secret `signetd user add` printed; baseline: one argon2id
 *       verification (signetd_password_verify), which dominates it.
 *
 * The client and the server share the machine's cores, as they do in
 * the load test; the ratios carry from one machine to another better than
 * the rates. BENCH_SIGNETD_LOG=1 prints the tail of the server's request
 * log (SIGNETD_DURATION_MS: the time spent inside signetd).
 */
#include "config.h"

#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <openssl/evp.h>

#include "signet-base64url.h"
#include "signet-crypto.h"
#include "signet-key.h"
#include "signet-otpauth.h"
#include "signet-pop.h"
#include "signet-secret.h"
#include "signet-totp.h"
#include "signetd-accounts.h"
#include "signetd-keys.h"
#include "signetd-store.h"
#include "signetd-tokens.h"
#include "signetd-trust.h"

#define RUN_SECONDS 1.0
#define ROUNDS 9
#define E2E_SECONDS 3.0
#define CONCURRENCY 16
#define GROUP 32
#define N_LOGINS 100
#define PASSWORD "correct horse battery staple"
#define ISSUER "https://127.0.0.1:0"

static double
now_s (void)
{
  return (double) g_get_monotonic_time () / G_USEC_PER_SEC;
}

static gint64
unix_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static void
report (const char *what,
        double      ours,
        const char *unit,
        const char *base_what,
        double      base)
{
  g_print ("%-34s %10.1f %-6s  baseline %-22s %10.1f %-6s  ratio %.3f\n",
           what, ours, unit, base_what, base, unit, ours / base);
}

static void
check (gboolean  ok,
       GError   *error,
       const char *what)
{
  if (!ok)
    g_error ("%s: %s", what, error != NULL ? error->message : "failed");
}

/* ---- (a) raw ES256 -------------------------------------------------------- */

static double
raw_es256_rate (SignetKey    *key,
                const guint8 *msg,
                gsize         len,
                double        seconds)
{
  double start = now_s (), now;
  guint64 n = 0;

  do
    {
      for (int i = 0; i < 16; i++)
        {
          g_autoptr(EVP_MD_CTX) md = EVP_MD_CTX_new ();
          guint8 sig[80];
          size_t sig_len = sizeof sig;

          if (EVP_DigestSignInit (md, NULL, EVP_sha256 (), NULL, signet_key_get_pkey (key)) != 1 ||
              EVP_DigestSign (md, sig, &sig_len, msg, len) != 1)
            g_error ("EVP_DigestSign failed");
        }
      n += 16;
      now = now_s ();
    }
  while (now - start < seconds);
  return (double) n / (now - start);
}

/* ---- (b) in-process issuance ---------------------------------------------- */

typedef struct {
  SignetdStore *store;
  SignetdKeys *keys;
  SignetdAccounts *accounts;
  SignetdTrust *trust;
  SignetdTokens *tokens;
  SignetdUser *user;
  SignetKey *pop_pub;
  SignetdCaller *caller;     /* for refresh: a session opened by login */
} InProcess;

static void
in_process_clear (InProcess *ip)
{
  g_clear_pointer (&ip->caller, signetd_caller_free);
  g_clear_pointer (&ip->pop_pub, signet_key_unref);
  g_clear_pointer (&ip->user, signetd_user_free);
  g_clear_pointer (&ip->tokens, signetd_tokens_free);
  g_clear_pointer (&ip->trust, signetd_trust_free);
  g_clear_pointer (&ip->accounts, signetd_accounts_free);
  g_clear_pointer (&ip->keys, signetd_keys_free);
  g_clear_pointer (&ip->store, signetd_store_free);
}

/* A data directory as `signetd init` makes it (without TLS files), one
 * technician, and a first session for the refresh measurement. Returns
 * the size of that session's token. */
static gsize
in_process_setup (InProcess  *ip,
                  const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *db = g_build_filename (dir, SIGNETD_STORE_FILE, NULL);
  g_autofree char *kid = NULL;
  g_autoptr(SignetKey) pop = signet_key_generate (&error);
  g_autoptr(GBytes) pub = NULL;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(SignetdIssued) issued = NULL;
  char *uri;

  check (pop != NULL, error, "generate a PoP key");
  check (signetd_keys_create_master (dir, &error), error, "master key");
  ip->store = signetd_store_open (db, TRUE, &error);
  check (ip->store != NULL, error, "open the database");
  ip->keys = signetd_keys_new (dir, ip->store, &error);
  check (ip->keys != NULL, error, "load the master key");
  kid = signetd_keys_rotate (ip->keys, unix_now (), &error);
  check (kid != NULL, error, "authority key");
  ip->accounts = signetd_accounts_new (ip->store, ip->keys);
  ip->trust = signetd_trust_new (ip->store, ip->keys);
  uri = signetd_accounts_add (ip->accounts, "bench", SIGNETD_ROLE_TECHNICIAN, PASSWORD,
                              unix_now (), &error);
  check (uri != NULL, error, "add a user");
  signet_secret_string_free (uri);
  ip->user = signetd_accounts_lookup (ip->accounts, "bench", &error);
  check (ip->user != NULL, error, "look the user up");
  ip->tokens = signetd_tokens_new (ip->store, ip->keys, ip->trust, ISSUER, 900, 8 * 3600);

  /* The service only ever holds the public half. */
  pub = signet_key_get_public_bytes (pop);
  ip->pop_pub = signet_key_new_from_public_bytes (pub, &error);
  check (ip->pop_pub != NULL, error, "public PoP key");

  issued = signetd_tokens_login (ip->tokens, ip->user, ip->pop_pub, unix_now (), &error);
  check (issued != NULL, error, "first token");
  raw = signet_base64url_decode (issued->token, -1, 8192, &error);
  check (raw != NULL, error, "decode the token");

  /* What signetd_tokens_authenticate() would hand a refresh. */
  ip->caller = g_new0 (SignetdCaller, 1);
  ip->caller->session = g_strdup (issued->session);
  ip->caller->user_id = ip->user->id;
  ip->caller->user = g_strdup (ip->user->name);
  memcpy (ip->caller->claims.cnf.pub, g_bytes_get_data (pub, NULL), SP_P256_PUB_LEN);
  return g_bytes_get_size (raw);
}

/* Tokens per second, group tokens per transaction (1: each issuance
 * commits its own, as a lone request does; more: signetd's group commit
 * with that many requests arriving together). */
static double
issue_rate (InProcess *ip,
            gboolean   refresh,
            guint      group,
            double     seconds)
{
  double start = now_s (), now;
  guint64 n = 0;

  do
    {
      g_autoptr(GError) error = NULL;

      if (group > 1)
        check (signetd_store_group_begin (ip->store, &error), error, "begin a group");
      for (guint i = 0; i < group; i++)
        {
          g_autoptr(SignetdIssued) issued = NULL;

          if (refresh)
            issued = signetd_tokens_refresh (ip->tokens, ip->caller, unix_now (), &error);
          else
            issued = signetd_tokens_login (ip->tokens, ip->user, ip->pop_pub, unix_now (),
                                           &error);
          check (issued != NULL, error, "issue a token");
        }
      if (group > 1)
        check (signetd_store_group_commit (ip->store, &error), error, "commit a group");
      n += group;
      now = now_s ();
    }
  while (now - start < seconds);
  return (double) n / (now - start);
}

static int cmp_double (gconstpointer a, gconstpointer b);

/* This machine's speed drifts by a third from one second to the next
 * (shared cores): issuance and its baseline are measured in alternating
 * slices, and the ratio reported is the median of the slices' ratios. */
static void
paired (InProcess    *ip,
        SignetKey    *key,
        const guint8 *msg,
        gsize         len,
        gboolean      refresh,
        guint         group,
        const char   *what)
{
  double ours[ROUNDS], base[ROUNDS], ratio[ROUNDS];

  for (guint i = 0; i < ROUNDS; i++)
    {
      base[i] = raw_es256_rate (key, msg, len, RUN_SECONDS / ROUNDS);
      ours[i] = issue_rate (ip, refresh, group, RUN_SECONDS / ROUNDS);
      ratio[i] = ours[i] / base[i];
    }
  qsort (ours, ROUNDS, sizeof ours[0], cmp_double);
  qsort (base, ROUNDS, sizeof base[0], cmp_double);
  qsort (ratio, ROUNDS, sizeof ratio[0], cmp_double);
  g_print ("%-34s %10.1f tok/s   baseline raw ES256 sign %10.1f op/s   ratio %.3f "
           "(slices %.3f..%.3f)\n", what, ours[ROUNDS / 2], base[ROUNDS / 2],
           ratio[ROUNDS / 2], ratio[0], ratio[ROUNDS - 1]);
}

static void
set_synchronous (InProcess  *ip,
                 const char *level)
{
  g_autofree char *sql = g_strdup_printf ("PRAGMA synchronous = %s", level);

  if (sqlite3_exec (signetd_store_get_db (ip->store), sql, NULL, NULL, NULL) != SQLITE_OK)
    g_error ("%s failed", sql);
}

/* ---- (c), (d) a real signetd over HTTPS ----------------------------------- */

typedef struct {
  SignetKey *key;            /* the client's PoP key (private) */
  char *token;               /* base64url */
  SoupMessage *msg;          /* in flight */
} Client;

typedef struct {
  char *signetd;
  char *data_dir;
  char *errlog;
  GSubprocess *server;
  char *url;
  SoupSession *session;
  GMainLoop *loop;
  Client clients[N_LOGINS];
  guint in_flight;
  double deadline;
  guint64 done;
} E2E;

static char *
run_cli (E2E        *e,
         const char *stdin_text,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  va_list ap;
  const char *arg;

  g_ptr_array_add (argv, e->signetd);
  va_start (ap, stdin_text);
  for (arg = va_arg (ap, const char *); arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, (gpointer) "--data-dir");
  g_ptr_array_add (argv, e->data_dir);
  g_ptr_array_add (argv, NULL);

  proc = g_subprocess_newv ((const char * const *) argv->pdata,
                            G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                            G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  check (proc != NULL, error, "spawn signetd");
  check (g_subprocess_communicate_utf8 (proc, stdin_text, NULL, &out, &err, &error), error,
         "run signetd");
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    g_error ("signetd %s failed: %s", (const char *) argv->pdata[1], err);
  return g_steal_pointer (&out);
}

static void
e2e_start (E2E *e)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GTlsDatabase) anchors = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *out = NULL;
  g_autofree char *cert = g_build_filename (e->data_dir, "tls-cert.pem", NULL);

  out = run_cli (e, NULL, "init", NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  /* One log line per request: to a file, as a service's would go. */
  g_subprocess_launcher_set_stderr_file_path (launcher, e->errlog);
  e->server = g_subprocess_launcher_spawn (launcher, &error, e->signetd, "serve", "--data-dir",
                                           e->data_dir, "--listen", "127.0.0.1:0", NULL);
  check (e->server != NULL, error, "spawn signetd serve");
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (e->server));
  line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  if (line == NULL || !g_str_has_prefix (line, "listening on https://127.0.0.1:"))
    g_error ("signetd did not start: %s", line != NULL ? line : "(no output)");
  e->url = g_strdup (line + strlen ("listening on "));

  anchors = g_tls_file_database_new (cert, &error);
  check (anchors != NULL, error, "load the service certificate");
  e->session = soup_session_new_with_options ("max-conns-per-host", CONCURRENCY,
                                              "timeout", 60, NULL);
  soup_session_set_tls_database (e->session, anchors);
}

static void
e2e_stop (E2E *e)
{
  g_autoptr(GError) error = NULL;

  g_clear_object (&e->session);
  if (e->server != NULL)
    {
      g_subprocess_send_signal (e->server, SIGTERM);
      if (!g_subprocess_wait_check (e->server, NULL, &error))
        g_printerr ("# signetd serve: %s\n", error->message);
      g_clear_object (&e->server);
    }
}

/* POST path with body, PoP-signed if client is not NULL (its token). */
static SoupMessage *
new_post (E2E        *e,
          const char *path,
          const char *body,
          Client     *client)
{
  g_autofree char *uri = g_strconcat (e->url, path, NULL);
  g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));
  SoupMessage *msg = soup_message_new (SOUP_METHOD_POST, uri);

  soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  /* libsoup opens a new connection (and pays a TLS handshake) for every
   * request it does not consider idempotent, so for every POST; libcurl,
   * the tool's client, reuses the connection. A refresh that libsoup
   * re-sent on a connection the server had closed would be refused as a
   * replayed proof, never applied twice. */
  soup_message_add_flags (msg, SOUP_MESSAGE_IDEMPOTENT);
  if (client != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) token = signet_base64url_decode (client->token, -1, 8192, &error);
      g_autofree char *auth = NULL;
      g_autofree char *proof = NULL;

      check (token != NULL, error, "decode the token");
      proof = signet_pop_create (client->key, token, "POST", path, bytes, unix_now (), &error);
      check (proof != NULL, error, "make a PoP proof");
      auth = g_strconcat ("PoP ", client->token, NULL);
      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
      soup_message_headers_replace (soup_message_get_request_headers (msg),
                                    SIGNET_POP_HEADER_NAME, proof);
    }
  return msg;
}

/* The token of a 200 answer, or die. */
static char *
take_token (SoupMessage *msg,
            GBytes      *answer,
            GError      *error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  JsonObject *obj;

  check (answer != NULL, error, "request");
  if (soup_message_get_status (msg) != SOUP_STATUS_OK)
    g_error ("%s: %u %.*s", g_uri_get_path (soup_message_get_uri (msg)),
             soup_message_get_status (msg), (int) g_bytes_get_size (answer),
             (const char *) g_bytes_get_data (answer, NULL));
  check (json_parser_load_from_data (parser, g_bytes_get_data (answer, NULL),
                                     (gssize) g_bytes_get_size (answer), &local_error),
         local_error, "parse the answer");
  obj = json_node_get_object (json_parser_get_root (parser));
  return g_strdup (json_object_get_string_member (obj, "token"));
}

static void send_refresh (E2E *e, Client *c);

typedef struct {
  E2E *e;
  Client *c;
} Next;

static gboolean
send_next (gpointer data)
{
  Next *next = data;

  send_refresh (next->e, next->c);
  g_free (next);
  return G_SOURCE_REMOVE;
}

static void
on_refresh_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Client *c = user_data;
  E2E *e = g_object_get_data (G_OBJECT (c->msg), "e2e");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) answer = soup_session_send_and_read_finish (SOUP_SESSION (source), result,
                                                                &error);
  g_autoptr(SoupMessage) msg = g_steal_pointer (&c->msg);

  g_free (c->token);
  c->token = take_token (msg, answer, error);
  e->done++;
  if (now_s () < e->deadline)
    {
      /* From the loop, not from here: libsoup gives the connection back to
       * its pool only after this callback. */
      Next *next = g_new (Next, 1);

      next->e = e;
      next->c = c;
      g_idle_add (send_next, next);
    }
  else if (--e->in_flight == 0)
    g_main_loop_quit (e->loop);
}

static void
send_refresh (E2E    *e,
              Client *c)
{
  c->msg = new_post (e, "/v1/refresh", "{}", c);
  g_object_set_data (G_OBJECT (c->msg), "e2e", e);
  soup_session_send_and_read_async (e->session, c->msg, G_PRIORITY_DEFAULT, NULL,
                                    on_refresh_done, c);
}

static double
refresh_rate (E2E  *e,
              guint concurrency)
{
  double start = now_s ();

  e->done = 0;
  e->in_flight = concurrency;
  e->deadline = start + E2E_SECONDS;
  for (guint i = 0; i < concurrency; i++)
    send_refresh (e, &e->clients[i]);
  g_main_loop_run (e->loop);
  return (double) e->done / (now_s () - start);
}

static int
cmp_double (gconstpointer a,
            gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
percentile (const double *sorted,
            guint         n,
            guint         p)
{
  /* Nearest rank. */
  guint rank = (p * n + 99) / 100;

  return sorted[MAX (rank, 1) - 1];
}

/* Each user signs in once, one request at a time; the latencies in ms. */
static void
login_latencies (E2E    *e,
                 char  **uris,
                 double *ms)
{
  for (guint i = 0; i < N_LOGINS; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SignetOtpauth) otp = signet_otpauth_parse (uris[i], &error);
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autoptr(SoupMessage) msg = NULL;
      g_autoptr(GBytes) answer = NULL;
      g_auto(SignetSecretString) code = NULL;
      g_auto(SignetSecretString) body = NULL;
      g_autofree char *name = g_strdup_printf ("bench%03u", i);
      Client *c = &e->clients[i];
      double start;

      check (otp != NULL, error, "parse the otpauth URI");
      code = signet_totp_generate (signet_otpauth_get_secret (otp), unix_now (),
                                   signet_otpauth_get_period (otp),
                                   signet_otpauth_get_digits (otp),
                                   signet_otpauth_get_algorithm (otp), &error);
      check (code != NULL, error, "make a TOTP code");
      c->key = signet_key_generate (&error);
      check (c->key != NULL, error, "generate a PoP key");

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "username");
      json_builder_add_string_value (builder, name);
      json_builder_set_member_name (builder, "password");
      json_builder_add_string_value (builder, PASSWORD);
      json_builder_set_member_name (builder, "otp");
      json_builder_add_string_value (builder, code);
      json_builder_set_member_name (builder, "pop_key");
      json_builder_add_value (builder, signet_key_to_jwk_node (c->key));
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      body = json_to_string (root, FALSE);

      start = now_s ();
      msg = new_post (e, "/v1/login", body, NULL);
      answer = soup_session_send_and_read (e->session, msg, NULL, &error);
      c->token = take_token (msg, answer, error);
      ms[i] = (now_s () - start) * 1000.0;
    }
}

static double
argon2_verify_ms (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = signetd_password_hash (PASSWORD, &error);
  double times[9];

  check (hash != NULL, error, "argon2id hash");
  for (guint i = 0; i < G_N_ELEMENTS (times); i++)
    {
      double start = now_s ();

      if (!signetd_password_verify (hash, PASSWORD))
        g_error ("argon2id verify failed");
      times[i] = (now_s () - start) * 1000.0;
    }
  qsort (times, G_N_ELEMENTS (times), sizeof times[0], cmp_double);
  return times[G_N_ELEMENTS (times) / 2];
}

/* rm -r path (what this program made: plain files and directories). */
static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *ip_dir = NULL;
  g_autofree guint8 *msg = NULL;
  g_autoptr(SignetKey) authority = NULL;
  g_auto(GStrv) uris = NULL;
  InProcess ip = { 0 };
  E2E e = { 0 };
  double ms[N_LOGINS];
  double es256, argon2, r1, rn;
  gsize token_len;

  if (argc != 2)
    {
      g_printerr ("usage: %s PATH/TO/signetd\n", argv[0]);
      return 2;
    }
  check (signet_totp_init (&error), error, "liboath");
  tmp = g_dir_make_tmp ("bench-signetd-XXXXXX", &error);
  check (tmp != NULL, error, "temporary directory");
  ip_dir = g_build_filename (tmp, "in-process", NULL);
  check (g_mkdir (ip_dir, 0700) == 0, NULL, "mkdir");

  g_print ("# bench-signetd: %s, SQLite %s, %.1f s per rate, %u cores\n",
           OpenSSL_version (OPENSSL_VERSION), sqlite3_libversion (), RUN_SECONDS,
           g_get_num_processors ());

  /* (b) first: its token gives (a) its message size. */
  token_len = in_process_setup (&ip, ip_dir);
  authority = signet_key_generate (&error);
  check (authority != NULL, error, "generate a key");
  /* The Sig_structure is the token plus a dozen bytes of framing. */
  msg = g_malloc (token_len + 16);
  for (gsize i = 0; i < token_len + 16; i++)
    msg[i] = (guint8) i;
  g_print ("raw ES256 sign over %" G_GSIZE_FORMAT " B (EVP_DigestSign); medians of %d "
           "alternating slices\n", token_len + 16, ROUNDS);
  paired (&ip, authority, msg, token_len + 16, FALSE, 1, "issue: login, alone");
  paired (&ip, authority, msg, token_len + 16, TRUE, 1, "issue: refresh, alone");
  paired (&ip, authority, msg, token_len + 16, FALSE, GROUP,
          "issue: login, " G_STRINGIFY (GROUP) " per group commit");
  paired (&ip, authority, msg, token_len + 16, TRUE, GROUP,
          "issue: refresh, " G_STRINGIFY (GROUP) " per group");
  set_synchronous (&ip, "NORMAL");
  paired (&ip, authority, msg, token_len + 16, FALSE, 1, "issue: login, alone, sync=NORMAL");
  set_synchronous (&ip, "FULL");
  es256 = raw_es256_rate (authority, msg, token_len + 16, RUN_SECONDS);
  in_process_clear (&ip);

  /* (c) and (d) against a real signetd. */
  e.signetd = argv[1];
  e.data_dir = g_build_filename (tmp, "data", NULL);
  e.errlog = g_build_filename (tmp, "signetd.log", NULL);
  e.loop = g_main_loop_new (NULL, FALSE);
  e2e_start (&e);
  uris = g_new0 (char *, N_LOGINS + 1);
  for (guint i = 0; i < N_LOGINS; i++)
    {
      g_autofree char *name = g_strdup_printf ("bench%03u", i);
      g_autofree char *out = run_cli (&e, PASSWORD "\n", "user", "add", name, "--role",
                                      "technician", NULL);
      const char *start = strstr (out, "otpauth://");

      if (start == NULL)
        g_error ("user add printed no otpauth:// URI");
      uris[i] = g_strndup (start, strcspn (start, " \t\r\n"));
    }

  login_latencies (&e, uris, ms);
  argon2 = argon2_verify_ms ();
  r1 = refresh_rate (&e, 1);
  rn = refresh_rate (&e, CONCURRENCY);

  report ("https refresh, 1 in flight", r1, "req/s", "raw ES256 sign", es256);
  report ("https refresh, " G_STRINGIFY (CONCURRENCY) " in flight", rn, "req/s",
          "raw ES256 sign", es256);
  qsort (ms, N_LOGINS, sizeof ms[0], cmp_double);
  g_print ("https login latency (%u users)     p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  "
           "max %.1f ms\n", N_LOGINS, percentile (ms, N_LOGINS, 50),
           percentile (ms, N_LOGINS, 90), percentile (ms, N_LOGINS, 99), ms[N_LOGINS - 1]);
  report ("https login p50", percentile (ms, N_LOGINS, 50), "ms", "argon2id verify", argon2);

  if (g_getenv ("BENCH_SIGNETD_LOG") != NULL)
    {
      g_autofree char *log = NULL;

      g_file_get_contents (e.errlog, &log, NULL, NULL);
      g_print ("%s", log != NULL ? log + MAX (0, (gssize) strlen (log) - 2000) : "");
    }
  e2e_stop (&e);
  for (guint i = 0; i < N_LOGINS; i++)
    {
      g_clear_pointer (&e.clients[i].key, signet_key_unref);
      g_free (e.clients[i].token);
    }
  g_main_loop_unref (e.loop);
  g_free (e.url);
  g_free (e.data_dir);
  g_free (e.errlog);

  remove_tree (tmp);
  return 0;
}
