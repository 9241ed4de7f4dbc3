/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The token service client (core/signet-service-client.c).
 *
 * /signet/service-client/local/...: against small servers in this
 * process (TLS by GIO on 127.0.0.1, scripted answers): the error table,
 * retries and who is never retried, bounded and malformed answers,
 * timeouts, cancellation, certificate mismatch, key pins, proxies from
 * the environment, and the proof of possession each call carries,
 * verified with core's verifier.
 *
 * /signet/service-client/signetd/...: against a real signetd on
 * 127.0.0.1 (its path is the first argument): sign-in, refresh, step-up,
 * trust, profiles, a refused seal, log upload, sign-out, wrong password,
 * back-off and lockout, wrong CA, cancellation, a stopped service.
 *
 * The whole run keeps https_proxy pointed at a local "proxy" that never
 * answers: a loopback call that went through it would time out.
 * Everything GLib logs is captured, and secrets are looked for in it.
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "signet-base64url.h"
#include "signet-crypto.h"
#include "signet-crypto-port.h"
#include "signet-eventlog.h"
#include "signet-key.h"
#include "signet-pop.h"
#include "signet-secret.h"
#include "signet-service-client.h"
#include "signet-totp.h"
#include "signet-x509.h"
#include "sp-cose.h"
#include "sp-cwt.h"

#define PASSWORD "correct horse battery staple"

/* ---- captured log -------------------------------------------------------- */

static GMutex log_lock;
static GString *log_text;

static GLogWriterOutput
capture_writer (GLogLevelFlags   level,
                const GLogField *fields,
                gsize            n_fields,
                gpointer         user_data)
{
  g_mutex_lock (&log_lock);
  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE") && fields[i].value != NULL)
      {
        if (fields[i].length < 0)
          g_string_append (log_text, fields[i].value);
        else
          g_string_append_len (log_text, fields[i].value, fields[i].length);
        g_string_append_c (log_text, '\n');
      }
  g_mutex_unlock (&log_lock);
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    return g_log_writer_default (level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

static void
assert_not_logged (const char *secret)
{
  g_mutex_lock (&log_lock);
  g_assert_null (strstr (log_text->str, secret));
  g_mutex_unlock (&log_lock);
}

/* ---- waiting for results ------------------------------------------------- */

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

static char *
call_health (SignetServiceClient *c,
             GCancellable        *cancellable,
             GError             **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr(GAsyncResult) r = NULL;

  signet_service_client_health_async (c, cancellable, store_result, &slot);
  r = await (&slot);
  return signet_service_client_health_finish (c, r, error);
}

static SignetServiceSession *
call_login (SignetServiceClient *c,
            const char          *user,
            const char          *password,
            const char          *otp,
            SignetKey           *key,
            GCancellable        *cancellable,
            GError             **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr(GAsyncResult) r = NULL;

  signet_service_client_login_async (c, user, password, otp, key, cancellable, store_result,
                                     &slot);
  r = await (&slot);
  return signet_service_client_login_finish (c, r, error);
}

static gboolean
call_refresh (SignetServiceClient  *c,
              SignetServiceSession *s,
              GError              **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr(GAsyncResult) r = NULL;

  signet_service_client_refresh_async (c, s, NULL, store_result, &slot);
  r = await (&slot);
  return signet_service_client_refresh_finish (c, r, error);
}

static gboolean
call_step_up (SignetServiceClient  *c,
              SignetServiceSession *s,
              const char           *otp,
              GError              **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr(GAsyncResult) r = NULL;

  signet_service_client_step_up_async (c, s, otp, NULL, store_result, &slot);
  r = await (&slot);
  return signet_service_client_step_up_finish (c, r, error);
}

static gboolean
call_logout (SignetServiceClient  *c,
             SignetServiceSession *s,
             GError              **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr(GAsyncResult) r = NULL;

  signet_service_client_logout_async (c, s, NULL, store_result, &slot);
  r = await (&slot);
  return signet_service_client_logout_finish (c, r, error);
}

static SignetServiceTrust *
call_trust (SignetServiceClient *c,
            GError             **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr(GAsyncResult) r = NULL;

  signet_service_client_trust_async (c, NULL, store_result, &slot);
  r = await (&slot);
  return signet_service_client_trust_finish (c, r, error);
}

static GPtrArray *
call_profiles (SignetServiceClient  *c,
               SignetServiceSession *s,
               const char           *model,
               GError              **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr(GAsyncResult) r = NULL;

  signet_service_client_profiles_async (c, s, model, NULL, store_result, &slot);
  r = await (&slot);
  return signet_service_client_profiles_finish (c, r, error);
}

static GPtrArray *
call_seal (SignetServiceClient  *c,
           SignetServiceSession *s,
           GBytes               *evidence,
           GPtrArray            *chain,
           const char           *profile,
           const char * const   *fields,
           GError              **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr(GAsyncResult) r = NULL;

  signet_service_client_seal_async (c, s, evidence, chain, profile, fields, NULL, store_result,
                                    &slot);
  r = await (&slot);
  return signet_service_client_seal_finish (c, r, error);
}

static SignetServiceLogReceipt *
call_upload_to (SignetServiceClient  *c,
                SignetServiceSession *s,
                const char           *log_session,
                GBytes               *segment,
                GError              **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr(GAsyncResult) r = NULL;

  signet_service_client_logs_upload_async (c, s, log_session, segment, NULL, store_result, &slot);
  r = await (&slot);
  return signet_service_client_logs_upload_finish (c, r, error);
}

static SignetServiceLogReceipt *
call_upload (SignetServiceClient  *c,
             SignetServiceSession *s,
             GBytes               *segment,
             GError              **error)
{
  return call_upload_to (c, s, NULL, segment, error);
}

static GPtrArray *
call_search (SignetServiceClient         *c,
             SignetServiceSession        *s,
             const SignetServiceLogQuery *query,
             char                       **next_cursor,
             GError                     **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr(GAsyncResult) r = NULL;

  signet_service_client_logs_search_async (c, s, query, NULL, store_result, &slot);
  r = await (&slot);
  return signet_service_client_logs_search_finish (c, r, next_cursor, error);
}

static SignetServiceLog *
call_fetch (SignetServiceClient  *c,
            SignetServiceSession *s,
            const char           *id,
            GError              **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr(GAsyncResult) r = NULL;

  signet_service_client_log_fetch_async (c, s, id, NULL, store_result, &slot);
  r = await (&slot);
  return signet_service_client_log_fetch_finish (c, r, error);
}

/* ---- certificates -------------------------------------------------------- */

typedef struct {
  char *cert_pem;
  char *key_pem;
} TestCert;

/* A self-signed server certificate for names. */
static void
make_cert (TestCert           *out,
           const char * const *names)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetKey) key = signet_key_generate (&error);

  g_assert_no_error (error);
  out->cert_pem = signet_x509_self_signed_pem (key, "localhost", names, 2, &error);
  g_assert_no_error (error);
  out->key_pem = signet_key_to_pkcs8_pem (key, &error);
  g_assert_no_error (error);
}

static TestCert cert_a;   /* the fake servers': 127.0.0.1 and localhost */
static TestCert cert_b;   /* another one: the wrong CA */
static TestCert cert_c;   /* for localhost only */

static GBytes *
pem_bytes (const char *pem)
{
  return g_bytes_new (pem, strlen (pem));
}

/* ---- a scripted HTTPS server in this process ----------------------------- */

typedef struct {
  GThreadedSocketService *service;
  GTlsCertificate *cert;    /* NULL: plain TCP (the proxy) */
  guint16 port;
  GCancellable *stop;
  GMutex lock;
  GPtrArray *script;        /* GBytes answers in order, the last repeating; NULL: stall */
  GPtrArray *heads;         /* (char *) request heads received */
  GPtrArray *bodies;        /* GBytes request bodies */
} FakeServer;

static void
bytes_unref0 (gpointer b)
{
  if (b != NULL)
    g_bytes_unref (b);
}

static void
fake_server_release (gpointer data)
{
  FakeServer *fs = data;

  g_clear_object (&fs->cert);
  g_clear_object (&fs->stop);
  g_mutex_clear (&fs->lock);
  g_ptr_array_unref (fs->script);
  g_ptr_array_unref (fs->heads);
  g_ptr_array_unref (fs->bodies);
}

static void
fake_server_unref (FakeServer *fs)
{
  g_atomic_rc_box_release_full (fs, fake_server_release);
}

static void
fake_server_unref_closure (gpointer  data,
                           GClosure *closure)
{
  fake_server_unref (data);
}

static gsize
content_length (const char *head)
{
  g_autofree char *lower = g_ascii_strdown (head, -1);
  const char *p = strstr (lower, "\r\ncontent-length:");

  return p != NULL ? (gsize) g_ascii_strtoull (p + 17, NULL, 10) : 0;
}

static gboolean
fake_server_run (GThreadedSocketService *service,
                 GSocketConnection      *connection,
                 GObject                *source,
                 gpointer                user_data)
{
  FakeServer *fs = user_data;
  g_autoptr(GIOStream) tls = NULL;
  g_autoptr(GString) head = g_string_new (NULL);
  g_autofree guint8 *body = NULL;
  GIOStream *stream = G_IO_STREAM (connection);
  GInputStream *in;
  GBytes *answer = NULL;
  gsize len, got = 0;
  guint8 c;

  if (fs->cert != NULL)
    {
      tls = g_tls_server_connection_new (stream, fs->cert, NULL);
      if (tls == NULL || !g_tls_connection_handshake (G_TLS_CONNECTION (tls), fs->stop, NULL))
        return TRUE;
      stream = tls;
    }
  in = g_io_stream_get_input_stream (stream);
  while (!g_str_has_suffix (head->str, "\r\n\r\n"))
    {
      if (head->len > 65536 || g_input_stream_read (in, &c, 1, fs->stop, NULL) != 1)
        return TRUE;
      g_string_append_c (head, (char) c);
    }
  len = MIN (content_length (head->str), 4 * 1024 * 1024);
  body = g_malloc (MAX (len, 1));
  if (len > 0 && !g_input_stream_read_all (in, body, len, &got, fs->stop, NULL))
    return TRUE;

  g_mutex_lock (&fs->lock);
  g_ptr_array_add (fs->heads, g_strdup (head->str));
  g_ptr_array_add (fs->bodies, g_bytes_new (body, got));
  if (fs->script->len > 0)
    {
      answer = g_ptr_array_index (fs->script, MIN (fs->heads->len, fs->script->len) - 1);
      if (answer != NULL)
        g_bytes_ref (answer);
    }
  g_mutex_unlock (&fs->lock);

  if (answer == NULL)
    {
      /* Stall: hold the connection until the client or the test ends it. */
      while (g_input_stream_read (in, &c, 1, fs->stop, NULL) == 1)
        ;
      return TRUE;
    }
  g_output_stream_write_all (g_io_stream_get_output_stream (stream),
                             g_bytes_get_data (answer, NULL), g_bytes_get_size (answer),
                             NULL, fs->stop, NULL);
  g_bytes_unref (answer);
  g_io_stream_close (stream, NULL, NULL);
  return TRUE;
}

static FakeServer *
fake_server_new (const TestCert *cert)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  FakeServer *fs = g_atomic_rc_box_new0 (FakeServer);

  g_mutex_init (&fs->lock);
  fs->stop = g_cancellable_new ();
  fs->script = g_ptr_array_new_with_free_func (bytes_unref0);
  fs->heads = g_ptr_array_new_with_free_func (g_free);
  fs->bodies = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  if (cert != NULL)
    {
      g_autofree char *pem = g_strconcat (cert->cert_pem, cert->key_pem, NULL);

      fs->cert = g_tls_certificate_new_from_pem (pem, -1, &error);
      g_assert_no_error (error);
    }
  fs->service = G_THREADED_SOCKET_SERVICE (g_threaded_socket_service_new (8));
  g_socket_listener_add_address (G_SOCKET_LISTENER (fs->service), addr, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  fs->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  /* The handler's reference lives as long as the service, which worker
   * threads keep alive until they return. */
  g_signal_connect_data (fs->service, "run", G_CALLBACK (fake_server_run),
                         g_atomic_rc_box_acquire (fs), fake_server_unref_closure, 0);
  g_socket_service_start (G_SOCKET_SERVICE (fs->service));
  return fs;
}

static void
fake_server_free (FakeServer *fs)
{
  g_cancellable_cancel (fs->stop);
  g_socket_service_stop (G_SOCKET_SERVICE (fs->service));
  g_socket_listener_close (G_SOCKET_LISTENER (fs->service));
  g_clear_object (&fs->service);
  fake_server_unref (fs);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeServer, fake_server_free)

static char *
fake_server_url (FakeServer *fs)
{
  return g_strdup_printf ("https://127.0.0.1:%u", fs->port);
}

/* Set the answers (GBytes, NULL to stall), forget earlier requests. */
static void
fake_server_script (FakeServer *fs,
                    ...)
{
  va_list ap;
  GBytes *b;

  g_mutex_lock (&fs->lock);
  g_ptr_array_set_size (fs->script, 0);
  g_ptr_array_set_size (fs->heads, 0);
  g_ptr_array_set_size (fs->bodies, 0);
  va_start (ap, fs);
  while ((b = va_arg (ap, GBytes *)) != (GBytes *) fs)
    g_ptr_array_add (fs->script, b);
  va_end (ap);
  g_mutex_unlock (&fs->lock);
}
#define SCRIPT(fs, ...) fake_server_script ((fs), __VA_ARGS__, (GBytes *) (fs))

static guint
fake_server_requests (FakeServer *fs)
{
  guint n;

  g_mutex_lock (&fs->lock);
  n = fs->heads->len;
  g_mutex_unlock (&fs->lock);
  return n;
}

static char *
fake_server_head (FakeServer *fs,
                  guint       i)
{
  char *head;

  g_mutex_lock (&fs->lock);
  g_assert_cmpuint (i, <, fs->heads->len);
  head = g_strdup (g_ptr_array_index (fs->heads, i));
  g_mutex_unlock (&fs->lock);
  return head;
}

static GBytes *
fake_server_body (FakeServer *fs,
                  guint       i)
{
  GBytes *body;

  g_mutex_lock (&fs->lock);
  g_assert_cmpuint (i, <, fs->bodies->len);
  body = g_bytes_ref (g_ptr_array_index (fs->bodies, i));
  g_mutex_unlock (&fs->lock);
  return body;
}

/* An HTTP answer; extra is more header lines ("Name: value\r\n"). */
static GBytes *
answer (guint       status,
        const char *extra,
        const char *ctype,
        const char *body)
{
  g_autoptr(GString) s = g_string_new (NULL);

  g_string_append_printf (s, "HTTP/1.1 %u Whatever\r\nConnection: close\r\n", status);
  if (ctype != NULL)
    g_string_append_printf (s, "Content-Type: %s\r\n", ctype);
  g_string_append_printf (s, "Content-Length: %" G_GSIZE_FORMAT "\r\n%s\r\n%s",
                          strlen (body), extra != NULL ? extra : "", body);
  return g_bytes_new (s->str, s->len);
}

static GBytes *
json_answer (guint       status,
             const char *extra,
             const char *json)
{
  return answer (status, extra, "application/json", json);
}

static GBytes *
api_error (guint       status,
           const char *extra,
           const char *code,
           const char *message)
{
  g_autofree char *json = g_strdup_printf ("{\"error\":\"%s\",\"message\":\"%s\"}", code, message);

  return json_answer (status, extra, json);
}

/* Bytes of a string literal, without its NUL. */
static GBytes *
text_bytes (const char *text)
{
  return g_bytes_new_static (text, strlen (text));
}

#define HEALTH_OK "{\"status\":\"ok\",\"version\":\"9.9.9\"}"

static SignetServiceClient *
fake_client (FakeServer *fs,
             const char *ca_pem)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *url = fake_server_url (fs);
  g_autoptr(GBytes) ca = pem_bytes (ca_pem);
  SignetServiceClient *c = signet_service_client_new (url, ca, &error);

  g_assert_no_error (error);
  /* Short back-off: the tests count attempts, they never time them. */
  signet_service_client_set_retry_delay (c, 10);
  signet_service_client_set_timeout (c, 20);
  return c;
}

/* ---- local: construction ------------------------------------------------- */

static void
test_new (void)
{
  static const char * const bad_urls[] = {
    "http://127.0.0.1:8443", "127.0.0.1:8443", "https://", "https://127.0.0.1/v1",
    "https://user@127.0.0.1", "https://127.0.0.1/?x=1", "https://127.0.0.1/#f", "ftp://x",
  };
  g_autoptr(GBytes) ca = pem_bytes (cert_a.cert_pem);
  g_autoptr(GBytes) junk = pem_bytes ("-----BEGIN CERTIFICATE-----\nAAAA\n"
                                       "-----END CERTIFICATE-----\n");
  g_autoptr(GBytes) key_only = pem_bytes (cert_a.key_pem);
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetServiceClient) c = NULL;
  g_autoptr(SignetServiceClient) c6 = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (bad_urls); i++)
    {
      g_autoptr(SignetServiceClient) bad = signet_service_client_new (bad_urls[i], ca, &error);

      g_assert_null (bad);
      g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_INVALID_REQUEST);
      g_clear_error (&error);
    }
  c = signet_service_client_new ("https://127.0.0.1:8443", junk, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_INVALID_REQUEST);
  g_clear_error (&error);
  c = signet_service_client_new ("https://127.0.0.1:8443", key_only, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_INVALID_REQUEST);
  g_clear_error (&error);
  c = signet_service_client_new_for_ca_file ("https://127.0.0.1", "/nonexistent/ca.pem", &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_INVALID_REQUEST);
  g_clear_error (&error);

  c = signet_service_client_new ("HTTPS://signet.example:8443/", ca, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (signet_service_client_get_base_url (c), ==, "https://signet.example:8443");
  c6 = signet_service_client_new ("https://[::1]:9/", ca, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (signet_service_client_get_base_url (c6), ==, "https://[::1]:9");

  /* Settings are clamped to their ranges. */
  signet_service_client_set_timeout (c, 0);
  g_assert_cmpuint (signet_service_client_get_timeout (c), ==, 1);
  signet_service_client_set_max_retries (c, 1000);
  g_assert_cmpuint (signet_service_client_get_max_retries (c), ==, 10);
}

static void
test_pin_format (void)
{
  g_autoptr(GBytes) ca = pem_bytes (cert_a.cert_pem);
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetServiceClient) c = signet_service_client_new ("https://127.0.0.1:1", ca, &error);
  g_autofree char *pin = signet_service_spki_pin_from_pem (cert_a.cert_pem, &error);
  g_autofree char *two = NULL;
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (pin, "sha256//"));
  g_assert_cmpuint (strlen (pin), ==, 8 + 44);
  g_assert_true (signet_service_client_set_spki_pin (c, pin, &error));
  g_assert_no_error (error);
  two = g_strconcat (pin, ";", pin, NULL);
  g_assert_true (signet_service_client_set_spki_pin (c, two, &error));
  g_assert_true (signet_service_client_set_spki_pin (c, NULL, &error));
  {
    g_autofree char *b64 = g_strdup (pin + 8);
    g_autofree char *sha1 = g_strconcat ("sha1//", b64, NULL);
    g_autofree char *unpadded = g_strndup (pin, strlen (pin) - 1);
    g_autofree char *spaced = g_strdup (pin);
    g_autofree char *loose = g_strdup (pin);
    g_autofree char *trailing = g_strconcat (pin, ";", NULL);
    const char *bad[] = { "", "sha256//", "sha256//AAAA", sha1, unpadded, spaced, loose,
                          trailing, "sha256//============================================" };

    spaced[20] = ' ';
    /* Non-zero unused bits in the last character: not canonical. */
    {
      static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      gsize idx = (gsize) (strchr (alphabet, loose[8 + 42]) - alphabet);

      loose[8 + 42] = alphabet[idx + 1];
    }
    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_assert_false (signet_service_client_set_spki_pin (c, bad[i], &error));
        g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_INVALID_REQUEST);
        g_clear_error (&error);
      }
  }
  g_assert_null (signet_service_spki_pin_from_pem ("not a certificate", &error));
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_INVALID_REQUEST);
}

/* ---- local: the error table ---------------------------------------------- */

static void
test_error_table (void)
{
  static const struct {
    guint status;
    const char *api_error;
    const char *message;
    gint64 retry_after;
    SignetServiceError code;
    const char *says;      /* a part of our message */
  } rows[] = {
    { 400, "invalid_request", "member \"otp\" missing", -1,
      SIGNET_SERVICE_ERROR_INVALID_REQUEST, "member \"otp\" missing" },
    { 401, "invalid_credentials", "wrong user name, password or code", -1,
      SIGNET_SERVICE_ERROR_INVALID_CREDENTIALS, "Wrong user name, password or code" },
    { 401, "unauthorized", "x", -1, SIGNET_SERVICE_ERROR_UNAUTHORIZED, "sign in again" },
    { 403, "forbidden", "untrusted device", -1, SIGNET_SERVICE_ERROR_FORBIDDEN,
      "untrusted device" },
    { 403, "step_up_required", "step-up required", -1, SIGNET_SERVICE_ERROR_STEP_UP_REQUIRED,
      "step-up" },
    /* the code decides, not the words */
    { 403, "forbidden", "step-up required", -1, SIGNET_SERVICE_ERROR_FORBIDDEN, "step-up" },
    { 404, "not_found", "unknown profile", -1, SIGNET_SERVICE_ERROR_NOT_FOUND,
      "unknown profile" },
    { 405, "method_not_allowed", "method not allowed", -1,
      SIGNET_SERVICE_ERROR_METHOD_NOT_ALLOWED, "different versions" },
    { 409, "conflict", "record 3: seq-gap", -1, SIGNET_SERVICE_ERROR_CONFLICT, "record 3" },
    { 413, "payload_too_large", "the request body is larger than 64 KiB", -1,
      SIGNET_SERVICE_ERROR_PAYLOAD_TOO_LARGE, "64 KiB" },
    { 415, "unsupported_media_type", "Content-Type must be application/cbor-seq", -1,
      SIGNET_SERVICE_ERROR_UNSUPPORTED_MEDIA_TYPE, "cbor-seq" },
    { 423, "locked", "the account is disabled", -1, SIGNET_SERVICE_ERROR_LOCKED,
      "administrator" },
    { 429, "rate_limited", "too many failed attempts; retry later", 42,
      SIGNET_SERVICE_ERROR_RATE_LIMITED, "Too many attempts: try again in 42 s" },
    { 429, "rate_limited", NULL, -1, SIGNET_SERVICE_ERROR_RATE_LIMITED, "try again later" },
    { 500, "internal_error", "internal error", -1, SIGNET_SERVICE_ERROR_SERVER_ERROR,
      "HTTP 500" },
    /* Without a known code, the status decides. */
    { 502, NULL, NULL, -1, SIGNET_SERVICE_ERROR_SERVER_ERROR, "HTTP 502" },
    { 401, "something_new", NULL, -1, SIGNET_SERVICE_ERROR_UNAUTHORIZED, "sign in again" },
    { 403, NULL, NULL, -1, SIGNET_SERVICE_ERROR_FORBIDDEN, "HTTP 403" },
    { 418, NULL, NULL, -1, SIGNET_SERVICE_ERROR_BAD_RESPONSE, "HTTP 418" },
    { 302, NULL, NULL, -1, SIGNET_SERVICE_ERROR_BAD_RESPONSE, "HTTP 302" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr(GError) error = NULL;

      signet_service_error_set_from_api (&error, rows[i].status, rows[i].api_error,
                                         rows[i].message, rows[i].retry_after);
      g_assert_error (error, SIGNET_SERVICE_ERROR, (gint) rows[i].code);
      g_assert_nonnull (strstr (error->message, rows[i].says));
      g_assert_cmpuint (signet_service_error_get_status (error), ==, rows[i].status);
      g_assert_cmpint (signet_service_error_get_retry_after (error), ==, rows[i].retry_after);
      g_assert_cmpstr (signet_service_error_get_api_error (error), ==, rows[i].api_error);
      /* The details survive a copy (the domain is an extended one). */
      {
        g_autoptr(GError) copy = g_error_copy (error);

        g_assert_cmpint (signet_service_error_get_retry_after (copy), ==, rows[i].retry_after);
        g_assert_cmpstr (signet_service_error_get_api_error (copy), ==, rows[i].api_error);
      }
    }

  /* The service's message is quoted cleaned: no control characters (no
   * forged log lines), valid UTF-8, bounded. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) longer = g_string_new ("member \"x\":\nforged line\r\x1b[31m \xff");

    for (int i = 0; i < 100; i++)
      g_string_append (longer, " and more");
    signet_service_error_set_from_api (&error, 400, "invalid_request", longer->str, -1);
    g_assert_null (strchr (error->message, '\n'));
    g_assert_null (strchr (error->message, '\r'));
    g_assert_null (strchr (error->message, '\x1b'));
    g_assert_true (g_utf8_validate (error->message, -1, NULL));
    g_assert_cmpuint (strlen (error->message), <, SIGNET_SERVICE_MESSAGE_MAX + 64);
  }
  {
    g_autoptr(GError) e = NULL;

    signet_service_error_set (&e, SIGNET_SERVICE_ERROR_TIMEOUT, 0, NULL, -1, "t");
    g_assert_true (signet_service_error_is_transient (e));
    g_clear_error (&e);
    signet_service_error_set (&e, SIGNET_SERVICE_ERROR_CERTIFICATE_MISMATCH, 0, NULL, -1, "t");
    g_assert_false (signet_service_error_is_transient (e));
  }
}

/* Each API error as the service sends it, through the whole client. */
static void
test_errors_over_https (void)
{
  static const struct {
    guint status;
    const char *extra;
    const char *code;
    const char *message;
    SignetServiceError expect;
    gint64 retry_after;
  } rows[] = {
    { 400, NULL, "invalid_request", "pop_key is not a P-256 public JWK",
      SIGNET_SERVICE_ERROR_INVALID_REQUEST, -1 },
    { 401, NULL, "invalid_credentials", "wrong user name, password or code",
      SIGNET_SERVICE_ERROR_INVALID_CREDENTIALS, -1 },
    { 401, NULL, "unauthorized", "missing, invalid, expired or revoked token or proof",
      SIGNET_SERVICE_ERROR_UNAUTHORIZED, -1 },
    { 403, NULL, "step_up_required", "step-up required", SIGNET_SERVICE_ERROR_STEP_UP_REQUIRED, -1 },
    { 404, NULL, "not_found", "no such endpoint", SIGNET_SERVICE_ERROR_NOT_FOUND, -1 },
    { 423, NULL, "locked", "the account is locked after repeated failures",
      SIGNET_SERVICE_ERROR_LOCKED, -1 },
    { 429, "Retry-After: 42\r\n", "rate_limited", "too many failed attempts; retry later",
      SIGNET_SERVICE_ERROR_RATE_LIMITED, 42 },
    { 500, NULL, "internal_error", "internal error", SIGNET_SERVICE_ERROR_SERVER_ERROR, -1 },
  };
  g_autoptr(FakeServer) fs = fake_server_new (&cert_a);
  g_autoptr(SignetServiceClient) c = fake_client (fs, cert_a.cert_pem);

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SignetServiceSession) s = NULL;
      g_autofree char *head = NULL;
      g_autoptr(GBytes) body = NULL;

      SCRIPT (fs, api_error (rows[i].status, rows[i].extra, rows[i].code, rows[i].message));
      s = call_login (c, "alice", "Pässword \"quoted\" \\ 1", "123456", NULL, NULL, &error);
      g_assert_null (s);
      g_assert_error (error, SIGNET_SERVICE_ERROR, (gint) rows[i].expect);
      g_assert_cmpuint (signet_service_error_get_status (error), ==, rows[i].status);
      g_assert_cmpint (signet_service_error_get_retry_after (error), ==, rows[i].retry_after);
      g_assert_null (strstr (error->message, "Pässword"));
      /* A login is sent once, whatever the answer. */
      g_assert_cmpuint (fake_server_requests (fs), ==, 1);
      if (rows[i].retry_after == 42)
        g_assert_nonnull (strstr (error->message, "try again in 42 s"));

      /* What went out: a POST of strict JSON with the four members. */
      head = fake_server_head (fs, 0);
      body = fake_server_body (fs, 0);
      g_assert_true (g_str_has_prefix (head, "POST /v1/login HTTP/1.1\r\n"));
      g_assert_nonnull (strstr (head, "\r\nContent-Type: application/json\r\n"));
      {
        g_autoptr(JsonParser) p = json_parser_new ();
        JsonObject *o;

        g_assert_true (json_parser_load_from_data (p, g_bytes_get_data (body, NULL),
                                                   (gssize) g_bytes_get_size (body), NULL));
        o = json_node_get_object (json_parser_get_root (p));
        g_assert_cmpuint (json_object_get_size (o), ==, 4);
        g_assert_cmpstr (json_object_get_string_member (o, "username"), ==, "alice");
        g_assert_cmpstr (json_object_get_string_member (o, "password"), ==,
                         "Pässword \"quoted\" \\ 1");
        g_assert_cmpstr (json_object_get_string_member (o, "otp"), ==, "123456");
        JsonObject *jwk = json_object_get_object_member (o, "pop_key");

        g_assert_cmpstr (json_object_get_string_member (jwk, "kty"), ==, "EC");
        g_assert_false (json_object_has_member (jwk, "d"));
      }
    }
  assert_not_logged ("Pässword");
}

/* ---- local: bad answers ---------------------------------------------------- */

static GBytes *
oversized_chunked (void)
{
  g_autoptr(GString) s = g_string_new ("HTTP/1.1 200 OK\r\nConnection: close\r\n"
                                       "Content-Type: application/json\r\n"
                                       "Transfer-Encoding: chunked\r\n\r\n");
  g_autofree char *chunk = g_strnfill (65536, ' ');

  for (int i = 0; i < 20; i++)
    g_string_append_printf (s, "10000\r\n%s\r\n", chunk);
  g_string_append (s, "0\r\n\r\n");
  return g_bytes_new (s->str, s->len);
}

static void
test_bad_responses (void)
{
  g_autoptr(FakeServer) fs = fake_server_new (&cert_a);
  g_autoptr(SignetServiceClient) c = fake_client (fs, cert_a.cert_pem);
  GBytes *cases[] = {
    /* Announced larger than 1 MiB: refused before the body. */
    text_bytes ("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\n"
                "Content-Length: 2097152\r\n\r\n{\"status\":"),
    /* No length, and more than 1 MiB. */
    oversized_chunked (),
    answer (200, NULL, "application/json", "{\"status\": ok"),
    answer (200, NULL, "application/json", "[\"status\", \"ok\"]"),
    answer (200, NULL, "text/html", "<html>Welcome to the hotel Wi-Fi</html>"),
    answer (200, NULL, NULL, HEALTH_OK),
    json_answer (200, NULL, "{\"status\":\"degraded\",\"version\":\"1\"}"),
    json_answer (200, NULL, "{\"status\":\"ok\",\"version\":7}"),
    json_answer (204, NULL, ""),
    answer (302, "Location: https://evil.example/\r\n", "text/html", "moved"),
    text_bytes ("this is not HTTP at all\r\n\r\n"),
  };

  signet_service_client_set_max_retries (c, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *version = NULL;

      SCRIPT (fs, cases[i]);
      version = call_health (c, NULL, &error);
      g_assert_null (version);
      g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_BAD_RESPONSE);
      if (i < 2)
        g_assert_nonnull (strstr (error->message, "larger than 1024 KiB"));
    }

  /* And the good one, so that the cases above fail for their reason. */
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *version = NULL;

    SCRIPT (fs, json_answer (200, "Date: Mon, 01 Jan 2001 00:00:00 GMT\r\n", HEALTH_OK));
    version = call_health (c, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (version, ==, "9.9.9");
    /* The Date header sets the clock offset for proofs. */
    g_assert_cmpint (signet_service_client_get_clock_offset (c), <, -(gint64) 365 * 24 * 3600);
  }
}

/* ---- local: retries ------------------------------------------------------ */

static void
test_retries (void)
{
  g_autoptr(FakeServer) fs = fake_server_new (&cert_a);
  g_autoptr(SignetServiceClient) c = fake_client (fs, cert_a.cert_pem);
  g_autoptr(GError) error = NULL;
  g_autofree char *version = NULL;
  g_autoptr(SignetServiceSession) s = NULL;

  /* An idempotent GET: retried after 5xx, until it works. */
  SCRIPT (fs, api_error (503, NULL, "internal_error", "x"), json_answer (502, NULL, "{}"),
          json_answer (200, NULL, HEALTH_OK));
  version = call_health (c, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (version, ==, "9.9.9");
  g_assert_cmpuint (fake_server_requests (fs), ==, 3);
  g_clear_pointer (&version, g_free);

  /* ... at most max-retries times. */
  SCRIPT (fs, api_error (500, NULL, "internal_error", "internal error"));
  version = call_health (c, NULL, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_SERVER_ERROR);
  g_assert_cmpuint (fake_server_requests (fs), ==, 1 + SIGNET_SERVICE_MAX_RETRIES_DEFAULT);
  g_clear_error (&error);
  signet_service_client_set_max_retries (c, 4);
  version = call_health (c, NULL, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_SERVER_ERROR);
  g_assert_cmpuint (fake_server_requests (fs), ==, 1 + SIGNET_SERVICE_MAX_RETRIES_DEFAULT + 5);
  g_clear_error (&error);

  /* 429 with a short Retry-After: waited for, then retried. */
  SCRIPT (fs, api_error (429, "Retry-After: 1\r\n", "rate_limited", "slow down"),
          json_answer (200, NULL, HEALTH_OK));
  version = call_health (c, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fake_server_requests (fs), ==, 2);
  g_clear_pointer (&version, g_free);

  /* A Retry-After beyond SIGNET_SERVICE_RETRY_AFTER_MAX goes back to the caller. */
  SCRIPT (fs, api_error (429, "Retry-After: 3600\r\n", "rate_limited", "slow down"),
          json_answer (200, NULL, HEALTH_OK));
  version = call_health (c, NULL, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_RATE_LIMITED);
  g_assert_cmpint (signet_service_error_get_retry_after (error), ==, 3600);
  g_assert_cmpuint (fake_server_requests (fs), ==, 1);
  g_clear_error (&error);

  /* A 4xx is not transient: no retry. */
  SCRIPT (fs, api_error (404, NULL, "not_found", "no such endpoint"),
          json_answer (200, NULL, HEALTH_OK));
  version = call_health (c, NULL, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_NOT_FOUND);
  g_assert_cmpuint (fake_server_requests (fs), ==, 1);
  g_clear_error (&error);

  /* A connection cut before any answer: transient, retried for a GET... */
  SCRIPT (fs, text_bytes (""), json_answer (200, NULL, HEALTH_OK));
  version = call_health (c, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fake_server_requests (fs), ==, 2);

  /* ... never for a login: not after a 5xx, not after a cut. */
  SCRIPT (fs, api_error (503, NULL, "internal_error", "x"));
  s = call_login (c, "alice", PASSWORD, "123456", NULL, NULL, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_SERVER_ERROR);
  g_assert_cmpuint (fake_server_requests (fs), ==, 1);
  g_clear_error (&error);
  SCRIPT (fs, text_bytes (""), json_answer (200, NULL, "{}"));
  s = call_login (c, "alice", PASSWORD, "123456", NULL, NULL, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_UNREACHABLE);
  g_assert_cmpuint (fake_server_requests (fs), ==, 1);
  assert_not_logged (PASSWORD);
}

/* ---- local: proof of possession -------------------------------------------- */

typedef struct {
  SignetKey *issuer;
  sp_cose_key trusted;
} FakeAuthority;

static GBytes *
fake_token (FakeAuthority *auth,
            SignetKey     *pop_key,
            gint64         auth_time)
{
  g_autoptr(GBytes) pub = signet_key_get_public_bytes (pop_key);
  g_autoptr(GError) error = NULL;
  sp_cwt_claims c;
  guint8 cti[16];
  guint8 out[2048];
  gsize len = 0;

  g_assert_true (signet_random_fill (cti, sizeof cti, &error));
  memset (&c, 0, sizeof c);
  c.present = SP_CWT_ISS | SP_CWT_SUB | SP_CWT_AUD | SP_CWT_EXP | SP_CWT_IAT | SP_CWT_CTI |
              SP_CWT_CNF | SP_CWT_SCOPE | SP_CWT_ROLE | SP_CWT_AUTH_TIME;
  c.iss = sp_cwt_text_from ("https://127.0.0.1");
  c.sub = sp_cwt_text_from ("alice");
  c.aud = sp_cwt_text_from ("signet");
  c.iat = g_get_real_time () / G_USEC_PER_SEC;
  c.exp = c.iat + 900;
  c.cti = cti;
  c.cti_len = sizeof cti;
  memcpy (c.cnf.pub, g_bytes_get_data (pub, NULL), sizeof c.cnf.pub);
  c.scope = sp_cwt_text_from ("config.write log.upload");
  c.role = sp_cwt_text_from ("technician");
  c.auth_time = auth_time;
  g_assert_cmpint (sp_cwt_sign (signet_crypto_port_openssl (), signet_key_get_sp_key (auth->issuer),
                                auth->trusted.kid, auth->trusted.kid_len, &c, out, sizeof out,
                                &len), ==, SP_OK);
  return g_bytes_new (out, len);
}

static GBytes *
fake_issued_answer (GBytes     *token,
                    gboolean    with_log_key,
                    const char *session)
{
  g_autofree char *t = signet_base64url_encode (g_bytes_get_data (token, NULL),
                                                g_bytes_get_size (token));
  g_autofree char *json = g_strdup_printf ("{\"token\":\"%s\",\"expires_at\":%" G_GINT64_FORMAT ","
                                           "\"scope\":\"config.write log.upload\","
                                           "\"role\":\"technician\",\"auth_time\":1700000000,"
                                           "\"session\":\"%s\"%s}", t,
                                           g_get_real_time () / G_USEC_PER_SEC + 900, session,
                                           with_log_key
                                             ? ",\"log_key\":"
                                               "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\""
                                             : "");

  return json_answer (200, NULL, json);
}

/* The request i's PoP headers verify, over its method, target and body;
 * returns its jti. */
static GBytes *
check_pop (FakeServer    *fs,
           guint          i,
           FakeAuthority *auth,
           const char    *method,
           const char    *target)
{
  g_autofree char *head = fake_server_head (fs, i);
  g_autoptr(GBytes) body = fake_server_body (fs, i);
  g_auto(GStrv) lines = g_strsplit (head, "\r\n", -1);
  g_autofree char *request_line = g_strdup_printf ("%s %s HTTP/1.1", method, target);
  g_autoptr(GBytes) token = NULL;
  g_autoptr(GBytes) jti = NULL;
  g_autoptr(GError) error = NULL;
  const char *authz = NULL, *proof = NULL;
  sp_cwt_claims claims;

  g_assert_cmpstr (lines[0], ==, request_line);
  for (guint j = 1; lines[j] != NULL; j++)
    {
      if (g_ascii_strncasecmp (lines[j], "Authorization: ", 15) == 0)
        authz = lines[j] + 15;
      else if (g_ascii_strncasecmp (lines[j], "Signet-PoP: ", 12) == 0)
        proof = lines[j] + 12;
    }
  g_assert_nonnull (authz);
  g_assert_nonnull (proof);
  token = signet_pop_parse_authorization (authz, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sp_cwt_verify (signet_crypto_port_openssl (), g_bytes_get_data (token, NULL),
                                  g_bytes_get_size (token), &auth->trusted, 1, &claims, NULL),
                   ==, SP_OK);
  g_assert_true (signet_pop_verify (proof, token, &claims, method, target,
                                    g_bytes_get_size (body) > 0 ? body : NULL,
                                    g_get_real_time () / G_USEC_PER_SEC,
                                    SIGNET_POP_DEFAULT_MAX_SKEW,
                                    &jti, NULL, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&jti);
}

static void
test_pop (void)
{
  g_autoptr(FakeServer) fs = fake_server_new (&cert_a);
  g_autoptr(SignetServiceClient) c = fake_client (fs, cert_a.cert_pem);
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetKey) pop_key = signet_key_generate (&error);
  g_autoptr(SignetKey) other_key = signet_key_generate (&error);
  g_autoptr(GBytes) token = NULL;
  g_autoptr(GBytes) token2 = NULL;
  g_autoptr(GBytes) log_key = NULL;
  g_autoptr(GBytes) jti1 = NULL;
  g_autoptr(GBytes) jti2 = NULL;
  g_autoptr(GBytes) pub = NULL;
  g_autoptr(SignetServiceSession) s = NULL;
  g_autoptr(SignetServiceSession) bad = NULL;
  g_autoptr(GPtrArray) profiles = NULL;
  g_autoptr(GPtrArray) sealed = NULL;
  g_autoptr(GPtrArray) chain = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GBytes) evidence = text_bytes ("evidence");
  g_autoptr(GBytes) segment = text_bytes ("\x87segment");
  g_autoptr(SignetServiceLogReceipt) receipt = NULL;
  g_autofree char *token_text = NULL;
  static const char * const fields[] = { "wifi.psk", NULL };
  FakeAuthority auth = { 0 };

  g_assert_no_error (error);
  auth.issuer = signet_key_generate (&error);
  pub = signet_key_get_public_bytes (auth.issuer);
  memcpy (auth.trusted.pub, g_bytes_get_data (pub, NULL), sizeof auth.trusted.pub);
  memcpy (auth.trusted.kid, "authority", 9);
  auth.trusted.kid_len = 9;
  g_ptr_array_add (chain, text_bytes ("not really DER"));

  /* A token bound to another key than ours is refused. */
  token = fake_token (&auth, other_key, 1700000000);
  SCRIPT (fs, fake_issued_answer (token, TRUE, "S1"));
  bad = call_login (c, "alice", PASSWORD, "123456", pop_key, NULL, &error);
  g_assert_null (bad);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_BAD_RESPONSE);
  g_clear_error (&error);
  g_clear_pointer (&token, g_bytes_unref);
  /* So is a login answer without its log key. */
  token = fake_token (&auth, pop_key, 1700000000);
  SCRIPT (fs, fake_issued_answer (token, FALSE, "S1"));
  bad = call_login (c, "alice", PASSWORD, "123456", pop_key, NULL, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_BAD_RESPONSE);
  g_clear_error (&error);

  SCRIPT (fs, fake_issued_answer (token, TRUE, "S1"));
  s = call_login (c, "alice", PASSWORD, "123456", pop_key, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (signet_service_session_get_id (s), ==, "S1");
  g_assert_cmpstr (signet_service_session_get_username (s), ==, "alice");
  g_assert_true (signet_service_session_has_scope (s, "log.upload"));
  g_assert_false (signet_service_session_has_scope (s, "log"));
  g_assert_true (signet_service_session_get_pop_key (s) == pop_key);
  log_key = signet_service_session_take_log_key (s);
  g_assert_cmpuint (g_bytes_get_size (log_key), ==, 32);
  g_assert_null (signet_service_session_take_log_key (s));

  /* refresh: POST /v1/refresh with "{}", a proof over it; the new token
   * replaces the old one. */
  token2 = fake_token (&auth, pop_key, 1700000000);
  SCRIPT (fs, fake_issued_answer (token2, FALSE, "S1"));
  g_assert_true (call_refresh (c, s, &error));
  g_assert_no_error (error);
  jti1 = check_pop (fs, 0, &auth, "POST", "/v1/refresh");
  {
    g_autoptr(GBytes) now_token = signet_service_session_dup_token (s);

    g_assert_true (g_bytes_equal (now_token, token2));
  }
  /* A refresh answer of another session is refused and changes nothing. */
  SCRIPT (fs, fake_issued_answer (token, FALSE, "S2"));
  g_assert_false (call_refresh (c, s, &error));
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_BAD_RESPONSE);
  g_clear_error (&error);
  {
    g_autoptr(GBytes) now_token = signet_service_session_dup_token (s);

    g_assert_true (g_bytes_equal (now_token, token2));
  }

  /* A refresh, a seal and an upload are sent once, even after a 503. */
  SCRIPT (fs, api_error (503, NULL, "internal_error", "x"));
  g_assert_false (call_refresh (c, s, &error));
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_SERVER_ERROR);
  g_assert_cmpuint (fake_server_requests (fs), ==, 1);
  g_clear_error (&error);
  SCRIPT (fs, api_error (503, NULL, "internal_error", "x"));
  sealed = call_seal (c, s, evidence, chain, "acme-wifi", fields, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_SERVER_ERROR);
  g_assert_cmpuint (fake_server_requests (fs), ==, 1);
  g_clear_error (&error);
  g_bytes_unref (check_pop (fs, 0, &auth, "POST", "/v1/seal"));
  SCRIPT (fs, api_error (503, NULL, "internal_error", "x"));
  receipt = call_upload (c, s, segment, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_SERVER_ERROR);
  g_assert_cmpuint (fake_server_requests (fs), ==, 1);
  g_clear_error (&error);
  g_bytes_unref (check_pop (fs, 0, &auth, "POST", "/v1/logs"));
  {
    g_autofree char *head = fake_server_head (fs, 0);

    g_assert_nonnull (strstr (head, "\r\nContent-Type: application/cbor-seq\r\n"));
  }
  /* An earlier session's log: ?session=, under the proof; the session's
   * own id goes without a query; a malformed id is not sent. */
  SCRIPT (fs, api_error (404, NULL, "not_found", "no such session"));
  receipt = call_upload_to (c, s, "S0-earlier_1", segment, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_bytes_unref (check_pop (fs, 0, &auth, "POST", "/v1/logs?session=S0-earlier_1"));
  SCRIPT (fs, api_error (409, NULL, "conflict", "x"));
  receipt = call_upload_to (c, s, "S1", segment, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_CONFLICT);
  g_clear_error (&error);
  g_bytes_unref (check_pop (fs, 0, &auth, "POST", "/v1/logs"));
  SCRIPT (fs, json_answer (200, NULL, HEALTH_OK));
  receipt = call_upload_to (c, s, "S0&x=1", segment, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_INVALID_REQUEST);
  g_assert_cmpuint (fake_server_requests (fs), ==, 0);
  g_clear_error (&error);

  /* GET /v1/logs: a GET, retried; the query escaped and under the proof;
   * the answer read whole and checked. */
  {
    SignetServiceLogQuery q = SIGNET_SERVICE_LOG_QUERY_INIT;
    g_autoptr(GPtrArray) found = NULL;
    g_autofree char *cursor = NULL;
    SignetServiceLogSummary *one;

    q.technician = "al ice";
    q.outcome = "verified";
    q.from = 10;
    q.limit = 5;
    SCRIPT (fs, api_error (503, NULL, "internal_error", "x"),
            json_answer (200, NULL,
                         "{\"logs\":[{\"session\":\"S0\",\"kind\":\"session\","
                         "\"technician\":\"al ice\",\"started\":100,\"ended\":null,"
                         "\"records\":7,\"outcome\":\"verified\",\"devices\":[\"d1\",\"d2\"]}],"
                         "\"next_cursor\":\"abc\"}"));
    found = call_search (c, s, &q, &cursor, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (fake_server_requests (fs), ==, 2);
    g_bytes_unref (check_pop (fs, 1, &auth, "GET",
                              "/v1/logs?technician=al%20ice&outcome=verified&from=10&limit=5"));
    g_assert_cmpuint (found->len, ==, 1);
    one = g_ptr_array_index (found, 0);
    g_assert_cmpstr (one->id, ==, "S0");
    g_assert_cmpstr (one->kind, ==, "session");
    g_assert_cmpstr (one->technician, ==, "al ice");
    g_assert_cmpint (one->started, ==, 100);
    g_assert_cmpint (one->ended, ==, -1);
    g_assert_cmpuint (one->records, ==, 7);
    g_assert_cmpstr (one->outcome, ==, "verified");
    g_assert_cmpuint (g_strv_length (one->devices), ==, 2);
    g_assert_cmpstr (cursor, ==, "abc");
    g_clear_pointer (&found, g_ptr_array_unref);
    g_clear_pointer (&cursor, g_free);
    /* No query at all; the last page has no cursor. */
    SCRIPT (fs, json_answer (200, NULL, "{\"logs\":[],\"next_cursor\":null}"));
    found = call_search (c, s, NULL, &cursor, &error);
    g_assert_no_error (error);
    g_bytes_unref (check_pop (fs, 0, &auth, "GET", "/v1/logs"));
    g_assert_cmpuint (found->len, ==, 0);
    g_assert_null (cursor);
    g_clear_pointer (&found, g_ptr_array_unref);
    /* An unknown outcome in the answer, a limit too large. */
    SCRIPT (fs, json_answer (200, NULL,
                             "{\"logs\":[{\"session\":\"S0\",\"kind\":\"session\","
                             "\"technician\":\"a\",\"started\":1,\"ended\":2,\"records\":1,"
                             "\"outcome\":\"fine\",\"devices\":[]}],\"next_cursor\":null}"));
    found = call_search (c, s, NULL, NULL, &error);
    g_assert_null (found);
    g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_BAD_RESPONSE);
    g_clear_error (&error);
    q.limit = 201;
    SCRIPT (fs, json_answer (200, NULL, HEALTH_OK));
    found = call_search (c, s, &q, NULL, &error);
    g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_INVALID_REQUEST);
    g_assert_cmpuint (fake_server_requests (fs), ==, 0);
    g_clear_error (&error);
  }

  /* GET /v1/logs/{id}: the bytes as sent and the verdict headers. */
  {
    g_autoptr(SignetServiceLog) got = NULL;
    const char *headers = "Signet-Log-Kind: session\r\nSignet-Log-Technician: alice\r\n"
                          "Signet-Log-Outcome: tampered\r\nSignet-Log-Verdict: verified\r\n"
                          "Signet-Log-Reason: none\r\nSignet-Log-Records: 3\r\n"
                          "Signet-Log-Sealed-Seq: 2\r\nSignet-Log-Rejected: 1\r\n";

    SCRIPT (fs, answer (200, headers, "application/cbor-seq", "\x83\x01\x02\x03"));
    got = call_fetch (c, s, "S0", &error);
    g_assert_no_error (error);
    g_bytes_unref (check_pop (fs, 0, &auth, "GET", "/v1/logs/S0"));
    {
      g_autofree char *head = fake_server_head (fs, 0);

      g_assert_nonnull (strstr (head, "\r\nAccept: application/cbor-seq\r\n"));
    }
    g_assert_cmpstr (got->id, ==, "S0");
    g_assert_cmpmem (g_bytes_get_data (got->log, NULL), g_bytes_get_size (got->log),
                     "\x83\x01\x02\x03", 4);
    g_assert_cmpstr (got->kind, ==, "session");
    g_assert_cmpstr (got->technician, ==, "alice");
    g_assert_cmpstr (got->outcome, ==, "tampered");
    g_assert_cmpstr (got->verdict, ==, "verified");
    g_assert_cmpstr (got->reason, ==, "none");
    g_assert_cmpint (got->index, ==, -1);
    g_assert_cmpuint (got->records, ==, 3);
    g_assert_cmpint (got->sealed_seq, ==, 2);
    g_assert_cmpuint (got->rejected, ==, 1);
    g_clear_pointer (&got, signet_service_log_free);
    /* JSON where the log should be, a header missing: refused. */
    SCRIPT (fs, json_answer (200, headers, "{}"));
    got = call_fetch (c, s, "S0", &error);
    g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_BAD_RESPONSE);
    g_clear_error (&error);
    SCRIPT (fs, answer (200, "Signet-Log-Kind: session\r\n", "application/cbor-seq", "x"));
    got = call_fetch (c, s, "S0", &error);
    g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_BAD_RESPONSE);
    g_clear_error (&error);
    /* An error is JSON as for every call. */
    SCRIPT (fs, api_error (404, NULL, "not_found", "no such log"));
    got = call_fetch (c, s, "S9", &error);
    g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_NOT_FOUND);
    g_clear_error (&error);
    SCRIPT (fs, json_answer (200, NULL, HEALTH_OK));
    got = call_fetch (c, s, "../trust", &error);
    g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_INVALID_REQUEST);
    g_assert_cmpuint (fake_server_requests (fs), ==, 0);
    g_clear_error (&error);
  }
  /* The same step-up twice would be refused as a TOTP replay anyway. */
  SCRIPT (fs, api_error (503, NULL, "internal_error", "x"));
  g_assert_false (call_step_up (c, s, "654321", &error));
  g_assert_cmpuint (fake_server_requests (fs), ==, 1);
  g_clear_error (&error);

  /* profiles, a GET: retried, each attempt with a fresh proof over the
   * escaped query. */
  SCRIPT (fs, api_error (503, NULL, "internal_error", "x"),
          json_answer (200, NULL, "{\"profiles\":[]}"));
  profiles = call_profiles (c, s, "acme gw/1&x=ü", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (profiles->len, ==, 0);
  g_assert_cmpuint (fake_server_requests (fs), ==, 2);
  g_clear_pointer (&jti1, g_bytes_unref);
  jti1 = check_pop (fs, 0, &auth, "GET", "/v1/profiles?model=acme%20gw%2F1%26x%3D%C3%BC");
  jti2 = check_pop (fs, 1, &auth, "GET", "/v1/profiles?model=acme%20gw%2F1%26x%3D%C3%BC");
  g_assert_false (g_bytes_equal (jti1, jti2));

  /* A seal answer is checked: its keys in order, enc 65 bytes, the
   * digest that of enc || ct. */
  {
    guint8 enc[65] = { 4 }, ct[24] = { 1, 2, 3 };
    g_autofree char *enc_text = signet_base64url_encode (enc, sizeof enc);
    g_autofree char *ct_text = signet_base64url_encode (ct, sizeof ct);
    g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
    g_autofree char *good = NULL;
    g_autofree char *bad_digest = NULL;
    g_autofree char *bad_key = NULL;
    SignetServiceSealed *one;

    g_checksum_update (sum, enc, sizeof enc);
    g_checksum_update (sum, ct, sizeof ct);
    good = g_strdup_printf ("{\"sealed\":[{\"key\":\"wifi.psk\",\"enc\":\"%s\",\"ct\":\"%s\","
                            "\"digest\":\"%s\"}]}", enc_text, ct_text,
                            g_checksum_get_string (sum));
    bad_digest = g_strdup_printf ("{\"sealed\":[{\"key\":\"wifi.psk\",\"enc\":\"%s\","
                                  "\"ct\":\"%s\",\"digest\":\"%064d\"}]}",
                                  enc_text, ct_text, 0);
    bad_key = g_strdup_printf ("{\"sealed\":[{\"key\":\"wifi.ssid\",\"enc\":\"%s\","
                               "\"ct\":\"%s\",\"digest\":\"%s\"}]}", enc_text, ct_text,
                               g_checksum_get_string (sum));
    SCRIPT (fs, json_answer (200, NULL, good));
    g_clear_pointer (&sealed, g_ptr_array_unref);
    sealed = call_seal (c, s, evidence, chain, "acme-wifi", fields, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (sealed->len, ==, 1);
    one = g_ptr_array_index (sealed, 0);
    g_assert_cmpstr (one->key, ==, "wifi.psk");
    g_assert_cmpmem (g_bytes_get_data (one->enc, NULL), g_bytes_get_size (one->enc), enc,
                     sizeof enc);
    g_assert_cmpstr (one->digest, ==, g_checksum_get_string (sum));
    g_clear_pointer (&sealed, g_ptr_array_unref);
    SCRIPT (fs, json_answer (200, NULL, bad_digest));
    sealed = call_seal (c, s, evidence, chain, "acme-wifi", fields, &error);
    g_assert_null (sealed);
    g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_BAD_RESPONSE);
    g_clear_error (&error);
    SCRIPT (fs, json_answer (200, NULL, bad_key));
    sealed = call_seal (c, s, evidence, chain, "acme-wifi", fields, &error);
    g_assert_null (sealed);
    g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_BAD_RESPONSE);
    g_clear_error (&error);
  }

  /* logout: 204, then the session is signed out here too. */
  SCRIPT (fs, answer (204, NULL, NULL, ""));
  g_assert_true (call_logout (c, s, &error));
  g_assert_no_error (error);
  g_bytes_unref (check_pop (fs, 0, &auth, "POST", "/v1/logout"));
  g_assert_true (signet_service_session_is_signed_out (s));
  g_assert_null (signet_service_session_dup_token (s));
  SCRIPT (fs, json_answer (200, NULL, HEALTH_OK));
  g_assert_false (call_refresh (c, s, &error));
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_UNAUTHORIZED);
  g_assert_cmpuint (fake_server_requests (fs), ==, 0);

  token_text = signet_base64url_encode (g_bytes_get_data (token2, NULL), g_bytes_get_size (token2));
  assert_not_logged (token_text);
  assert_not_logged (PASSWORD);
  g_clear_pointer (&auth.issuer, signet_key_unref);
}

/* ---- local: transport ---------------------------------------------------- */

static gboolean
cancel_cb (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static gboolean
tick_cb (gpointer data)
{
  (*(guint *) data)++;
  return G_SOURCE_CONTINUE;
}

static void
test_cancel_and_timeout (void)
{
  g_autoptr(FakeServer) fs = fake_server_new (&cert_a);
  g_autoptr(SignetServiceClient) c = fake_client (fs, cert_a.cert_pem);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *version = NULL;
  guint ticks = 0, tick_id;

  /* A service that never answers; the main loop keeps running meanwhile
   * (nothing blocks it), and the cancel ends the call at once. */
  SCRIPT (fs, NULL);
  tick_id = g_timeout_add (10, tick_cb, &ticks);
  g_timeout_add (300, cancel_cb, cancellable);
  version = call_health (c, cancellable, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_CANCELLED);
  g_assert_cmpuint (ticks, >=, 3);
  g_assert_cmpuint (fake_server_requests (fs), ==, 1);
  g_clear_error (&error);

  /* Already cancelled: nothing is sent. */
  SCRIPT (fs, json_answer (200, NULL, HEALTH_OK));
  version = call_health (c, cancellable, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_CANCELLED);
  g_assert_cmpuint (fake_server_requests (fs), ==, 0);
  g_clear_error (&error);

  /* Cancelled while waiting to retry. */
  g_cancellable_reset (cancellable);
  signet_service_client_set_retry_delay (c, 60000);
  SCRIPT (fs, api_error (503, NULL, "internal_error", "x"));
  g_timeout_add (300, cancel_cb, cancellable);
  version = call_health (c, cancellable, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_CANCELLED);
  g_assert_cmpuint (fake_server_requests (fs), ==, 1);
  g_clear_error (&error);

  /* No answer within the timeout (retried, then given up). */
  signet_service_client_set_retry_delay (c, 10);
  signet_service_client_set_timeout (c, 1);
  signet_service_client_set_max_retries (c, 1);
  SCRIPT (fs, NULL);
  version = call_health (c, NULL, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_TIMEOUT);
  g_assert_cmpuint (fake_server_requests (fs), ==, 2);
  g_source_remove (tick_id);
}

static void
test_unreachable (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                          G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GBytes) ca = pem_bytes (cert_a.cert_pem);
  g_autoptr(SignetServiceClient) c = NULL;
  g_autofree char *url = NULL;
  g_autofree char *version = NULL;

  /* A port that was just free: nobody listens there. */
  g_assert_true (g_socket_bind (sock, addr, TRUE, &error));
  bound = g_socket_get_local_address (sock, &error);
  url = g_strdup_printf ("https://127.0.0.1:%u",
                         g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_socket_close (sock, NULL);
  c = signet_service_client_new (url, ca, &error);
  g_assert_no_error (error);
  signet_service_client_set_retry_delay (c, 10);
  version = call_health (c, NULL, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, url));
}

static void
test_wrong_ca_and_pin (void)
{
  g_autoptr(FakeServer) fs = fake_server_new (&cert_a);
  g_autoptr(SignetServiceClient) wrong = fake_client (fs, cert_b.cert_pem);
  g_autoptr(SignetServiceClient) right = fake_client (fs, cert_a.cert_pem);
  g_autoptr(GError) error = NULL;
  g_autofree char *version = NULL;
  g_autofree char *pin_a = signet_service_spki_pin_from_pem (cert_a.cert_pem, NULL);
  g_autofree char *pin_b = signet_service_spki_pin_from_pem (cert_b.cert_pem, NULL);
  g_autofree char *both = g_strconcat (pin_b, ";", pin_a, NULL);
  g_autoptr(FakeServer) fs_c = fake_server_new (&cert_c);
  g_autoptr(SignetServiceClient) named = fake_client (fs_c, cert_c.cert_pem);
  g_autofree char *url_c = fake_server_url (fs_c);
  g_autofree char *by_name = g_strdup_printf ("https://localhost:%u", fs_c->port);
  g_autoptr(GBytes) ca_c = pem_bytes (cert_c.cert_pem);
  g_autoptr(SignetServiceClient) named_ok = NULL;

  SCRIPT (fs, json_answer (200, NULL, HEALTH_OK));
  version = call_health (wrong, NULL, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_CERTIFICATE_MISMATCH);
  g_assert_cmpstr (error->message, ==,
                   "The service's certificate does not match the one configured");
  /* Not retried: it will not get better. */
  g_assert_cmpuint (fake_server_requests (fs), ==, 0);
  g_clear_error (&error);

  /* The right CA, and a pin of another key: refused too. */
  g_assert_true (signet_service_client_set_spki_pin (right, pin_b, NULL));
  version = call_health (right, NULL, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_CERTIFICATE_MISMATCH);
  g_clear_error (&error);
  g_assert_true (signet_service_client_set_spki_pin (right, both, NULL));
  version = call_health (right, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (version, ==, "9.9.9");
  g_clear_pointer (&version, g_free);

  /* The host name is checked: a certificate of the right CA (itself)
   * for localhost only does not do for https://127.0.0.1. */
  SCRIPT (fs_c, json_answer (200, NULL, HEALTH_OK));
  version = call_health (named, NULL, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_CERTIFICATE_MISMATCH);
  g_clear_error (&error);
  g_assert_true (g_str_has_prefix (url_c, "https://127.0.0.1:"));
  named_ok = signet_service_client_new (by_name, ca_c, &error);
  g_assert_no_error (error);
  version = call_health (named_ok, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (version, ==, "9.9.9");
}

/* The environment's https_proxy (set in main) is used for a service that
 * is not on loopback: the "proxy" sees a CONNECT for it. */
static FakeServer *env_proxy;

static void
test_proxy_from_environment (void)
{
  g_autoptr(GBytes) ca = pem_bytes (cert_a.cert_pem);
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetServiceClient) c = signet_service_client_new ("https://signet.invalid", ca,
                                                                 &error);
  g_autoptr(SignetServiceClient) direct = NULL;
  g_autofree char *version = NULL;
  g_autofree char *head = NULL;

  g_assert_no_error (error);
  signet_service_client_set_max_retries (c, 0);
  SCRIPT (env_proxy, text_bytes ("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n"
                                 "Connection: close\r\n\r\n"));
  version = call_health (c, NULL, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_UNREACHABLE);
  g_clear_error (&error);
  g_assert_cmpuint (fake_server_requests (env_proxy), ==, 1);
  head = fake_server_head (env_proxy, 0);
  g_assert_true (g_str_has_prefix (head, "CONNECT signet.invalid:443 HTTP/1.1\r\n"));

  /* An explicit "" turns proxies off: then the name must resolve, and
   * .invalid never does. */
  direct = signet_service_client_new ("https://signet.invalid", ca, &error);
  signet_service_client_set_proxy (direct, "");
  signet_service_client_set_max_retries (direct, 0);
  version = call_health (direct, NULL, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_UNREACHABLE);
  g_assert_cmpuint (fake_server_requests (env_proxy), ==, 1);
}

/* ---- a real signetd ------------------------------------------------------ */

static const char *signetd_path;
static char *ssl_cert_file;    /* SSL_CERT_FILE of this process (see main) */

typedef struct {
  char *tmp;
  char *data;
  GSubprocess *proc;
  char *url;
  GBytes *ca;
  char *cert_pem;
  GHashTable *secrets;    /* user -> base32 TOTP secret */
} Signetd;

static Signetd *srv;

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
add_user_with_role (const char *name,
                    const char *role)
{
  g_autofree char *out = run_cli (PASSWORD "\n", "user", "--data-dir", srv->data, "add", name,
                                  "--role", role, NULL);
  g_autoptr(GRegex) re = g_regex_new ("otpauth://totp/\\S*[?&]secret=([A-Z2-7]+)", 0, 0, NULL);
  g_autoptr(GMatchInfo) m = NULL;

  g_assert_true (g_regex_match (re, out, 0, &m));
  g_hash_table_insert (srv->secrets, g_strdup (name), g_match_info_fetch (m, 1));
}

static void
add_user (const char *name)
{
  add_user_with_role (name, "technician");
}

static char *
totp (const char *user,
      gint64      offset)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) key = signet_totp_secret_from_base32 (g_hash_table_lookup (srv->secrets, user),
                                                          &error);
  char *code;

  g_assert_no_error (error);
  code = signet_totp_generate (key, g_get_real_time () / G_USEC_PER_SEC + offset, 30, 6,
                               SIGNET_TOTP_ALGORITHM_SHA1, &error);
  g_assert_no_error (error);
  return code;
}

static const char profile_json[] =
  "{\"id\": \"acme-wifi\", \"version\": 3, \"model\": \"acme-gw1\", \"class\": \"credential\",\n"
  " \"critical\": true, \"description\": \"Site Wi-Fi credentials\",\n"
  " \"fields\": [\n"
  "   {\"key\": \"wifi.ssid\", \"type\": \"string\", \"min\": 1, \"max\": 32},\n"
  "   {\"key\": \"wifi.psk\", \"type\": \"string\", \"min\": 8, \"max\": 63, \"secret\": true,\n"
  "    \"vault\": \"site-a/wifi-psk\"},\n"
  "   {\"key\": \"wifi.band\", \"type\": \"enum\", \"values\": [\"2g4\", \"5g\"]}]}\n";

/* signetd for the whole run, started by the first test that needs it:
 * short lockout policy, three users, one profile. */
static gboolean
signetd_start (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GKeyFile) conf = g_key_file_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GRegex) re = NULL;
  g_autoptr(GMatchInfo) m = NULL;
  g_autofree char *conf_path = NULL;
  g_autofree char *profile_path = NULL;
  g_autofree char *cert_path = NULL;
  g_autofree char *stderr_path = NULL;
  g_autofree char *line = NULL;
  gsize len = 0;

  if (srv != NULL)
    return srv->proc != NULL;
  if (signetd_path == NULL)
    {
      g_test_skip ("no signetd given (first argument)");
      return FALSE;
    }
  srv = g_new0 (Signetd, 1);
  srv->secrets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  srv->tmp = g_dir_make_tmp ("signet-service-client-XXXXXX", &error);
  g_assert_no_error (error);
  srv->data = g_build_filename (srv->tmp, "data", NULL);
  g_free (run_cli (NULL, "init", "--data-dir", srv->data, NULL));

  /* Short policies, as an operator would set them (docs/api.md). */
  conf_path = g_build_filename (srv->data, "signetd.conf", NULL);
  g_assert_true (g_key_file_load_from_file (conf, conf_path, G_KEY_FILE_KEEP_COMMENTS, &error));
  g_key_file_set_integer (conf, "lockout", "backoff_after", 2);
  g_key_file_set_integer (conf, "lockout", "lock_after", 3);
  g_key_file_set_integer (conf, "lockout", "address_backoff_after", 1000);
  g_assert_true (g_key_file_save_to_file (conf, conf_path, &error));

  add_user ("alice");
  add_user ("dave");
  add_user ("carol");
  add_user ("erin");
  add_user_with_role ("sam", "supervisor");
  profile_path = g_build_filename (srv->tmp, "acme-wifi.json", NULL);
  g_assert_true (g_file_set_contents (profile_path, profile_json, -1, &error));
  g_free (run_cli (NULL, "profile", "--data-dir", srv->data, "add", profile_path, NULL));

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  /* GLib sends debug messages to stdout, where the address is read. */
  g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
  stderr_path = g_build_filename (srv->tmp, "signetd.stderr", NULL);
  g_subprocess_launcher_set_stderr_file_path (launcher, stderr_path);
  srv->proc = g_subprocess_launcher_spawn (launcher, &error, signetd_path, "serve", "--data-dir",
                                           srv->data, "--listen", "127.0.0.1:0", NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (srv->proc));
  line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  re = g_regex_new ("^listening on (https://127\\.0\\.0\\.1:\\d+)$", 0, 0, NULL);
  if (line == NULL || !g_regex_match (re, line, 0, &m))
    {
      g_autofree char *err = NULL;

      g_file_get_contents (stderr_path, &err, NULL, NULL);
      g_error ("signetd did not start (%s, %s): %s", line != NULL ? line : "no line",
               error != NULL ? error->message : "-", err != NULL ? err : "?");
    }
  srv->url = g_match_info_fetch (m, 1);
  cert_path = g_build_filename (srv->data, "tls-cert.pem", NULL);
  g_assert_true (g_file_get_contents (cert_path, &srv->cert_pem, &len, &error));
  srv->ca = g_bytes_new (srv->cert_pem, len);
  return TRUE;
}

static void
signetd_stop (void)
{
  if (srv == NULL || srv->proc == NULL)
    return;
  g_subprocess_send_signal (srv->proc, SIGTERM);
  g_subprocess_wait (srv->proc, NULL, NULL);
  g_clear_object (&srv->proc);
}

static void
signetd_free (void)
{
  if (srv == NULL)
    return;
  signetd_stop ();
  rm_rf (srv->tmp);
  g_free (srv->tmp);
  g_free (srv->data);
  g_free (srv->url);
  g_free (srv->cert_pem);
  g_clear_pointer (&srv->ca, g_bytes_unref);
  g_hash_table_unref (srv->secrets);
  g_clear_pointer (&srv, g_free);
}

static SignetServiceClient *
signetd_client (void)
{
  g_autoptr(GError) error = NULL;
  SignetServiceClient *c = signet_service_client_new (srv->url, srv->ca, &error);

  g_assert_no_error (error);
  return c;
}

static GBytes *
flip_device_name (GBytes *log)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (log, &len);
  guint8 *copy = g_memdup2 (p, len);
  guint8 *at = NULL;

  for (gsize i = 0; at == NULL && i + 5 <= len; i++)
    if (memcmp (copy + i, "dev-1", 5) == 0)
      at = copy + i;
  g_assert_nonnull (at);
  at[4] = '9';
  return g_bytes_new_take (copy, len);
}

static void
test_signetd_flow (void)
{
  g_autoptr(SignetServiceClient) c = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetServiceSession) s = NULL;
  g_autoptr(SignetServiceSession) copy = NULL;
  g_autoptr(SignetServiceTrust) trust = NULL;
  g_autoptr(GPtrArray) profiles = NULL;
  g_autoptr(GPtrArray) sealed = NULL;
  g_autoptr(GPtrArray) chain = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GBytes) evidence = NULL;
  g_autoptr(GBytes) token1 = NULL;
  g_autoptr(GBytes) token2 = NULL;
  g_autoptr(GBytes) log_key = NULL;
  g_autoptr(GBytes) segment = NULL;
  g_autoptr(GBytes) head = NULL;
  g_autoptr(GBytes) tampered = NULL;
  g_autoptr(SignetEventLog) log = NULL;
  g_autoptr(SignetServiceLogReceipt) receipt = NULL;
  g_autoptr(SignetServiceLogReceipt) again = NULL;
  g_autoptr(SignetServiceLogReceipt) more = NULL;
  g_autoptr(SignetServiceLogReceipt) bad_receipt = NULL;
  g_auto(SignetSecretString) code = NULL;
  g_auto(SignetSecretString) wrong_code = NULL;
  g_auto(SignetSecretString) next_code = NULL;
  g_autofree char *version = NULL;
  g_autofree char *token_text = NULL;
  static const char * const psk[] = { "wifi.psk", NULL };
  SignetServiceProfile *profile;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 auth_time;

  if (!signetd_start ())
    return;
  c = signetd_client ();

  version = call_health (c, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (version, ==, PACKAGE_VERSION);

  /* Sign in: a token bound to a key made for this sign-in. */
  code = totp ("alice", 0);
  s = call_login (c, "alice", PASSWORD, code, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (signet_service_session_get_username (s), ==, "alice");
  g_assert_cmpstr (signet_service_session_get_role (s), ==, "technician");
  g_assert_true (signet_service_session_has_scope (s, "log.upload"));
  g_assert_true (signet_service_session_has_scope (s, "credential.rotate"));
  g_assert_false (signet_service_session_has_scope (s, "log.read"));
  g_assert_cmpint (signet_service_session_get_expires_at (s), >, now);
  g_assert_cmpint (signet_service_session_get_auth_time (s), >=, now - 5);
  g_assert_cmpuint (strlen (signet_service_session_get_id (s)), >, 0);
  g_assert_true (signet_key_has_private (signet_service_session_get_pop_key (s)));
  token1 = signet_service_session_dup_token (s);
  log_key = signet_service_session_take_log_key (s);
  g_assert_cmpuint (g_bytes_get_size (log_key), ==, 32);
  auth_time = signet_service_session_get_auth_time (s);

  /* Refresh: a new token, same auth_time. */
  g_assert_true (call_refresh (c, s, &error));
  g_assert_no_error (error);
  token2 = signet_service_session_dup_token (s);
  g_assert_false (g_bytes_equal (token1, token2));
  g_assert_cmpint (signet_service_session_get_auth_time (s), ==, auth_time);

  /* Step-up: a wrong code is refused as credentials; the next step's code
   * (later than the sign-in's, so not a replay) works. */
  wrong_code = totp ("alice", 3600);
  g_assert_false (call_step_up (c, s, wrong_code, &error));
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_INVALID_CREDENTIALS);
  g_clear_error (&error);
  next_code = totp ("alice", 30);
  g_assert_true (call_step_up (c, s, next_code, &error));
  g_assert_no_error (error);
  g_assert_cmpint (signet_service_session_get_auth_time (s), >=, auth_time);

  /* Trust: the current authority key first, no manufacturer CA yet, a
   * revocation list. */
  trust = call_trust (c, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (trust->authority_keys->len, >=, 1);
  {
    SignetServiceAuthorityKey *k = g_ptr_array_index (trust->authority_keys, 0);

    g_assert_true (k->current);
    g_assert_cmpint (k->not_after, ==, -1);
    g_assert_false (signet_key_has_private (k->key));
  }
  g_assert_cmpuint (trust->manufacturer_cas->len, ==, 0);
  g_assert_cmpuint (g_bytes_get_size (trust->revocation_list), >, 0);

  /* Profiles of the model, with their fields; none for another model. */
  profiles = call_profiles (c, s, "acme-gw1", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (profiles->len, ==, 1);
  profile = g_ptr_array_index (profiles, 0);
  g_assert_cmpstr (profile->id, ==, "acme-wifi");
  g_assert_cmpint (profile->version, ==, 3);
  g_assert_cmpstr (profile->klass, ==, "credential");
  g_assert_true (profile->critical);
  g_assert_cmpuint (profile->fields->len, ==, 3);
  g_assert_cmpuint (g_bytes_get_size (profile->signed_profile), >, 64);
  for (guint i = 0; i < profile->fields->len; i++)
    {
      SignetServiceProfileField *f = g_ptr_array_index (profile->fields, i);

      if (g_str_equal (f->key, "wifi.psk"))
        g_assert_true (f->secret && f->has_min && f->min == 8 && f->has_max && f->max == 63);
      else if (g_str_equal (f->key, "wifi.band"))
        g_assert_true (!f->secret && f->values != NULL && g_strv_length (f->values) == 2);
      else
        g_assert_cmpstr (f->key, ==, "wifi.ssid");
    }
  g_clear_pointer (&profiles, g_ptr_array_unref);
  profiles = call_profiles (c, s, "other model", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (profiles->len, ==, 0);

  /* Seal: no manufacturer CA was added, so no device is trusted. */
  g_ptr_array_add (chain, signet_x509_der_from_pem (srv->cert_pem, &error));
  g_assert_no_error (error);
  evidence = signet_random_bytes (64, &error);
  sealed = call_seal (c, s, evidence, chain, "acme-wifi", psk, &error);
  g_assert_null (sealed);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_FORBIDDEN);
  g_assert_cmpuint (signet_service_error_get_status (error), ==, 403);
  g_assert_nonnull (strstr (error->message, "untrusted device"));
  g_clear_error (&error);

  /* Upload the session's log, sealed with K_0 from the sign-in. */
  log = signet_event_log_new_in_memory (log_key, signet_service_session_get_username (s),
                                        signet_service_session_get_id (s), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (signet_event_log_append (log, "device.hello", "dev-1", NULL, &error));
  g_assert_true (signet_event_log_seal (log, &error));
  segment = signet_event_log_dup_contents (log);
  head = signet_event_log_dup_chain_head (log);
  receipt = call_upload (c, s, segment, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (receipt->session, ==, signet_service_session_get_id (s));
  g_assert_cmpuint (receipt->records, ==, 3);
  g_assert_cmpuint (receipt->next_seq, ==, 3);
  g_assert_cmpint (receipt->sealed_seq, ==, 2);
  g_assert_true (g_bytes_equal (receipt->head, head));
  g_assert_cmpuint (g_bytes_get_size (receipt->countersignature), >, 64);
  /* The same segment again: answered as the first time. */
  again = call_upload (c, s, segment, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (again->next_seq, ==, 3);
  g_assert_true (g_bytes_equal (again->head, head));
  /* A stored record with other bytes: refused as a conflict. */
  tampered = flip_device_name (segment);
  bad_receipt = call_upload (c, s, tampered, &error);
  g_assert_null (bad_receipt);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_CONFLICT);
  g_clear_error (&error);
  /* The log goes on: the whole of it, the stored part first. */
  g_assert_true (signet_event_log_append (log, "device.apply", "dev-1", NULL, &error));
  g_assert_true (signet_event_log_close_session (log, &error));
  g_clear_pointer (&segment, g_bytes_unref);
  segment = signet_event_log_dup_contents (log);
  more = call_upload (c, s, segment, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (more->next_seq, ==, signet_event_log_get_next_seq (log));

  /* Sign out: the service revokes the session. A copy made before still
   * holds the token and the key, and the service refuses it. */
  copy = signet_service_session_dup (s);
  g_assert_true (call_logout (c, s, &error));
  g_assert_no_error (error);
  g_assert_true (signet_service_session_is_signed_out (s));
  g_assert_false (call_refresh (c, s, &error));
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_UNAUTHORIZED);
  g_assert_cmpuint (signet_service_error_get_status (error), ==, 0);
  g_clear_error (&error);
  g_assert_false (call_refresh (c, copy, &error));
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_UNAUTHORIZED);
  g_assert_cmpuint (signet_service_error_get_status (error), ==, 401);
  g_clear_error (&error);

  token_text = signet_base64url_encode (g_bytes_get_data (token2, NULL), g_bytes_get_size (token2));
  assert_not_logged (token_text);
  assert_not_logged (PASSWORD);
  assert_not_logged (code);
  assert_not_logged (next_code);
}

/* A log left behind by a session that ended before it could upload,
 * delivered from the same user's next session (POST /v1/logs?session=),
 * then found and fetched by a supervisor (GET /v1/logs, /v1/logs/{id}). */
static void
test_signetd_logs (void)
{
  g_autoptr(SignetServiceClient) c = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetServiceSession) s1 = NULL;
  g_autoptr(SignetServiceSession) s2 = NULL;
  g_autoptr(SignetServiceSession) other = NULL;
  g_autoptr(SignetServiceSession) sup = NULL;
  g_autoptr(GBytes) k0 = NULL;
  g_autoptr(GBytes) contents = NULL;
  g_autoptr(SignetEventLog) log = NULL;
  g_autoptr(SignetServiceLogReceipt) receipt = NULL;
  g_autoptr(SignetServiceLogReceipt) refused = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(SignetServiceLog) got = NULL;
  g_autofree char *cursor = NULL;
  g_autofree char *s1_id = NULL;
  g_auto(SignetSecretString) code1 = NULL;
  g_auto(SignetSecretString) code2 = NULL;
  g_auto(SignetSecretString) code3 = NULL;
  g_auto(SignetSecretString) code4 = NULL;
  SignetServiceLogQuery q = SIGNET_SERVICE_LOG_QUERY_INIT;
  SignetServiceLogSummary *one;

  if (!signetd_start ())
    return;
  c = signetd_client ();

  /* Session 1 writes its log and signs out before it could upload. */
  code1 = totp ("erin", 0);
  s1 = call_login (c, "erin", PASSWORD, code1, NULL, NULL, &error);
  g_assert_no_error (error);
  s1_id = g_strdup (signet_service_session_get_id (s1));
  k0 = signet_service_session_take_log_key (s1);
  log = signet_event_log_new_in_memory (k0, "erin", s1_id, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (signet_event_log_append (log, "device.hello", "dev-7", NULL, &error));
  g_assert_true (signet_event_log_close_session (log, &error));
  contents = signet_event_log_dup_contents (log);
  g_assert_true (call_logout (c, s1, &error));
  g_assert_no_error (error);

  /* Session 2 (the next sign-in, the next code): its own log goes
   * without a query and is refused (record 0 names session 1); with
   * ?session= session 1's log is taken. */
  code2 = totp ("erin", 30);
  s2 = call_login (c, "erin", PASSWORD, code2, NULL, NULL, &error);
  g_assert_no_error (error);
  refused = call_upload (c, s2, contents, &error);
  g_assert_null (refused);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_CONFLICT);
  g_clear_error (&error);
  receipt = call_upload_to (c, s2, s1_id, contents, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (receipt->session, ==, s1_id);
  g_assert_cmpuint (receipt->next_seq, ==, signet_event_log_get_next_seq (log));
  g_assert_cmpint (receipt->sealed_seq, ==, (gint64) signet_event_log_get_next_seq (log) - 1);
  /* No such session; another user's session: the same 404. */
  refused = call_upload_to (c, s2, "no-such-session", contents, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  code3 = totp ("dave", 0);
  other = call_login (c, "dave", PASSWORD, code3, NULL, NULL, &error);
  g_assert_no_error (error);
  refused = call_upload_to (c, other, s1_id, contents, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* A technician may not read logs. */
  found = call_search (c, s2, NULL, NULL, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_FORBIDDEN);
  g_clear_error (&error);
  got = call_fetch (c, s2, s1_id, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_FORBIDDEN);
  g_clear_error (&error);

  /* The supervisor finds it and fetches it. */
  code4 = totp ("sam", 0);
  sup = call_login (c, "sam", PASSWORD, code4, NULL, NULL, &error);
  g_assert_no_error (error);
  q.technician = "erin";
  q.device = "dev-7";
  q.outcome = "verified";
  found = call_search (c, sup, &q, &cursor, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  one = g_ptr_array_index (found, 0);
  g_assert_cmpstr (one->id, ==, s1_id);
  g_assert_cmpstr (one->kind, ==, "session");
  g_assert_cmpstr (one->technician, ==, "erin");
  g_assert_cmpstr (one->outcome, ==, "verified");
  g_assert_cmpint (one->ended, >=, one->started);
  g_assert_cmpuint (one->records, ==, signet_event_log_get_next_seq (log));
  g_assert_cmpuint (g_strv_length (one->devices), ==, 1);
  g_assert_cmpstr (one->devices[0], ==, "dev-7");
  g_assert_null (cursor);
  g_clear_pointer (&found, g_ptr_array_unref);
  /* A page of one: a cursor to the next. */
  q = (SignetServiceLogQuery) SIGNET_SERVICE_LOG_QUERY_INIT;
  q.limit = 1;
  found = call_search (c, sup, &q, &cursor, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_nonnull (cursor);
  g_clear_pointer (&found, g_ptr_array_unref);
  q.cursor = cursor;
  found = call_search (c, sup, &q, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&found, g_ptr_array_unref);

  got = call_fetch (c, sup, s1_id, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (got->log, contents));
  g_assert_cmpstr (got->id, ==, s1_id);
  g_assert_cmpstr (got->kind, ==, "session");
  g_assert_cmpstr (got->technician, ==, "erin");
  g_assert_cmpstr (got->verdict, ==, "verified");
  g_assert_cmpstr (got->outcome, ==, "verified");
  g_assert_cmpuint (got->records, ==, signet_event_log_get_next_seq (log));
  g_assert_cmpint (got->sealed_seq, ==, (gint64) got->records - 1);
  g_assert_cmpuint (got->rejected, ==, 0);   /* the refusal went to session 2 */
  g_clear_pointer (&got, signet_service_log_free);
  got = call_fetch (c, sup, "no-such-log", &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_NOT_FOUND);
  g_clear_error (&error);
}

static void
test_signetd_wrong_password (void)
{
  g_autoptr(SignetServiceClient) c = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetServiceSession) s = NULL;
  g_auto(SignetSecretString) code = NULL;

  if (!signetd_start ())
    return;
  c = signetd_client ();
  code = totp ("dave", 0);
  s = call_login (c, "dave", "not the password at all", code, NULL, NULL, &error);
  g_assert_null (s);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_INVALID_CREDENTIALS);
  g_assert_cmpuint (signet_service_error_get_status (error), ==, 401);
  g_assert_null (strstr (error->message, "not the password"));
  g_clear_error (&error);
  /* An unknown user: the same answer. */
  s = call_login (c, "nobody", PASSWORD, code, NULL, NULL, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_INVALID_CREDENTIALS);
  assert_not_logged ("not the password at all");
}

static void
test_signetd_lockout (void)
{
  g_autoptr(SignetServiceClient) c = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetServiceSession) s = NULL;
  g_auto(SignetSecretString) code = NULL;
  gint64 retry_after;

  if (!signetd_start ())
    return;
  c = signetd_client ();
  code = totp ("carol", 0);
  for (int i = 0; i < 2; i++)
    {
      s = call_login (c, "carol", "wrong password", code, NULL, NULL, &error);
      g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_INVALID_CREDENTIALS);
      g_clear_error (&error);
    }
  /* Back-off (backoff_after = 2): refused even with the right password,
   * with the seconds to wait. */
  s = call_login (c, "carol", PASSWORD, code, NULL, NULL, &error);
  g_assert_null (s);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_RATE_LIMITED);
  g_assert_cmpuint (signet_service_error_get_status (error), ==, 429);
  retry_after = signet_service_error_get_retry_after (error);
  g_assert_cmpint (retry_after, >=, 1);
  g_assert_cmpint (retry_after, <=, 2);
  g_assert_true (g_str_has_prefix (error->message, "Too many attempts: try again in "));
  g_clear_error (&error);

  /* After the wait, a third failure locks the name (lock_after = 3). */
  g_usleep ((gulong) (retry_after * G_USEC_PER_SEC + 300 * 1000));
  s = call_login (c, "carol", "wrong password", code, NULL, NULL, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_INVALID_CREDENTIALS);
  g_clear_error (&error);
  s = call_login (c, "carol", PASSWORD, code, NULL, NULL, &error);
  g_assert_null (s);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_LOCKED);
  g_assert_cmpuint (signet_service_error_get_status (error), ==, 423);
  g_assert_cmpstr (signet_service_error_get_api_error (error), ==, "locked");
}

static void
test_signetd_wrong_ca (void)
{
  g_autoptr(SignetServiceClient) wrong = NULL;
  g_autoptr(SignetServiceClient) pinned = NULL;
  g_autoptr(GBytes) other = pem_bytes (cert_b.cert_pem);
  g_autoptr(GError) error = NULL;
  g_autofree char *version = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *wrong_pin = NULL;

  if (!signetd_start ())
    return;
  /* OpenSSL's default store now holds signetd's certificate (SSL_CERT_FILE,
   * see main): a client that fell back to it would get through. */
  g_assert_true (g_file_set_contents (ssl_cert_file, srv->cert_pem, -1, &error));
  wrong = signet_service_client_new (srv->url, other, &error);
  g_assert_no_error (error);
  version = call_health (wrong, NULL, &error);
  g_assert_null (version);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_CERTIFICATE_MISMATCH);
  g_assert_cmpstr (error->message, ==,
                   "The service's certificate does not match the one configured");
  g_clear_error (&error);

  /* A pin of signetd's own key works; another key's does not. */
  pinned = signetd_client ();
  pin = signet_service_spki_pin_from_pem (srv->cert_pem, &error);
  g_assert_true (signet_service_client_set_spki_pin (pinned, pin, &error));
  version = call_health (pinned, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&version, g_free);
  wrong_pin = signet_service_spki_pin_from_pem (cert_b.cert_pem, &error);
  g_assert_true (signet_service_client_set_spki_pin (pinned, wrong_pin, &error));
  version = call_health (pinned, NULL, &error);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_CERTIFICATE_MISMATCH);
}

static gboolean
cancel_idle (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static void
test_signetd_cancelled (void)
{
  g_autoptr(SignetServiceClient) c = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetServiceSession) s = NULL;
  g_autoptr(SignetServiceTrust) trust = NULL;
  g_auto(SignetSecretString) code = NULL;

  if (!signetd_start ())
    return;
  c = signetd_client ();
  code = totp ("dave", 0);
  /* Cancelled in the first main-loop turn after the call, while it
   * connects. */
  g_idle_add (cancel_idle, cancellable);
  s = call_login (c, "dave", PASSWORD, code, NULL, cancellable, &error);
  g_assert_null (s);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_CANCELLED);
  g_clear_error (&error);
  /* The client is still good for the next call. */
  trust = call_trust (c, &error);
  g_assert_no_error (error);
  g_assert_nonnull (trust);
}

static void
test_signetd_stopped (void)
{
  g_autoptr(SignetServiceClient) c = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *version = NULL;

  if (!signetd_start ())
    return;
  c = signetd_client ();
  version = call_health (c, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&version, g_free);
  signetd_stop ();
  signet_service_client_set_retry_delay (c, 10);
  version = call_health (c, NULL, &error);
  g_assert_null (version);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_UNREACHABLE);
}

/* -------------------------------------------------------------------------- */

int
main (int   argc,
      char *argv[])
{
  g_autofree char *proxy_url = NULL;
  g_autofree char *tmp = NULL;
  int rc;

  /* Before anything logs, and before any thread reads the environment. */
  log_text = g_string_new (NULL);
  g_log_set_writer_func (capture_writer, NULL, NULL);
  g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);
  g_test_init (&argc, &argv, NULL);
  if (argc > 1)
    signetd_path = argv[1];

  {
    static const char * const local[] = { "localhost", "127.0.0.1", NULL };
    static const char * const name_only[] = { "localhost", NULL };

    make_cert (&cert_a, local);
    make_cert (&cert_b, local);
    make_cert (&cert_c, name_only);
  }
  /* A proxy for the whole run (its port must be known before the
   * environment is set): loopback calls must never reach it. */
  env_proxy = fake_server_new (NULL);
  proxy_url = g_strdup_printf ("http://127.0.0.1:%u", env_proxy->port);
  g_setenv ("https_proxy", proxy_url, TRUE);
  g_setenv ("HTTPS_PROXY", proxy_url, TRUE);
  g_setenv ("all_proxy", proxy_url, TRUE);
  g_unsetenv ("no_proxy");
  g_unsetenv ("NO_PROXY");
  /* OpenSSL's default anchors: a file the wrong-CA test fills with the
   * right certificate, which the client must not use. */
  tmp = g_dir_make_tmp ("signet-ssl-XXXXXX", NULL);
  ssl_cert_file = g_build_filename (tmp, "ca.pem", NULL);
  g_file_set_contents (ssl_cert_file, cert_b.cert_pem, -1, NULL);
  g_setenv ("SSL_CERT_FILE", ssl_cert_file, TRUE);
  g_setenv ("SSL_CERT_DIR", tmp, TRUE);

  g_test_add_func ("/signet/service-client/local/new", test_new);
  g_test_add_func ("/signet/service-client/local/pin-format", test_pin_format);
  g_test_add_func ("/signet/service-client/local/error-table", test_error_table);
  g_test_add_func ("/signet/service-client/local/errors-over-https", test_errors_over_https);
  g_test_add_func ("/signet/service-client/local/bad-responses", test_bad_responses);
  g_test_add_func ("/signet/service-client/local/retries", test_retries);
  g_test_add_func ("/signet/service-client/local/pop", test_pop);
  g_test_add_func ("/signet/service-client/local/cancel-and-timeout", test_cancel_and_timeout);
  g_test_add_func ("/signet/service-client/local/unreachable", test_unreachable);
  g_test_add_func ("/signet/service-client/local/wrong-ca-and-pin", test_wrong_ca_and_pin);
  g_test_add_func ("/signet/service-client/local/proxy", test_proxy_from_environment);
  g_test_add_func ("/signet/service-client/signetd/flow", test_signetd_flow);
  g_test_add_func ("/signet/service-client/signetd/logs", test_signetd_logs);
  g_test_add_func ("/signet/service-client/signetd/wrong-password", test_signetd_wrong_password);
  g_test_add_func ("/signet/service-client/signetd/lockout", test_signetd_lockout);
  g_test_add_func ("/signet/service-client/signetd/wrong-ca", test_signetd_wrong_ca);
  g_test_add_func ("/signet/service-client/signetd/cancelled", test_signetd_cancelled);
  g_test_add_func ("/signet/service-client/signetd/stopped", test_signetd_stopped);

  rc = g_test_run ();

  signetd_free ();
  fake_server_free (env_proxy);
  rm_rf (tmp);
  g_free (ssl_cert_file);
  g_free (cert_a.cert_pem);
  signet_secret_string_free (cert_a.key_pem);
  g_free (cert_b.cert_pem);
  signet_secret_string_free (cert_b.key_pem);
  g_free (cert_c.cert_pem);
  signet_secret_string_free (cert_c.key_pem);
  return rc;
}
