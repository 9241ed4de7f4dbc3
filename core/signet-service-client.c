/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <curl/curl.h>
#include <json-glib/json-glib.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "signet-base64url.h"
#include "signet-crypto.h"
#include "signet-pop.h"
#include "signet-secret.h"
#include "signet-service-client.h"
#include "sp-cose.h"
#include "sp-cwt.h"
#include "sp-error.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CURL, curl_easy_cleanup)

#define USER_AGENT "signet/" PACKAGE_VERSION
#define RETRY_DELAY_MAX_MS 30000
#define CA_PEM_MAX (1024 * 1024)
#define TIMEOUT_MAX 3600
#define MAX_RETRIES_MAX 10
#define RETRY_DELAY_LIMIT 60000
/* Bounds on what the answers carry (docs/api.md). */
#define REVOCATION_LIST_MAX 65536
#define SIGNED_PROFILE_MAX 32768
#define COSE_KEY_MAX 512
#define COUNTERSIGNATURE_MAX 4096
#define SEALED_CT_MAX (4096 + 16)
#define HPKE_ENC_LEN 65
#define PIN_PREFIX "sha256//"

/* ---- sessions ------------------------------------------------------------ */

struct _SignetServiceSession {
  gatomicrefcount ref;
  SignetKey *pop_key;
  GBytes *token;          /* wiping; NULL once signed out */
  char *id;
  char *username;
  char *scope;
  char *role;
  gint64 expires_at;
  gint64 auth_time;
  GBytes *log_key;        /* wiping; until taken */
  gboolean signed_out;
};

G_DEFINE_BOXED_TYPE (SignetServiceSession, signet_service_session,
                     signet_service_session_ref, signet_service_session_unref)

/* ---- the client ---------------------------------------------------------- */

struct _SignetServiceClient {
  GObject parent_instance;

  char *base_url_arg;     /* as given (construct property) */
  char *base_url;         /* https://HOST[:PORT] */
  char *host;
  gboolean loopback;
  GBytes *ca_pem;
  char *spki_pin;
  char *proxy;            /* NULL: environment */
  guint timeout;
  guint connect_timeout;
  guint max_retries;
  guint retry_delay;
  gsize max_response;
  gint64 clock_offset;

  GMainContext *context;
  CURLM *multi;
  GSource *source;        /* curl's sockets and timer */
  GHashTable *sockets;    /* fd -> the source's tag for it */
};

static void signet_service_client_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SignetServiceClient, signet_service_client, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      signet_service_client_initable_iface_init))

enum {
  PROP_0,
  PROP_BASE_URL,
  PROP_CA_PEM,
  PROP_TIMEOUT,
  PROP_CONNECT_TIMEOUT,
  PROP_MAX_RETRIES,
  PROP_RETRY_DELAY,
  PROP_PROXY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ---- wiping growable buffer ---------------------------------------------- */

/* Answers carry tokens and log keys: a buffer that never leaves an
 * unwiped copy behind when it grows, and is wiped when freed. */
typedef struct {
  guint8 *data;
  gsize len;
  gsize cap;
} WipeBuf;

static void
wipe_buf_clear (WipeBuf *b)
{
  signet_secret_free (b->data, b->cap);
  b->data = NULL;
  b->len = b->cap = 0;
}

static gboolean
wipe_buf_append (WipeBuf       *b,
                 gconstpointer  p,
                 gsize          n,
                 gsize          max)
{
  if (n > max - b->len)
    return FALSE;
  if (b->len + n > b->cap)
    {
      gsize cap = MAX (b->cap, 4096);
      guint8 *data;

      while (cap < b->len + n)
        cap = cap > G_MAXSIZE / 2 ? G_MAXSIZE : cap * 2;
      cap = MIN (cap, max);
      data = g_malloc (cap);
      if (b->len > 0)
        memcpy (data, b->data, b->len);
      signet_secret_free (b->data, b->cap);
      b->data = data;
      b->cap = cap;
    }
  memcpy (b->data + b->len, p, n);
  b->len += n;
  return TRUE;
}

/* ---- requests ------------------------------------------------------------ */

typedef struct _Request Request;

/* Turns a good answer (root may be NULL for a 204) into the task's
 * result, or sets error. */
typedef gpointer (*ParseFunc) (Request     *req,
                               JsonObject  *root,
                               GError     **error);
/* The same for an answer of raw_type, body the whole answer. */
typedef gpointer (*RawParseFunc) (Request     *req,
                                  GBytes      *body,
                                  GError     **error);

struct _Request {
  SignetServiceClient *client;    /* the task's source object keeps it alive */
  GTask *task;                    /* the creation reference, dropped at completion */
  const char *method;
  char *path;                     /* path and query, exactly as on the request line */
  GBytes *body;                   /* wiping; NULL for a GET */
  const char *content_type;
  SignetServiceSession *session;  /* PoP calls */
  gboolean idempotent;
  guint expect_status;
  ParseFunc parse;
  RawParseFunc raw_parse;         /* instead of parse: an answer that is not JSON */
  const char *raw_type;           /* the Content-Type raw_parse takes */
  gsize max_response;             /* the answer's bound (the client's, or more) */
  GHashTable *log_headers;        /* (nullable) Signet-Log-* of the answer, lower-case names */
  GDestroyNotify result_free;     /* NULL: the call returns a boolean */
  gpointer extra;                 /* per call: the login key, the sealed field keys */
  GDestroyNotify extra_free;

  guint attempt;
  gboolean done;
  CURL *easy;
  struct curl_slist *headers;
  WipeBuf response;
  gboolean too_large;
  gint64 retry_after;
  gint64 server_date;
  char errbuf[CURL_ERROR_SIZE];
  GSource *cancel_source;
  GSource *retry_source;
};

/* The curl source: watches the sockets curl asks for and its timer. */
typedef struct {
  GSource source;
  SignetServiceClient *client;    /* not a reference: the client owns the source */
} CurlSource;

static void request_start_attempt (Request *req);

/* ---- small helpers ------------------------------------------------------- */

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* Wipe a header list (it holds the token and the proof) and free it. */
static void
headers_free_wiped (struct curl_slist *list)
{
  for (struct curl_slist *l = list; l != NULL; l = l->next)
    if (l->data != NULL)
      signet_secret_wipe (l->data, strlen (l->data));
  curl_slist_free_all (list);
}

static gboolean
append_header (Request    *req,
               const char *line,
               GError    **error)
{
  struct curl_slist *l = curl_slist_append (req->headers, line);

  if (l == NULL)
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_FAILED, 0, NULL, -1,
                                "Out of memory preparing a request to the service");
      return FALSE;
    }
  req->headers = l;
  return TRUE;
}

static int
no_password (char *buf,
             int   size,
             int   rwflag,
             void *u)
{
  return 0;
}

static gboolean
is_hex_lower (const char *s,
              gsize       len)
{
  if (strlen (s) != len)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
      return FALSE;
  return TRUE;
}

/* JSON-escape s into out, quotes included; out has room for 6 bytes per
 * byte of s plus 2. Returns the bytes written. s is valid UTF-8. */
static gsize
json_put_string (char       *out,
                 const char *s)
{
  static const char digits[] = "0123456789abcdef";
  char *p = out;

  *p++ = '"';
  for (; *s != '\0'; s++)
    {
      guchar c = (guchar) *s;

      if (c == '"' || c == '\\')
        {
          *p++ = '\\';
          *p++ = (char) c;
        }
      else if (c < 0x20)
        {
          *p++ = '\\';
          *p++ = 'u';
          *p++ = '0';
          *p++ = '0';
          *p++ = digits[c >> 4];
          *p++ = digits[c & 0xf];
        }
      else
        *p++ = (char) c;
    }
  *p++ = '"';
  return (gsize) (p - out);
}

typedef struct {
  const char *name;
  const char *value;
  gboolean raw;       /* value is JSON text already */
} JsonMember;

/* A JSON object built in one allocation that is wiped when freed: json-glib
 * would leave copies of the password and code in freed memory. */
static GBytes *
secret_json_object (const JsonMember *members,
                    gsize             n)
{
  gsize cap = 3;
  char *buf, *p;

  for (gsize i = 0; i < n; i++)
    cap += 6 * strlen (members[i].name) + 4 +
           (members[i].raw ? strlen (members[i].value) : 6 * strlen (members[i].value) + 2);
  buf = g_malloc0 (cap);
  p = buf;
  *p++ = '{';
  for (gsize i = 0; i < n; i++)
    {
      if (i > 0)
        *p++ = ',';
      p += json_put_string (p, members[i].name);
      *p++ = ':';
      if (members[i].raw)
        {
          memcpy (p, members[i].value, strlen (members[i].value));
          p += strlen (members[i].value);
        }
      else
        p += json_put_string (p, members[i].value);
    }
  *p++ = '}';
  g_assert ((gsize) (p - buf) <= cap);
  return signet_secret_bytes_new_take (buf, (gsize) (p - buf));
}

static gboolean
check_text (const char  *value,
            const char  *what,
            GError     **error)
{
  if (g_utf8_validate (value, -1, NULL))
    return TRUE;
  /* Never quote it: it may be the password. */
  signet_service_error_set (error, SIGNET_SERVICE_ERROR_INVALID_REQUEST, 0, NULL, -1,
                            "The %s is not valid text", what);
  return FALSE;
}

/* Overwrite a string member of a parsed answer in place before the tree
 * is freed (json-glib frees its strings without wiping them). json-glib's
 * scanner keeps copies of its own that we cannot reach: docs/client.md. */
static void
wipe_string_member (JsonObject *obj,
                    const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING)
    {
      char *s = (char *) json_node_get_string (node);

      if (s != NULL)
        signet_secret_wipe (s, strlen (s));
    }
}

/* ---- reading answers ----------------------------------------------------- */

static gboolean
bad_member (GError    **error,
            const char *name)
{
  signet_service_error_set (error, SIGNET_SERVICE_ERROR_BAD_RESPONSE, 200, NULL, -1,
                            "The service's answer lacks a valid \"%s\"", name);
  return FALSE;
}

static gboolean
member_string (JsonObject  *obj,
               const char  *name,
               const char **out,
               GError     **error)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING ||
      !g_utf8_validate (json_node_get_string (node), -1, NULL))
    return bad_member (error, name);
  *out = json_node_get_string (node);
  return TRUE;
}

static gboolean
member_int (JsonObject  *obj,
            const char  *name,
            gint64       min,
            gint64      *out,
            GError     **error)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64 || json_node_get_int (node) < min)
    return bad_member (error, name);
  *out = json_node_get_int (node);
  return TRUE;
}

/* A non-negative integer, or null (*out = -1). */
static gboolean
member_int_or_null (JsonObject  *obj,
                    const char  *name,
                    gint64      *out,
                    GError     **error)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node != NULL && JSON_NODE_HOLDS_NULL (node))
    {
      *out = -1;
      return TRUE;
    }
  return member_int (obj, name, 0, out, error);
}

static gboolean
member_bool (JsonObject  *obj,
             const char  *name,
             gboolean    *out,
             GError     **error)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return bad_member (error, name);
  *out = json_node_get_boolean (node);
  return TRUE;
}

static JsonArray *
member_array (JsonObject  *obj,
              const char  *name,
              GError     **error)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      bad_member (error, name);
      return NULL;
    }
  return json_node_get_array (node);
}

static JsonObject *
element_object (JsonArray   *array,
                guint        i,
                const char  *name,
                GError     **error)
{
  JsonNode *node = json_array_get_element (array, i);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      bad_member (error, name);
      return NULL;
    }
  return json_node_get_object (node);
}

/* A base64url member of 1..max bytes. Returns: (transfer full) (nullable) */
static GBytes *
member_b64 (JsonObject  *obj,
            const char  *name,
            gsize        max,
            GError     **error)
{
  const char *text;
  GBytes *bytes;

  if (!member_string (obj, name, &text, error))
    return NULL;
  bytes = signet_base64url_decode (text, -1, SIGNET_BASE64URL_ENCODED_LEN (max), NULL);
  if (bytes == NULL || g_bytes_get_size (bytes) == 0)
    {
      g_clear_pointer (&bytes, g_bytes_unref);
      bad_member (error, name);
      return NULL;
    }
  return bytes;
}

/* ---- session ------------------------------------------------------------- */

/**
 * signet_service_session_ref:
 * @session: a session
 *
 * Returns: (transfer full): @session
 */
SignetServiceSession *
signet_service_session_ref (SignetServiceSession *session)
{
  g_return_val_if_fail (session != NULL, NULL);
  g_atomic_ref_count_inc (&session->ref);
  return session;
}

void
signet_service_session_unref (SignetServiceSession *session)
{
  g_return_if_fail (session != NULL);
  if (!g_atomic_ref_count_dec (&session->ref))
    return;
  g_clear_pointer (&session->pop_key, signet_key_unref);
  g_clear_pointer (&session->token, g_bytes_unref);
  g_clear_pointer (&session->log_key, g_bytes_unref);
  g_free (session->id);
  g_free (session->username);
  g_free (session->scope);
  g_free (session->role);
  g_free (session);
}

SignetServiceSession *
signet_service_session_dup (SignetServiceSession *session)
{
  SignetServiceSession *copy;

  g_return_val_if_fail (session != NULL, NULL);
  copy = g_new0 (SignetServiceSession, 1);
  g_atomic_ref_count_init (&copy->ref);
  copy->pop_key = signet_key_ref (session->pop_key);
  copy->token = session->token != NULL ? g_bytes_ref (session->token) : NULL;
  copy->id = g_strdup (session->id);
  copy->username = g_strdup (session->username);
  copy->scope = g_strdup (session->scope);
  copy->role = g_strdup (session->role);
  copy->expires_at = session->expires_at;
  copy->auth_time = session->auth_time;
  copy->signed_out = session->signed_out;
  return copy;
}

SignetKey *
signet_service_session_get_pop_key (SignetServiceSession *session)
{
  g_return_val_if_fail (session != NULL, NULL);
  return session->pop_key;
}

GBytes *
signet_service_session_dup_token (SignetServiceSession *session)
{
  g_return_val_if_fail (session != NULL, NULL);
  return session->token != NULL ? g_bytes_ref (session->token) : NULL;
}

const char *
signet_service_session_get_id (SignetServiceSession *session)
{
  g_return_val_if_fail (session != NULL, NULL);
  return session->id;
}

const char *
signet_service_session_get_username (SignetServiceSession *session)
{
  g_return_val_if_fail (session != NULL, NULL);
  return session->username;
}

const char *
signet_service_session_get_scope (SignetServiceSession *session)
{
  g_return_val_if_fail (session != NULL, NULL);
  return session->scope;
}

gboolean
signet_service_session_has_scope (SignetServiceSession *session,
                                  const char           *word)
{
  g_auto(GStrv) words = NULL;

  g_return_val_if_fail (session != NULL, FALSE);
  g_return_val_if_fail (word != NULL, FALSE);
  words = g_strsplit (session->scope, " ", -1);
  return *word != '\0' && g_strv_contains ((const char * const *) words, word);
}

const char *
signet_service_session_get_role (SignetServiceSession *session)
{
  g_return_val_if_fail (session != NULL, NULL);
  return session->role;
}

gint64
signet_service_session_get_expires_at (SignetServiceSession *session)
{
  g_return_val_if_fail (session != NULL, 0);
  return session->expires_at;
}

gint64
signet_service_session_get_auth_time (SignetServiceSession *session)
{
  g_return_val_if_fail (session != NULL, 0);
  return session->auth_time;
}

GBytes *
signet_service_session_take_log_key (SignetServiceSession *session)
{
  g_return_val_if_fail (session != NULL, NULL);
  return g_steal_pointer (&session->log_key);
}

gboolean
signet_service_session_is_signed_out (SignetServiceSession *session)
{
  g_return_val_if_fail (session != NULL, TRUE);
  return session->signed_out;
}

static void
session_sign_out (SignetServiceSession *session)
{
  session->signed_out = TRUE;
  g_clear_pointer (&session->token, g_bytes_unref);
  g_clear_pointer (&session->log_key, g_bytes_unref);
}

/* ---- result types -------------------------------------------------------- */

static void
authority_key_free (SignetServiceAuthorityKey *k)
{
  g_free (k->kid);
  g_clear_pointer (&k->key, signet_key_unref);
  g_clear_pointer (&k->cose_key, g_bytes_unref);
  g_free (k);
}

void
signet_service_trust_free (SignetServiceTrust *trust)
{
  if (trust == NULL)
    return;
  g_clear_pointer (&trust->authority_keys, g_ptr_array_unref);
  g_clear_pointer (&trust->manufacturer_cas, g_ptr_array_unref);
  g_clear_pointer (&trust->revocation_list, g_bytes_unref);
  g_free (trust);
}

static void
profile_field_free (SignetServiceProfileField *f)
{
  g_free (f->key);
  g_free (f->type);
  g_strfreev (f->values);
  g_free (f);
}

void
signet_service_profile_free (SignetServiceProfile *profile)
{
  if (profile == NULL)
    return;
  g_free (profile->id);
  g_free (profile->model);
  g_free (profile->klass);
  g_free (profile->description);
  g_clear_pointer (&profile->fields, g_ptr_array_unref);
  g_clear_pointer (&profile->signed_profile, g_bytes_unref);
  g_free (profile);
}

void
signet_service_sealed_free (SignetServiceSealed *sealed)
{
  if (sealed == NULL)
    return;
  g_free (sealed->key);
  g_clear_pointer (&sealed->enc, g_bytes_unref);
  g_clear_pointer (&sealed->ct, g_bytes_unref);
  g_free (sealed->digest);
  g_free (sealed);
}

void
signet_service_log_receipt_free (SignetServiceLogReceipt *receipt)
{
  if (receipt == NULL)
    return;
  g_free (receipt->session);
  g_clear_pointer (&receipt->head, g_bytes_unref);
  g_clear_pointer (&receipt->countersignature, g_bytes_unref);
  g_free (receipt);
}

void
signet_service_log_summary_free (SignetServiceLogSummary *summary)
{
  if (summary == NULL)
    return;
  g_free (summary->id);
  g_free (summary->kind);
  g_free (summary->technician);
  g_free (summary->outcome);
  g_strfreev (summary->devices);
  g_free (summary);
}

void
signet_service_log_free (SignetServiceLog *log)
{
  if (log == NULL)
    return;
  g_free (log->id);
  g_clear_pointer (&log->log, g_bytes_unref);
  g_free (log->kind);
  g_free (log->technician);
  g_free (log->outcome);
  g_free (log->verdict);
  g_free (log->reason);
  g_free (log);
}

/* ---- libcurl errors ------------------------------------------------------ */

/* The one translation of libcurl's codes (STYLE.md rule 11). curl's error
 * buffer names hosts and OpenSSL reasons, never request data. */
static void
set_curl_error (Request   *req,
                CURLcode   code,
                GError   **error)
{
  SignetServiceClient *self = req->client;
  const char *detail = req->errbuf[0] != '\0' ? req->errbuf : curl_easy_strerror (code);

  switch (code)
    {
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
      if (code == CURLE_FILESIZE_EXCEEDED || req->too_large)
        signet_service_error_set (error, SIGNET_SERVICE_ERROR_BAD_RESPONSE, 0, NULL, -1,
                                  "The service's answer is larger than %" G_GSIZE_FORMAT
                                  " KiB: refused", req->max_response / 1024);
      else
        signet_service_error_set (error, SIGNET_SERVICE_ERROR_FAILED, 0, NULL, -1,
                                  "Could not keep the service's answer (%s)", detail);
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_UNREACHABLE, 0, NULL, -1,
                                "Cannot reach the service at %s: the name %s does not resolve",
                                self->base_url, self->host);
      break;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_PROXY:
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_UNREACHABLE, 0, NULL, -1,
                                "Cannot reach the service at %s through the proxy (%s)",
                                self->base_url, detail);
      break;
    case CURLE_COULDNT_CONNECT:
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_UNREACHABLE, 0, NULL, -1,
                                "Cannot reach the service at %s: the connection was refused "
                                "or the host is down", self->base_url);
      break;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_UNREACHABLE, 0, NULL, -1,
                                "The connection to the service at %s broke off (%s)",
                                self->base_url, detail);
      break;
    case CURLE_OPERATION_TIMEDOUT:
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_TIMEOUT, 0, NULL, -1,
                                "The service at %s did not answer within %u s",
                                self->base_url, self->timeout);
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_CERTIFICATE_MISMATCH, 0, NULL, -1,
                                "The service's certificate does not match the one configured");
      g_debug ("certificate refused: %s", detail);
      break;
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_CERTIFICATE_MISMATCH, 0, NULL, -1,
                                "The service's certificate does not match the configured key pin");
      break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_TLS, 0, NULL, -1,
                                "The secure connection to the service at %s failed (%s)",
                                self->base_url, detail);
      break;
    case CURLE_WEIRD_SERVER_REPLY:
    /* Only https is ever asked for: this is curl refusing an HTTP/0.9
     * answer (no status line). */
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_TOO_MANY_REDIRECTS:
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_BAD_RESPONSE, 0, NULL, -1,
                                "The service's answer is not valid HTTP (%s)", detail);
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_CANCELLED, 0, NULL, -1,
                                "Cancelled");
      break;
    default:
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_FAILED, 0, NULL, -1,
                                "The request to the service failed (%s)", detail);
      break;
    }
}

/* ---- the main-loop glue -------------------------------------------------- */

static int
socket_cb (CURL          *easy,
           curl_socket_t  fd,
           int            what,
           void          *user_data,
           void          *socket_data)
{
  SignetServiceClient *self = user_data;
  gpointer tag = socket_data;
  GIOCondition cond;

  if (self->source == NULL)
    return 0;
  if (what == CURL_POLL_REMOVE)
    {
      if (tag != NULL)
        g_source_remove_unix_fd (self->source, tag);
      g_hash_table_remove (self->sockets, GINT_TO_POINTER (fd));
      curl_multi_assign (self->multi, fd, NULL);
      return 0;
    }
  cond = G_IO_ERR | G_IO_HUP;
  if (what & CURL_POLL_IN)
    cond |= G_IO_IN;
  if (what & CURL_POLL_OUT)
    cond |= G_IO_OUT;
  if (tag != NULL)
    g_source_modify_unix_fd (self->source, tag, cond);
  else
    {
      tag = g_source_add_unix_fd (self->source, fd, cond);
      g_hash_table_insert (self->sockets, GINT_TO_POINTER (fd), tag);
      curl_multi_assign (self->multi, fd, tag);
    }
  return 0;
}

static int
timer_cb (CURLM *multi,
          long   timeout_ms,
          void  *user_data)
{
  SignetServiceClient *self = user_data;

  if (self->source == NULL)
    return 0;
  if (timeout_ms < 0)
    g_source_set_ready_time (self->source, -1);
  else
    g_source_set_ready_time (self->source, g_get_monotonic_time () + (gint64) timeout_ms * 1000);
  return 0;
}

static void request_attempt_done (Request  *req,
                                  CURLcode  code);

static void
client_check_done (SignetServiceClient *self)
{
  CURLMsg *m;
  int left = 0;

  while ((m = curl_multi_info_read (self->multi, &left)) != NULL)
    {
      if (m->msg == CURLMSG_DONE)
        {
          CURLcode code = m->data.result;
          char *priv = NULL;

          curl_easy_getinfo (m->easy_handle, CURLINFO_PRIVATE, &priv);
          /* Invalidates m. */
          request_attempt_done ((Request *) (void *) priv, code);
        }
    }
}

typedef struct {
  curl_socket_t fd;
  GIOCondition cond;
} ReadySocket;

static gboolean
curl_source_dispatch (GSource     *source,
                      GSourceFunc  callback,
                      gpointer     user_data)
{
  /* Finishing a call runs its callback, which may drop the last
   * reference to the client: keep it until the end. */
  g_autoptr(SignetServiceClient) self = g_object_ref (((CurlSource *) source)->client);
  g_autoptr(GArray) ready = g_array_new (FALSE, FALSE, sizeof (ReadySocket));
  GHashTableIter iter;
  gpointer key, tag;
  gint64 ready_time;
  int running = 0;

  /* curl's callbacks change the table while it acts: look first. */
  g_hash_table_iter_init (&iter, self->sockets);
  while (g_hash_table_iter_next (&iter, &key, &tag))
    {
      ReadySocket r = { GPOINTER_TO_INT (key), g_source_query_unix_fd (source, tag) };

      if (r.cond != 0)
        g_array_append_val (ready, r);
    }
  for (guint i = 0; i < ready->len; i++)
    {
      ReadySocket *r = &g_array_index (ready, ReadySocket, i);
      int ev = 0;

      if (r->cond & G_IO_IN)
        ev |= CURL_CSELECT_IN;
      if (r->cond & G_IO_OUT)
        ev |= CURL_CSELECT_OUT;
      if (r->cond & (G_IO_ERR | G_IO_HUP | G_IO_NVAL))
        ev |= CURL_CSELECT_ERR;
      curl_multi_socket_action (self->multi, r->fd, ev, &running);
    }
  ready_time = g_source_get_ready_time (source);
  if (ready_time >= 0 && ready_time <= g_source_get_time (source))
    {
      g_source_set_ready_time (source, -1);
      curl_multi_socket_action (self->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
  client_check_done (self);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs curl_source_funcs = {
  .dispatch = curl_source_dispatch,
};

/* ---- one request, from start to its result ------------------------------- */

static void
request_reset_attempt (Request *req)
{
  if (req->easy != NULL)
    {
      curl_multi_remove_handle (req->client->multi, req->easy);
      curl_easy_cleanup (req->easy);
      req->easy = NULL;
    }
  g_clear_pointer (&req->headers, headers_free_wiped);
  wipe_buf_clear (&req->response);
  req->too_large = FALSE;
  req->retry_after = -1;
  req->server_date = -1;
  req->errbuf[0] = '\0';
  if (req->log_headers != NULL)
    g_hash_table_remove_all (req->log_headers);
}

static void
request_free (gpointer data)
{
  Request *req = data;

  request_reset_attempt (req);
  g_free (req->path);
  g_clear_pointer (&req->body, g_bytes_unref);
  g_clear_pointer (&req->session, signet_service_session_unref);
  g_clear_pointer (&req->log_headers, g_hash_table_unref);
  if (req->extra_free != NULL && req->extra != NULL)
    req->extra_free (req->extra);
  g_free (req);
}

/* Give the task its result (error NULL) or error (taken), once. */
static void
request_complete (Request  *req,
                  gpointer  result,
                  GError   *error)
{
  GTask *task;

  if (req->done)
    {
      if (error != NULL)
        g_error_free (error);
      else if (result != NULL && req->result_free != NULL)
        req->result_free (result);
      return;
    }
  req->done = TRUE;
  if (req->cancel_source != NULL)
    {
      g_source_destroy (req->cancel_source);
      g_clear_pointer (&req->cancel_source, g_source_unref);
    }
  if (req->retry_source != NULL)
    {
      g_source_destroy (req->retry_source);
      g_clear_pointer (&req->retry_source, g_source_unref);
    }
  request_reset_attempt (req);

  task = g_steal_pointer (&req->task);
  if (error != NULL)
    g_task_return_error (task, error);
  else if (req->result_free == NULL)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_pointer (task, result, req->result_free);
  g_object_unref (task);
}

static void
request_fail (Request *req,
              GError  *error)
{
  request_complete (req, NULL, error);
}

static gboolean
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  Request *req = user_data;
  GError *error = NULL;

  signet_service_error_set (&error, SIGNET_SERVICE_ERROR_CANCELLED, 0, NULL, -1, "Cancelled");
  request_fail (req, error);
  return G_SOURCE_REMOVE;
}

static gboolean
retry_cb (gpointer user_data)
{
  Request *req = user_data;

  g_clear_pointer (&req->retry_source, g_source_unref);
  request_start_attempt (req);
  return G_SOURCE_REMOVE;
}

/* Whether to try an idempotent call again after error, and when. */
static gboolean
should_retry (Request      *req,
              const GError *error,
              guint        *out_delay_ms)
{
  SignetServiceClient *self = req->client;
  guint64 delay;
  gint64 retry_after;

  if (!req->idempotent || req->attempt > self->max_retries ||
      !signet_service_error_is_transient (error))
    return FALSE;
  retry_after = signet_service_error_get_retry_after (error);
  if (retry_after > SIGNET_SERVICE_RETRY_AFTER_MAX)
    return FALSE;
  /* Exponential back-off with "equal jitter": half the delay fixed, half
   * random, so that clients that failed together do not come back
   * together. */
  delay = (guint64) self->retry_delay << MIN (req->attempt - 1, 16u);
  delay = MIN (delay, RETRY_DELAY_MAX_MS);
  delay = delay / 2 + (guint64) g_random_int_range (0, (gint32) (delay / 2) + 1);
  if (retry_after >= 0)
    delay = MAX (delay, (guint64) retry_after * 1000);
  *out_delay_ms = (guint) delay;
  return TRUE;
}

static size_t
write_cb (char   *data,
          size_t  size,
          size_t  nmemb,
          void   *user_data)
{
  Request *req = user_data;
  gsize n = size * nmemb;

  if (!wipe_buf_append (&req->response, data, n, req->max_response))
    {
      req->too_large = TRUE;
      return 0;
    }
  return n;
}

static size_t
header_cb (char   *data,
           size_t  size,
           size_t  nmemb,
           void   *user_data)
{
  Request *req = user_data;
  gsize n = size * nmemb;
  g_autofree char *line = NULL;
  char *colon, *value;

  /* Headers of a proxy's CONNECT answer come first: start over at each
   * status line. */
  if (n >= 5 && memcmp (data, "HTTP/", 5) == 0)
    {
      req->retry_after = -1;
      req->server_date = -1;
      if (req->log_headers != NULL)
        g_hash_table_remove_all (req->log_headers);
      return n;
    }
  if (n > 512)
    return n;
  line = g_strndup (data, n);
  colon = strchr (line, ':');
  if (colon == NULL)
    return n;
  *colon = '\0';
  value = g_strstrip (colon + 1);
  if (g_ascii_strcasecmp (line, "Retry-After") == 0)
    {
      gsize len = strlen (value);
      gboolean digits = len > 0 && len <= 9;

      for (gsize i = 0; digits && i < len; i++)
        digits = g_ascii_isdigit (value[i]);
      if (digits)
        req->retry_after = g_ascii_strtoll (value, NULL, 10);
      else
        {
          /* The HTTP-date form. */
          time_t t = curl_getdate (value, NULL);

          if (t != (time_t) -1)
            req->retry_after = MAX ((gint64) t - now_seconds (), 0);
        }
    }
  else if (g_ascii_strcasecmp (line, "Date") == 0)
    {
      time_t t = curl_getdate (value, NULL);

      if (t != (time_t) -1)
        req->server_date = (gint64) t;
    }
  else if (req->log_headers != NULL && g_ascii_strncasecmp (line, "Signet-Log-", 11) == 0 &&
           g_utf8_validate (value, -1, NULL))
    g_hash_table_replace (req->log_headers, g_ascii_strdown (line, -1), g_strdup (value));
  return n;
}

static gboolean
request_add_pop (Request  *req,
                 GError  **error)
{
  SignetServiceSession *session = req->session;
  g_autoptr(GError) local_error = NULL;
  g_auto(SignetSecretString) proof = NULL;
  g_auto(SignetSecretString) token_text = NULL;
  g_auto(SignetSecretString) line = NULL;
  gint64 now = now_seconds () + req->client->clock_offset;

  if (session->signed_out || session->token == NULL)
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_UNAUTHORIZED, 0, NULL, -1,
                                "The session was signed out: sign in again");
      return FALSE;
    }
  proof = signet_pop_create (session->pop_key, session->token, req->method, req->path,
                             req->body, MAX (now, 0), &local_error);
  if (proof == NULL)
    {
      /* signet-pop's messages never carry the token or the proof. */
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_FAILED, 0, NULL, -1,
                                "Could not sign the request's proof of possession: %s",
                                local_error->message);
      return FALSE;
    }
  token_text = signet_base64url_encode (g_bytes_get_data (session->token, NULL),
                                        g_bytes_get_size (session->token));
  line = g_strconcat ("Authorization: PoP ", token_text, NULL);
  if (!append_header (req, line, error))
    return FALSE;
  signet_secret_string_free (g_steal_pointer (&line));
  line = g_strconcat (SIGNET_POP_HEADER_NAME ": ", proof, NULL);
  return append_header (req, line, error);
}

static gboolean
request_setup_easy (Request  *req,
                    GError  **error)
{
  SignetServiceClient *self = req->client;
  g_autofree char *url = g_strconcat (self->base_url, req->path, NULL);
  g_autofree char *ctype = NULL;
  struct curl_blob ca = { 0 };
  CURL *easy;
  CURLcode rc = CURLE_OK;

  g_autofree char *accept = g_strconcat ("Accept: ",
                                         req->raw_type != NULL ? req->raw_type : "application/json",
                                         NULL);

  if (!append_header (req, accept, error) ||
      /* Small bodies: no 100-continue round trip (bounded on our side). */
      !append_header (req, "Expect:", error))
    return FALSE;
  if (req->body != NULL)
    {
      ctype = g_strconcat ("Content-Type: ", req->content_type, NULL);
      if (!append_header (req, ctype, error))
        return FALSE;
    }
  if (req->session != NULL && !request_add_pop (req, error))
    return FALSE;

  easy = req->easy = curl_easy_init ();
  if (easy == NULL)
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_FAILED, 0, NULL, -1,
                                "Could not start a request to the service (libcurl)");
      return FALSE;
    }
  ca.data = (void *) g_bytes_get_data (self->ca_pem, &ca.len);
  ca.flags = CURL_BLOB_COPY;

#define SETOPT(opt, val) \
  G_STMT_START { if (rc == CURLE_OK) rc = curl_easy_setopt (easy, opt, val); } G_STMT_END
  SETOPT (CURLOPT_URL, url);
  SETOPT (CURLOPT_PRIVATE, (char *) req);
  SETOPT (CURLOPT_ERRORBUFFER, req->errbuf);
  SETOPT (CURLOPT_NOSIGNAL, 1L);
  /* Cancelling during a name lookup must not join curl's resolver thread
   * on this (the UI) thread: leave it to finish on its own. */
  SETOPT (CURLOPT_QUICK_EXIT, 1L);
  SETOPT (CURLOPT_PROTOCOLS_STR, "https");
  SETOPT (CURLOPT_REDIR_PROTOCOLS_STR, "https");
  SETOPT (CURLOPT_FOLLOWLOCATION, 0L);
  SETOPT (CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
  SETOPT (CURLOPT_USERAGENT, USER_AGENT);
  SETOPT (CURLOPT_HTTPHEADER, req->headers);
  /* TLS: exactly the configured anchors. NULL removes the built-in CA
   * file and directory, so the system store is never consulted. */
  SETOPT (CURLOPT_SSL_VERIFYPEER, 1L);
  SETOPT (CURLOPT_SSL_VERIFYHOST, 2L);
  SETOPT (CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
  SETOPT (CURLOPT_CAINFO, (char *) NULL);
  SETOPT (CURLOPT_CAPATH, (char *) NULL);
  SETOPT (CURLOPT_CAINFO_BLOB, &ca);
  if (self->spki_pin != NULL)
    SETOPT (CURLOPT_PINNEDPUBLICKEY, self->spki_pin);
  /* Proxies: libcurl reads https_proxy, all_proxy and no_proxy itself
   * when CURLOPT_PROXY is not set; "" turns them off. */
  if (self->loopback)
    SETOPT (CURLOPT_PROXY, "");
  else if (self->proxy != NULL)
    SETOPT (CURLOPT_PROXY, self->proxy);
  SETOPT (CURLOPT_CONNECTTIMEOUT_MS, (long) self->connect_timeout * 1000);
  SETOPT (CURLOPT_TIMEOUT_MS, (long) self->timeout * 1000);
  SETOPT (CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) req->max_response);
  SETOPT (CURLOPT_WRITEFUNCTION, write_cb);
  SETOPT (CURLOPT_WRITEDATA, req);
  SETOPT (CURLOPT_HEADERFUNCTION, header_cb);
  SETOPT (CURLOPT_HEADERDATA, req);
  if (req->body != NULL)
    {
      gsize len = 0;
      gconstpointer data = g_bytes_get_data (req->body, &len);

      SETOPT (CURLOPT_POST, 1L);
      /* Not copied by curl: the body lives as long as the request. */
      SETOPT (CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
      SETOPT (CURLOPT_POSTFIELDS, data);
    }
  else
    SETOPT (CURLOPT_HTTPGET, 1L);
#undef SETOPT

  if (rc != CURLE_OK)
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_FAILED, 0, NULL, -1,
                                "This libcurl cannot make the request (%s)",
                                curl_easy_strerror (rc));
      return FALSE;
    }
  if (curl_multi_add_handle (self->multi, easy) != CURLM_OK)
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_FAILED, 0, NULL, -1,
                                "Could not start a request to the service (libcurl)");
      return FALSE;
    }
  return TRUE;
}

static void
request_start_attempt (Request *req)
{
  GError *error = NULL;

  req->attempt++;
  request_reset_attempt (req);
  if (!request_setup_easy (req, &error))
    request_fail (req, error);
}

/* The API error of a non-2xx answer. */
static GError *
error_from_answer (Request *req,
                   guint    status)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  const char *api_error = NULL;
  const char *message = NULL;
  GError *error = NULL;

  if (req->response.len > 0 &&
      json_parser_load_from_data (parser, (const char *) req->response.data,
                                  (gssize) req->response.len, NULL))
    {
      JsonNode *root = json_parser_get_root (parser);

      if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
        {
          JsonObject *obj = json_node_get_object (root);
          JsonNode *e = json_object_get_member (obj, "error");
          JsonNode *m = json_object_get_member (obj, "message");

          if (e != NULL && JSON_NODE_HOLDS_VALUE (e) &&
              json_node_get_value_type (e) == G_TYPE_STRING)
            api_error = json_node_get_string (e);
          if (m != NULL && JSON_NODE_HOLDS_VALUE (m) &&
              json_node_get_value_type (m) == G_TYPE_STRING)
            message = json_node_get_string (m);
        }
    }
  signet_service_error_set_from_api (&error, status, api_error, message, req->retry_after);
  return error;
}

static gboolean
is_json_content_type (const char *ctype)
{
  gsize n;

  if (ctype == NULL)
    return FALSE;
  n = strcspn (ctype, ";");
  while (n > 0 && g_ascii_isspace (ctype[n - 1]))
    n--;
  return n == strlen ("application/json") &&
         g_ascii_strncasecmp (ctype, "application/json", n) == 0;
}

/* A 2xx answer: the call's result, or an error. */
static gpointer
result_from_answer (Request  *req,
                    guint     status,
                    GError  **error)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonNode *root;
  char *ctype = NULL;

  if (status != req->expect_status)
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_BAD_RESPONSE, status, NULL, -1,
                                "The service gave an unexpected answer (HTTP %u)", status);
      return NULL;
    }
  if (status == 204)
    return req->parse (req, NULL, error);

  curl_easy_getinfo (req->easy, CURLINFO_CONTENT_TYPE, &ctype);
  if (req->raw_parse != NULL)
    {
      g_autoptr(GBytes) body = NULL;
      gsize n = ctype != NULL ? strcspn (ctype, ";") : 0;

      while (n > 0 && g_ascii_isspace (ctype[n - 1]))
        n--;
      if (ctype == NULL || n != strlen (req->raw_type) ||
          g_ascii_strncasecmp (ctype, req->raw_type, n) != 0)
        {
          signet_service_error_set (error, SIGNET_SERVICE_ERROR_BAD_RESPONSE, status, NULL, -1,
                                    "The service's answer is not %s", req->raw_type);
          return NULL;
        }
      body = g_bytes_new (req->response.data, req->response.len);
      return req->raw_parse (req, body, error);
    }
  if (!is_json_content_type (ctype))
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_BAD_RESPONSE, status, NULL, -1,
                                "The service's answer is not JSON");
      return NULL;
    }
  parser = json_parser_new ();
  /* json-glib's own message would quote the answer: not ours to show. */
  if (req->response.len == 0 ||
      !json_parser_load_from_data (parser, (const char *) req->response.data,
                                   (gssize) req->response.len, NULL))
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_BAD_RESPONSE, status, NULL, -1,
                                "The service's answer is not JSON");
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_BAD_RESPONSE, status, NULL, -1,
                                "The service's answer is not a JSON object");
      return NULL;
    }
  return req->parse (req, json_node_get_object (root), error);
}

static void
request_attempt_done (Request  *req,
                      CURLcode  code)
{
  SignetServiceClient *self = req->client;
  GError *error = NULL;
  gpointer result = NULL;
  long status = 0;
  guint delay = 0;

  curl_easy_getinfo (req->easy, CURLINFO_RESPONSE_CODE, &status);
  g_debug ("%s %s: attempt %u, %s, HTTP %ld", req->method, req->path, req->attempt,
           code == CURLE_OK ? "done" : curl_easy_strerror (code), status);

  if (code != CURLE_OK)
    set_curl_error (req, code, &error);
  else
    {
      /* The service's clock, for the proofs' iat (over the pinned TLS). */
      if (req->server_date > 0)
        self->clock_offset = req->server_date - now_seconds ();
      if (status >= 200 && status <= 299)
        result = result_from_answer (req, (guint) status, &error);
      else
        error = error_from_answer (req, (guint) status);
    }

  if (error != NULL && should_retry (req, error, &delay))
    {
      g_debug ("%s %s: retrying in %u ms: %s", req->method, req->path, delay, error->message);
      g_error_free (error);
      request_reset_attempt (req);
      req->retry_source = g_timeout_source_new (delay);
      g_source_set_name (req->retry_source, "[signet] service retry");
      g_source_set_callback (req->retry_source, retry_cb, req, NULL);
      g_source_attach (req->retry_source, self->context);
      return;
    }
  request_complete (req, result, error);
}

/* A new request; its task holds it. */
static Request *
request_new (SignetServiceClient *self,
             const char          *method,
             const char          *path,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data,
             gpointer             source_tag)
{
  Request *req = g_new0 (Request, 1);

  req->client = self;
  req->method = method;
  req->path = g_strdup (path);
  req->expect_status = 200;
  req->max_response = self->max_response;
  req->retry_after = -1;
  req->server_date = -1;
  req->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (req->task, source_tag);
  /* Cancellation is reported as SIGNET_SERVICE_ERROR_CANCELLED. */
  g_task_set_check_cancellable (req->task, FALSE);
  g_task_set_task_data (req->task, req, request_free);
  return req;
}

static void
request_run (Request *req)
{
  GCancellable *cancellable = g_task_get_cancellable (req->task);

  if (g_cancellable_is_cancelled (cancellable))
    {
      cancelled_cb (cancellable, req);
      return;
    }
  if (cancellable != NULL)
    {
      req->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_name (req->cancel_source, "[signet] service cancel");
      g_source_set_callback (req->cancel_source, G_SOURCE_FUNC (cancelled_cb), req, NULL);
      g_source_attach (req->cancel_source, req->client->context);
    }
  request_start_attempt (req);
}

/* ---- answers of the calls ------------------------------------------------ */

/* What login, refresh and step-up answer. */
typedef struct {
  GBytes *token;
  gint64 expires_at;
  const char *scope;
  const char *role;
  gint64 auth_time;
  const char *session;
  GBytes *log_key;
  char *sub;
} Issued;

static void
issued_clear (Issued *issued)
{
  g_clear_pointer (&issued->token, g_bytes_unref);
  g_clear_pointer (&issued->log_key, g_bytes_unref);
  g_clear_pointer (&issued->sub, g_free);
}

/* Read the claims of the token just issued, without verifying its
 * signature: the service is authenticated by the pinned TLS, and devices
 * verify the token. Checks that it is bound to our key. */
static gboolean
check_token (GBytes     *token,
             SignetKey  *pop_key,
             char      **out_sub,
             GError    **error)
{
  g_autoptr(GBytes) pub = signet_key_get_public_bytes (pop_key);
  sp_cose_sign1 msg;
  sp_cwt_claims claims;
  gsize len;
  const guint8 *p = g_bytes_get_data (token, &len);
  sp_err err;

  err = sp_cose_sign1_decode (p, len, NULL, &msg);
  if (err == SP_OK)
    err = sp_cose_sign1_check_strict (&msg, SP_CWT_CONTENT_TYPE);
  if (err == SP_OK)
    err = sp_cwt_claims_decode (msg.payload, msg.payload_len, &claims);
  if (err != SP_OK)
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_BAD_RESPONSE, 200, NULL, -1,
                                "The service's token does not decode (%s)", sp_strerror (err));
      return FALSE;
    }
  if (g_bytes_get_size (pub) != sizeof claims.cnf.pub ||
      memcmp (claims.cnf.pub, g_bytes_get_data (pub, NULL), sizeof claims.cnf.pub) != 0)
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_BAD_RESPONSE, 200, NULL, -1,
                                "The service's token is bound to another key than this "
                                "sign-in's");
      return FALSE;
    }
  if (claims.sub.len == 0 || !g_utf8_validate (claims.sub.ptr, (gssize) claims.sub.len, NULL) ||
      memchr (claims.sub.ptr, '\0', claims.sub.len) != NULL)
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_BAD_RESPONSE, 200, NULL, -1,
                                "The service's token names no valid user");
      return FALSE;
    }
  *out_sub = g_strndup (claims.sub.ptr, claims.sub.len);
  return TRUE;
}

static gboolean
read_issued (JsonObject  *obj,
             SignetKey   *pop_key,
             gboolean     with_log_key,
             Issued      *out,
             GError     **error)
{
  gboolean ok;

  out->token = member_b64 (obj, "token", SIGNET_POP_TOKEN_MAX, error);
  ok = out->token != NULL &&
       member_int (obj, "expires_at", 0, &out->expires_at, error) &&
       member_string (obj, "scope", &out->scope, error) &&
       member_string (obj, "role", &out->role, error) &&
       member_int (obj, "auth_time", 0, &out->auth_time, error) &&
       member_string (obj, "session", &out->session, error);
  if (ok && with_log_key)
    {
      out->log_key = member_b64 (obj, "log_key", SIGNET_SERVICE_LOG_KEY_LEN, error);
      ok = out->log_key != NULL;
      if (ok && g_bytes_get_size (out->log_key) != SIGNET_SERVICE_LOG_KEY_LEN)
        ok = bad_member (error, "log_key");
    }
  if (ok && *out->session == '\0')
    ok = bad_member (error, "session");
  if (ok)
    ok = check_token (out->token, pop_key, &out->sub, error);
  /* What we keep is in wiping GBytes now; the tree's copies go. */
  wipe_string_member (obj, "token");
  wipe_string_member (obj, "log_key");
  return ok;
}

static gpointer
parse_login (Request     *req,
             JsonObject  *obj,
             GError     **error)
{
  SignetKey *pop_key = req->extra;
  Issued issued = { 0 };
  SignetServiceSession *session;

  if (!read_issued (obj, pop_key, TRUE, &issued, error))
    {
      issued_clear (&issued);
      return NULL;
    }
  session = g_new0 (SignetServiceSession, 1);
  g_atomic_ref_count_init (&session->ref);
  session->pop_key = signet_key_ref (pop_key);
  session->token = g_steal_pointer (&issued.token);
  session->log_key = g_steal_pointer (&issued.log_key);
  session->id = g_strdup (issued.session);
  session->username = g_steal_pointer (&issued.sub);
  session->scope = g_strdup (issued.scope);
  session->role = g_strdup (issued.role);
  session->expires_at = issued.expires_at;
  session->auth_time = issued.auth_time;
  issued_clear (&issued);
  return session;
}

/* Refresh and step-up: the same session with a new token. */
static gpointer
parse_reissue (Request     *req,
               JsonObject  *obj,
               GError     **error)
{
  SignetServiceSession *session = req->session;
  Issued issued = { 0 };

  if (!read_issued (obj, session->pop_key, FALSE, &issued, error))
    {
      issued_clear (&issued);
      return NULL;
    }
  if (g_strcmp0 (issued.session, session->id) != 0 ||
      g_strcmp0 (issued.sub, session->username) != 0)
    {
      issued_clear (&issued);
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_BAD_RESPONSE, 200, NULL, -1,
                                "The service answered with a token of another session");
      return NULL;
    }
  if (session->signed_out)
    {
      /* Signed out while this was in flight: keep it that way. */
      issued_clear (&issued);
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_UNAUTHORIZED, 0, NULL, -1,
                                "The session was signed out: sign in again");
      return NULL;
    }
  g_clear_pointer (&session->token, g_bytes_unref);
  session->token = g_steal_pointer (&issued.token);
  session->expires_at = issued.expires_at;
  session->auth_time = issued.auth_time;
  g_free (session->scope);
  session->scope = g_strdup (issued.scope);
  g_free (session->role);
  session->role = g_strdup (issued.role);
  issued_clear (&issued);
  return GINT_TO_POINTER (TRUE);
}

static gpointer
parse_logout (Request     *req,
              JsonObject  *obj,
              GError     **error)
{
  session_sign_out (req->session);
  return GINT_TO_POINTER (TRUE);
}

static GBytes *
der_from_pem (const char *pem)
{
  g_autoptr(BIO) bio = BIO_new_mem_buf (pem, -1);
  g_autoptr(X509) cert = NULL;
  unsigned char *der = NULL;
  GBytes *out;
  int len;

  if (bio == NULL)
    return NULL;
  cert = PEM_read_bio_X509 (bio, NULL, no_password, NULL);
  ERR_clear_error ();
  if (cert == NULL)
    return NULL;
  len = i2d_X509 (cert, &der);
  if (len <= 0)
    {
      ERR_clear_error ();
      return NULL;
    }
  out = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  return out;
}

static gpointer
parse_trust (Request     *req,
             JsonObject  *obj,
             GError     **error)
{
  g_autoptr(SignetServiceTrust) trust = g_new0 (SignetServiceTrust, 1);
  JsonArray *keys, *cas;

  trust->authority_keys = g_ptr_array_new_with_free_func ((GDestroyNotify) authority_key_free);
  trust->manufacturer_cas = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  keys = member_array (obj, "authority_keys", error);
  if (keys == NULL)
    return NULL;
  if (json_array_get_length (keys) == 0)
    {
      bad_member (error, "authority_keys");
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (keys); i++)
    {
      JsonObject *k = element_object (keys, i, "authority_keys", error);
      SignetServiceAuthorityKey *ak;
      g_autofree char *thumbprint = NULL;
      const char *kid;

      if (k == NULL || !member_string (k, "kid", &kid, error))
        return NULL;
      ak = g_new0 (SignetServiceAuthorityKey, 1);
      g_ptr_array_add (trust->authority_keys, ak);
      ak->kid = g_strdup (kid);
      ak->cose_key = member_b64 (k, "cose_key", COSE_KEY_MAX, error);
      if (ak->cose_key == NULL ||
          !member_bool (k, "current", &ak->current, error) ||
          !member_int_or_null (k, "not_after", &ak->not_after, error))
        return NULL;
      ak->key = signet_key_new_from_cose_key (ak->cose_key, NULL);
      if (ak->key == NULL || signet_key_has_private (ak->key))
        {
          bad_member (error, "cose_key");
          return NULL;
        }
      thumbprint = signet_key_dup_thumbprint (ak->key);
      if (!g_str_equal (thumbprint, ak->kid))
        {
          bad_member (error, "kid");
          return NULL;
        }
    }

  cas = member_array (obj, "manufacturer_cas", error);
  if (cas == NULL)
    return NULL;
  for (guint i = 0; i < json_array_get_length (cas); i++)
    {
      JsonNode *node = json_array_get_element (cas, i);
      GBytes *der;

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING ||
          (der = der_from_pem (json_node_get_string (node))) == NULL)
        {
          bad_member (error, "manufacturer_cas");
          return NULL;
        }
      g_ptr_array_add (trust->manufacturer_cas, der);
    }

  trust->revocation_list = member_b64 (obj, "revocation_list", REVOCATION_LIST_MAX, error);
  if (trust->revocation_list == NULL)
    return NULL;
  return g_steal_pointer (&trust);
}

static SignetServiceProfileField *
parse_profile_field (JsonObject  *obj,
                     GError     **error)
{
  g_autoptr(GStrvBuilder) values = NULL;
  SignetServiceProfileField *f = g_new0 (SignetServiceProfileField, 1);
  const char *key, *type;
  JsonNode *node;

  if (!member_string (obj, "key", &key, error) ||
      !member_string (obj, "type", &type, error) ||
      !member_bool (obj, "secret", &f->secret, error))
    goto fail;
  f->key = g_strdup (key);
  f->type = g_strdup (type);
  if ((f->has_min = json_object_has_member (obj, "min")) &&
      !member_int (obj, "min", G_MININT64, &f->min, error))
    goto fail;
  if ((f->has_max = json_object_has_member (obj, "max")) &&
      !member_int (obj, "max", G_MININT64, &f->max, error))
    goto fail;
  node = json_object_get_member (obj, "values");
  if (node != NULL)
    {
      JsonArray *a = member_array (obj, "values", error);

      if (a == NULL)
        goto fail;
      values = g_strv_builder_new ();
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *v = json_array_get_element (a, i);

          if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_STRING)
            {
              bad_member (error, "values");
              goto fail;
            }
          g_strv_builder_add (values, json_node_get_string (v));
        }
      f->values = g_strv_builder_end (values);
    }
  return f;

fail:
  profile_field_free (f);
  return NULL;
}

static gpointer
parse_profiles (Request     *req,
                JsonObject  *obj,
                GError     **error)
{
  g_autoptr(GPtrArray) out =
    g_ptr_array_new_with_free_func ((GDestroyNotify) signet_service_profile_free);
  JsonArray *profiles = member_array (obj, "profiles", error);

  if (profiles == NULL)
    return NULL;
  for (guint i = 0; i < json_array_get_length (profiles); i++)
    {
      JsonObject *p = element_object (profiles, i, "profiles", error);
      SignetServiceProfile *profile;
      const char *id, *model, *klass, *description;
      JsonArray *fields;

      if (p == NULL)
        return NULL;
      profile = g_new0 (SignetServiceProfile, 1);
      g_ptr_array_add (out, profile);
      profile->fields =
        g_ptr_array_new_with_free_func ((GDestroyNotify) profile_field_free);
      if (!member_string (p, "id", &id, error) ||
          !member_int (p, "version", 0, &profile->version, error) ||
          !member_string (p, "model", &model, error) ||
          !member_string (p, "class", &klass, error) ||
          !member_bool (p, "critical", &profile->critical, error) ||
          !member_string (p, "description", &description, error) ||
          (fields = member_array (p, "fields", error)) == NULL ||
          (profile->signed_profile = member_b64 (p, "signed", SIGNED_PROFILE_MAX, error)) == NULL)
        return NULL;
      profile->id = g_strdup (id);
      profile->model = g_strdup (model);
      profile->klass = g_strdup (klass);
      profile->description = g_strdup (description);
      for (guint j = 0; j < json_array_get_length (fields); j++)
        {
          JsonObject *fo = element_object (fields, j, "fields", error);
          SignetServiceProfileField *f = fo != NULL ? parse_profile_field (fo, error) : NULL;

          if (f == NULL)
            return NULL;
          g_ptr_array_add (profile->fields, f);
        }
    }
  return g_steal_pointer (&out);
}

static gpointer
parse_seal (Request     *req,
            JsonObject  *obj,
            GError     **error)
{
  const char * const *fields = req->extra;
  g_autoptr(GPtrArray) out =
    g_ptr_array_new_with_free_func ((GDestroyNotify) signet_service_sealed_free);
  JsonArray *sealed = member_array (obj, "sealed", error);

  if (sealed == NULL)
    return NULL;
  if (json_array_get_length (sealed) != g_strv_length ((GStrv) fields))
    {
      bad_member (error, "sealed");
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (sealed); i++)
    {
      JsonObject *s = element_object (sealed, i, "sealed", error);
      SignetServiceSealed *one;
      g_autoptr(GChecksum) sum = NULL;
      const char *key, *digest;

      if (s == NULL || !member_string (s, "key", &key, error) ||
          !member_string (s, "digest", &digest, error))
        return NULL;
      if (!g_str_equal (key, fields[i]))
        {
          bad_member (error, "key");
          return NULL;
        }
      one = g_new0 (SignetServiceSealed, 1);
      g_ptr_array_add (out, one);
      one->key = g_strdup (key);
      one->digest = g_strdup (digest);
      one->enc = member_b64 (s, "enc", HPKE_ENC_LEN, error);
      if (one->enc == NULL)
        return NULL;
      one->ct = member_b64 (s, "ct", SEALED_CT_MAX, error);
      if (one->ct == NULL)
        return NULL;
      if (g_bytes_get_size (one->enc) != HPKE_ENC_LEN)
        {
          bad_member (error, "enc");
          return NULL;
        }
      if (g_bytes_get_size (one->ct) < 16)
        {
          bad_member (error, "ct");
          return NULL;
        }
      /* The digest is what the log and the signed command carry: it must
       * be the one of these bytes. */
      sum = g_checksum_new (G_CHECKSUM_SHA256);
      g_checksum_update (sum, g_bytes_get_data (one->enc, NULL), (gssize) HPKE_ENC_LEN);
      g_checksum_update (sum, g_bytes_get_data (one->ct, NULL),
                         (gssize) g_bytes_get_size (one->ct));
      if (!is_hex_lower (digest, 64) || !g_str_equal (g_checksum_get_string (sum), digest))
        {
          bad_member (error, "digest");
          return NULL;
        }
    }
  return g_steal_pointer (&out);
}

static gpointer
parse_logs_upload (Request     *req,
                   JsonObject  *obj,
                   GError     **error)
{
  g_autoptr(SignetServiceLogReceipt) r = g_new0 (SignetServiceLogReceipt, 1);
  guint8 head[SIGNET_SHA256_LEN];
  const char *session, *head_hex;
  gint64 records, next_seq;

  if (!member_string (obj, "session", &session, error) ||
      !member_int (obj, "records", 0, &records, error) ||
      !member_int (obj, "next_seq", 0, &next_seq, error) ||
      !member_string (obj, "head", &head_hex, error) ||
      !member_int (obj, "sealed_seq", -1, &r->sealed_seq, error))
    return NULL;
  if (!is_hex_lower (head_hex, 2 * SIGNET_SHA256_LEN))
    {
      bad_member (error, "head");
      return NULL;
    }
  for (gsize i = 0; i < SIGNET_SHA256_LEN; i++)
    head[i] = (guint8) (g_ascii_xdigit_value (head_hex[2 * i]) << 4 |
                        g_ascii_xdigit_value (head_hex[2 * i + 1]));
  r->countersignature = member_b64 (obj, "countersignature", COUNTERSIGNATURE_MAX, error);
  if (r->countersignature == NULL)
    return NULL;
  r->session = g_strdup (session);
  r->records = (guint64) records;
  r->next_seq = (guint64) next_seq;
  r->head = g_bytes_new (head, sizeof head);
  return g_steal_pointer (&r);
}

/* What GET /v1/logs answers: a page and the cursor of the next. */
typedef struct {
  GPtrArray *logs;       /* (element-type SignetServiceLogSummary) */
  char *next_cursor;     /* (nullable) */
} LogPage;

static void
log_page_free (LogPage *page)
{
  if (page == NULL)
    return;
  g_clear_pointer (&page->logs, g_ptr_array_unref);
  g_free (page->next_cursor);
  g_free (page);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LogPage, log_page_free)

static gboolean
is_one_of (const char         *value,
           const char * const *set)
{
  return value != NULL && g_strv_contains (set, value);
}

static const char * const log_outcomes[] = { "verified", "tampered", "open", "incomplete", NULL };
static const char * const log_kinds[] = { "session", "service", NULL };

static gpointer
parse_logs_search (Request     *req,
                   JsonObject  *obj,
                   GError     **error)
{
  g_autoptr(LogPage) page = g_new0 (LogPage, 1);
  JsonArray *logs = member_array (obj, "logs", error);
  JsonNode *cursor = json_object_get_member (obj, "next_cursor");

  if (logs == NULL)
    return NULL;
  if (cursor == NULL || !(JSON_NODE_HOLDS_NULL (cursor) ||
                          (JSON_NODE_HOLDS_VALUE (cursor) &&
                           json_node_get_value_type (cursor) == G_TYPE_STRING &&
                           g_utf8_validate (json_node_get_string (cursor), -1, NULL))))
    {
      bad_member (error, "next_cursor");
      return NULL;
    }
  if (!JSON_NODE_HOLDS_NULL (cursor))
    page->next_cursor = g_strdup (json_node_get_string (cursor));
  page->logs = g_ptr_array_new_with_free_func ((GDestroyNotify) signet_service_log_summary_free);
  for (guint i = 0; i < json_array_get_length (logs); i++)
    {
      JsonObject *l = element_object (logs, i, "logs", error);
      SignetServiceLogSummary *one;
      const char *id, *kind, *technician, *outcome;
      JsonArray *devices;
      gint64 records;

      if (l == NULL)
        return NULL;
      one = g_new0 (SignetServiceLogSummary, 1);
      g_ptr_array_add (page->logs, one);
      if (!member_string (l, "session", &id, error) ||
          !member_string (l, "kind", &kind, error) ||
          !member_string (l, "technician", &technician, error) ||
          !member_int (l, "started", 0, &one->started, error) ||
          !member_int_or_null (l, "ended", &one->ended, error) ||
          !member_int (l, "records", 0, &records, error) ||
          !member_string (l, "outcome", &outcome, error) ||
          (devices = member_array (l, "devices", error)) == NULL)
        return NULL;
      if (!is_one_of (kind, log_kinds))
        {
          bad_member (error, "kind");
          return NULL;
        }
      if (!is_one_of (outcome, log_outcomes))
        {
          bad_member (error, "outcome");
          return NULL;
        }
      one->id = g_strdup (id);
      one->kind = g_strdup (kind);
      one->technician = g_strdup (technician);
      one->outcome = g_strdup (outcome);
      one->records = (guint64) records;
      one->devices = g_new0 (char *, json_array_get_length (devices) + 1);
      for (guint j = 0; j < json_array_get_length (devices); j++)
        {
          JsonNode *d = json_array_get_element (devices, j);

          if (d == NULL || !JSON_NODE_HOLDS_VALUE (d) ||
              json_node_get_value_type (d) != G_TYPE_STRING ||
              !g_utf8_validate (json_node_get_string (d), -1, NULL))
            {
              bad_member (error, "devices");
              return NULL;
            }
          one->devices[j] = g_strdup (json_node_get_string (d));
        }
    }
  return g_steal_pointer (&page);
}

/* A Signet-Log-* header of the answer (name lower-case). */
static const char *
log_header (Request    *req,
            const char *name)
{
  return g_hash_table_lookup (req->log_headers, name);
}

/* A decimal header value in [min, G_MAXINT64]. */
static gboolean
log_header_int (Request     *req,
                const char  *name,
                gint64       min,
                gint64      *out,
                GError     **error)
{
  const char *text = log_header (req, name);
  gint64 v;

  if (text == NULL || !g_ascii_string_to_signed (text, 10, min, G_MAXINT64, &v, NULL))
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_BAD_RESPONSE, 200, NULL, -1,
                                "The service's answer lacks a valid %s header", name);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

static gboolean
log_header_text (Request     *req,
                 const char  *name,
                 char       **out,
                 GError     **error)
{
  const char *text = log_header (req, name);

  if (text == NULL || *text == '\0')
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_BAD_RESPONSE, 200, NULL, -1,
                                "The service's answer lacks a valid %s header", name);
      return FALSE;
    }
  *out = g_strdup (text);
  return TRUE;
}

static gpointer
parse_log_fetch (Request     *req,
                 GBytes      *body,
                 GError     **error)
{
  g_autoptr(SignetServiceLog) log = g_new0 (SignetServiceLog, 1);
  gint64 records, rejected;

  log->id = g_strdup (req->extra);
  log->index = -1;
  if (!log_header_text (req, "signet-log-kind", &log->kind, error) ||
      !log_header_text (req, "signet-log-technician", &log->technician, error) ||
      !log_header_text (req, "signet-log-outcome", &log->outcome, error) ||
      !log_header_text (req, "signet-log-verdict", &log->verdict, error) ||
      !log_header_text (req, "signet-log-reason", &log->reason, error) ||
      !log_header_int (req, "signet-log-records", 0, &records, error) ||
      !log_header_int (req, "signet-log-sealed-seq", -1, &log->sealed_seq, error) ||
      !log_header_int (req, "signet-log-rejected", 0, &rejected, error) ||
      (log_header (req, "signet-log-index") != NULL &&
       !log_header_int (req, "signet-log-index", 0, &log->index, error)))
    return NULL;
  if (!is_one_of (log->kind, log_kinds) || !is_one_of (log->outcome, log_outcomes) ||
      rejected > G_MAXUINT)
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_BAD_RESPONSE, 200, NULL, -1,
                                "The service's answer has an unknown log kind or outcome");
      return NULL;
    }
  log->records = (guint64) records;
  log->rejected = (guint) rejected;
  log->log = g_bytes_ref (body);
  return g_steal_pointer (&log);
}

static gpointer
parse_health (Request     *req,
              JsonObject  *obj,
              GError     **error)
{
  const char *status, *version;

  if (!member_string (obj, "status", &status, error) ||
      !member_string (obj, "version", &version, error))
    return NULL;
  if (!g_str_equal (status, "ok"))
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_BAD_RESPONSE, 200, NULL, -1,
                                "The service is not healthy");
      return NULL;
    }
  return g_strdup (version);
}

/* ---- configuration checks ------------------------------------------------ */

static gboolean
parse_base_url (SignetServiceClient  *self,
                GError              **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GInetAddress) addr = NULL;
  const char *host, *path;
  int port;

  if (self->base_url_arg != NULL)
    uri = g_uri_parse (self->base_url_arg, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") != 0)
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_INVALID_REQUEST, 0, NULL, -1,
                                "The service address must be an https:// URL");
      return FALSE;
    }
  host = g_uri_get_host (uri);
  path = g_uri_get_path (uri);
  if (host == NULL || *host == '\0' || g_uri_get_userinfo (uri) != NULL ||
      g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL ||
      !(*path == '\0' || g_str_equal (path, "/")))
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_INVALID_REQUEST, 0, NULL, -1,
                                "The service address must be https://HOST[:PORT], without a "
                                "path, query or user name");
      return FALSE;
    }
  port = g_uri_get_port (uri);
  self->host = g_strdup (host);
  if (strchr (host, ':') != NULL)
    self->base_url = port > 0 ? g_strdup_printf ("https://[%s]:%d", host, port)
                              : g_strdup_printf ("https://[%s]", host);
  else
    self->base_url = port > 0 ? g_strdup_printf ("https://%s:%d", host, port)
                              : g_strdup_printf ("https://%s", host);
  addr = g_inet_address_new_from_string (host);
  self->loopback = g_ascii_strcasecmp (host, "localhost") == 0 ||
                   (addr != NULL && g_inet_address_get_is_loopback (addr));
  return TRUE;
}

static gboolean
check_ca_pem (GBytes  *pem,
              GError **error)
{
  g_autoptr(BIO) bio = NULL;
  gsize len = 0;
  gconstpointer data = pem != NULL ? g_bytes_get_data (pem, &len) : NULL;
  guint n = 0;
  X509 *cert;

  if (data != NULL && len > 0 && len <= CA_PEM_MAX)
    bio = BIO_new_mem_buf (data, (int) len);
  while (bio != NULL && (cert = PEM_read_bio_X509 (bio, NULL, no_password, NULL)) != NULL)
    {
      X509_free (cert);
      n++;
    }
  ERR_clear_error ();
  if (n == 0)
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_INVALID_REQUEST, 0, NULL, -1,
                                "The configured service certificate is not a PEM certificate");
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_spki_pin (const char  *pin,
                GError     **error)
{
  g_auto(GStrv) pins = g_strsplit (pin, ";", -1);

  if (pins[0] == NULL)
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_INVALID_REQUEST, 0, NULL, -1,
                                "A key pin must be sha256// and the base64 of 32 bytes");
      return FALSE;
    }
  for (guint i = 0; pins[i] != NULL; i++)
    {
      const char *b64 = pins[i] + strlen (PIN_PREFIX);
      g_autofree guchar *raw = NULL;
      g_autofree char *again = NULL;
      gsize len = 0;
      gboolean ok = g_str_has_prefix (pins[i], PIN_PREFIX) && strlen (b64) == 44;

      for (gsize j = 0; ok && j < 44; j++)
        ok = g_ascii_isalnum (b64[j]) || b64[j] == '+' || b64[j] == '/' ||
             (b64[j] == '=' && j == 43);
      if (ok)
        {
          raw = g_base64_decode (b64, &len);
          again = len == 32 ? g_base64_encode (raw, len) : NULL;
          ok = again != NULL && g_str_equal (again, b64);
        }
      if (!ok)
        {
          signet_service_error_set (error, SIGNET_SERVICE_ERROR_INVALID_REQUEST, 0, NULL, -1,
                                    "A key pin must be sha256// and the base64 of 32 bytes");
          return FALSE;
        }
    }
  return TRUE;
}

char *
signet_service_spki_pin_from_pem (const char  *pem,
                                  GError     **error)
{
  g_autoptr(BIO) bio = NULL;
  g_autoptr(X509) cert = NULL;
  g_autofree char *b64 = NULL;
  unsigned char *der = NULL;
  guint8 digest[SIGNET_SHA256_LEN];
  int len;

  g_return_val_if_fail (pem != NULL, NULL);
  bio = BIO_new_mem_buf (pem, -1);
  if (bio != NULL)
    cert = PEM_read_bio_X509 (bio, NULL, no_password, NULL);
  len = cert != NULL ? i2d_X509_PUBKEY (X509_get_X509_PUBKEY (cert), &der) : -1;
  ERR_clear_error ();
  if (len <= 0)
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_INVALID_REQUEST, 0, NULL, -1,
                                "Not a PEM certificate");
      return NULL;
    }
  signet_sha256_buf (der, (gsize) len, digest);
  OPENSSL_free (der);
  b64 = g_base64_encode (digest, sizeof digest);
  return g_strconcat (PIN_PREFIX, b64, NULL);
}

static gboolean
curl_ready (GError **error)
{
  static gsize state = 0;

  /* curl_global_init is thread-safe in libcurl >= 7.84 (Debian 12 has
   * 7.88); once is still enough. */
  if (g_once_init_enter (&state))
    g_once_init_leave (&state, curl_global_init (CURL_GLOBAL_DEFAULT) == CURLE_OK ? 1 : 2);
  if (state != 1)
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_FAILED, 0, NULL, -1,
                                "libcurl could not start");
      return FALSE;
    }
  return TRUE;
}

/* The TLS backend must take anchors from memory: otherwise the only way
 * would be a file path, or worse, the system store. */
static gboolean
curl_can_pin (GBytes  *ca_pem,
              GError **error)
{
  g_autoptr(CURL) easy = curl_easy_init ();
  struct curl_blob ca = { 0 };

  ca.data = (void *) g_bytes_get_data (ca_pem, &ca.len);
  ca.flags = CURL_BLOB_COPY;
  if (easy == NULL || curl_easy_setopt (easy, CURLOPT_CAINFO_BLOB, &ca) != CURLE_OK ||
      curl_easy_setopt (easy, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK)
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_FAILED, 0, NULL, -1,
                                "This libcurl cannot pin the service's certificate (it needs "
                                "CURLOPT_CAINFO_BLOB and https)");
      return FALSE;
    }
  return TRUE;
}

/* ---- GObject ------------------------------------------------------------- */

static void
signet_service_client_dispose (GObject *object)
{
  SignetServiceClient *self = SIGNET_SERVICE_CLIENT (object);

  /* No call is in flight: each holds a reference. The multi handle goes
   * first, while its socket callback can still reach the source. */
  g_clear_pointer (&self->multi, curl_multi_cleanup);
  if (self->source != NULL)
    {
      g_source_destroy (self->source);
      g_clear_pointer (&self->source, g_source_unref);
    }
  g_clear_pointer (&self->sockets, g_hash_table_unref);
  G_OBJECT_CLASS (signet_service_client_parent_class)->dispose (object);
}

static void
signet_service_client_finalize (GObject *object)
{
  SignetServiceClient *self = SIGNET_SERVICE_CLIENT (object);

  g_free (self->base_url_arg);
  g_free (self->base_url);
  g_free (self->host);
  g_clear_pointer (&self->ca_pem, g_bytes_unref);
  g_free (self->spki_pin);
  g_free (self->proxy);
  g_clear_pointer (&self->context, g_main_context_unref);
  G_OBJECT_CLASS (signet_service_client_parent_class)->finalize (object);
}

static void
signet_service_client_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  SignetServiceClient *self = SIGNET_SERVICE_CLIENT (object);

  switch (prop_id)
    {
    case PROP_BASE_URL:
      g_value_set_string (value, self->base_url != NULL ? self->base_url : self->base_url_arg);
      break;
    case PROP_CA_PEM:
      g_value_set_boxed (value, self->ca_pem);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout);
      break;
    case PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, self->connect_timeout);
      break;
    case PROP_MAX_RETRIES:
      g_value_set_uint (value, self->max_retries);
      break;
    case PROP_RETRY_DELAY:
      g_value_set_uint (value, self->retry_delay);
      break;
    case PROP_PROXY:
      g_value_set_string (value, self->proxy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signet_service_client_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  SignetServiceClient *self = SIGNET_SERVICE_CLIENT (object);

  switch (prop_id)
    {
    case PROP_BASE_URL:
      self->base_url_arg = g_value_dup_string (value);
      break;
    case PROP_CA_PEM:
      self->ca_pem = g_value_dup_boxed (value);
      break;
    case PROP_TIMEOUT:
      signet_service_client_set_timeout (self, g_value_get_uint (value));
      break;
    case PROP_CONNECT_TIMEOUT:
      signet_service_client_set_connect_timeout (self, g_value_get_uint (value));
      break;
    case PROP_MAX_RETRIES:
      signet_service_client_set_max_retries (self, g_value_get_uint (value));
      break;
    case PROP_RETRY_DELAY:
      signet_service_client_set_retry_delay (self, g_value_get_uint (value));
      break;
    case PROP_PROXY:
      signet_service_client_set_proxy (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signet_service_client_class_init (SignetServiceClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = signet_service_client_dispose;
  object_class->finalize = signet_service_client_finalize;
  object_class->get_property = signet_service_client_get_property;
  object_class->set_property = signet_service_client_set_property;

  properties[PROP_BASE_URL] =
    g_param_spec_string ("base-url", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS);
  properties[PROP_CA_PEM] =
    g_param_spec_boxed ("ca-pem", NULL, NULL, G_TYPE_BYTES,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", NULL, NULL, 1, TIMEOUT_MAX, SIGNET_SERVICE_TIMEOUT_DEFAULT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CONNECT_TIMEOUT] =
    g_param_spec_uint ("connect-timeout", NULL, NULL, 1, TIMEOUT_MAX,
                       SIGNET_SERVICE_CONNECT_TIMEOUT_DEFAULT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_RETRIES] =
    g_param_spec_uint ("max-retries", NULL, NULL, 0, MAX_RETRIES_MAX,
                       SIGNET_SERVICE_MAX_RETRIES_DEFAULT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RETRY_DELAY] =
    g_param_spec_uint ("retry-delay", NULL, NULL, 1, RETRY_DELAY_LIMIT,
                       SIGNET_SERVICE_RETRY_DELAY_DEFAULT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROXY] =
    g_param_spec_string ("proxy", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
signet_service_client_init (SignetServiceClient *self)
{
  self->timeout = SIGNET_SERVICE_TIMEOUT_DEFAULT;
  self->connect_timeout = SIGNET_SERVICE_CONNECT_TIMEOUT_DEFAULT;
  self->max_retries = SIGNET_SERVICE_MAX_RETRIES_DEFAULT;
  self->retry_delay = SIGNET_SERVICE_RETRY_DELAY_DEFAULT;
  self->max_response = SIGNET_SERVICE_MAX_RESPONSE_DEFAULT;
  self->context = g_main_context_ref_thread_default ();
  self->sockets = g_hash_table_new (NULL, NULL);
}

static gboolean
signet_service_client_initable_init (GInitable     *initable,
                                     GCancellable  *cancellable,
                                     GError       **error)
{
  SignetServiceClient *self = SIGNET_SERVICE_CLIENT (initable);

  if (!parse_base_url (self, error) || !check_ca_pem (self->ca_pem, error) ||
      !curl_ready (error) || !curl_can_pin (self->ca_pem, error))
    return FALSE;

  self->multi = curl_multi_init ();
  if (self->multi == NULL)
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_FAILED, 0, NULL, -1,
                                "libcurl could not start");
      return FALSE;
    }
  curl_multi_setopt (self->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
  curl_multi_setopt (self->multi, CURLMOPT_SOCKETDATA, self);
  curl_multi_setopt (self->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt (self->multi, CURLMOPT_TIMERDATA, self);
  curl_multi_setopt (self->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 4L);

  self->source = g_source_new (&curl_source_funcs, sizeof (CurlSource));
  ((CurlSource *) self->source)->client = self;
  g_source_set_name (self->source, "[signet] service client");
  g_source_attach (self->source, self->context);
  return TRUE;
}

static void
signet_service_client_initable_iface_init (GInitableIface *iface)
{
  iface->init = signet_service_client_initable_init;
}

/* ---- public API: construction and settings ------------------------------- */

/**
 * signet_service_client_new:
 * @base_url: "https://HOST[:PORT]"
 * @ca_pem: the CA certificate(s) to trust, PEM
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): a client for the thread-default
 *   main context
 */
SignetServiceClient *
signet_service_client_new (const char  *base_url,
                           GBytes      *ca_pem,
                           GError     **error)
{
  g_return_val_if_fail (base_url != NULL, NULL);
  g_return_val_if_fail (ca_pem != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (SIGNET_TYPE_SERVICE_CLIENT, NULL, error,
                         "base-url", base_url, "ca-pem", ca_pem, NULL);
}

SignetServiceClient *
signet_service_client_new_for_ca_file (const char  *base_url,
                                       const char  *ca_file,
                                       GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GBytes) pem = NULL;
  gsize len = 0;

  g_return_val_if_fail (base_url != NULL, NULL);
  g_return_val_if_fail (ca_file != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_file_get_contents (ca_file, &contents, &len, &local_error))
    {
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_INVALID_REQUEST, 0, NULL, -1,
                                "Cannot read the service's CA certificate: %s",
                                local_error->message);
      return NULL;
    }
  pem = g_bytes_new_take (g_steal_pointer (&contents), len);
  return signet_service_client_new (base_url, pem, error);
}

const char *
signet_service_client_get_base_url (SignetServiceClient *self)
{
  g_return_val_if_fail (SIGNET_IS_SERVICE_CLIENT (self), NULL);
  return self->base_url;
}

gboolean
signet_service_client_set_spki_pin (SignetServiceClient  *self,
                                    const char           *pin,
                                    GError              **error)
{
  g_return_val_if_fail (SIGNET_IS_SERVICE_CLIENT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (pin != NULL && !check_spki_pin (pin, error))
    return FALSE;
  g_free (self->spki_pin);
  self->spki_pin = g_strdup (pin);
  return TRUE;
}

void
signet_service_client_set_timeout (SignetServiceClient *self,
                                   guint                seconds)
{
  g_return_if_fail (SIGNET_IS_SERVICE_CLIENT (self));
  seconds = CLAMP (seconds, 1, TIMEOUT_MAX);
  if (self->timeout == seconds)
    return;
  self->timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

guint
signet_service_client_get_timeout (SignetServiceClient *self)
{
  g_return_val_if_fail (SIGNET_IS_SERVICE_CLIENT (self), 0);
  return self->timeout;
}

void
signet_service_client_set_connect_timeout (SignetServiceClient *self,
                                           guint                seconds)
{
  g_return_if_fail (SIGNET_IS_SERVICE_CLIENT (self));
  seconds = CLAMP (seconds, 1, TIMEOUT_MAX);
  if (self->connect_timeout == seconds)
    return;
  self->connect_timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECT_TIMEOUT]);
}

guint
signet_service_client_get_connect_timeout (SignetServiceClient *self)
{
  g_return_val_if_fail (SIGNET_IS_SERVICE_CLIENT (self), 0);
  return self->connect_timeout;
}

void
signet_service_client_set_max_retries (SignetServiceClient *self,
                                       guint                retries)
{
  g_return_if_fail (SIGNET_IS_SERVICE_CLIENT (self));
  retries = MIN (retries, MAX_RETRIES_MAX);
  if (self->max_retries == retries)
    return;
  self->max_retries = retries;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_RETRIES]);
}

guint
signet_service_client_get_max_retries (SignetServiceClient *self)
{
  g_return_val_if_fail (SIGNET_IS_SERVICE_CLIENT (self), 0);
  return self->max_retries;
}

void
signet_service_client_set_retry_delay (SignetServiceClient *self,
                                       guint                ms)
{
  g_return_if_fail (SIGNET_IS_SERVICE_CLIENT (self));
  ms = CLAMP (ms, 1, RETRY_DELAY_LIMIT);
  if (self->retry_delay == ms)
    return;
  self->retry_delay = ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RETRY_DELAY]);
}

void
signet_service_client_set_proxy (SignetServiceClient *self,
                                 const char          *proxy)
{
  g_return_if_fail (SIGNET_IS_SERVICE_CLIENT (self));
  if (g_strcmp0 (self->proxy, proxy) == 0)
    return;
  g_free (self->proxy);
  self->proxy = g_strdup (proxy);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROXY]);
}

gint64
signet_service_client_get_clock_offset (SignetServiceClient *self)
{
  g_return_val_if_fail (SIGNET_IS_SERVICE_CLIENT (self), 0);
  return self->clock_offset;
}

/* ---- public API: calls --------------------------------------------------- */

static gpointer
finish_pointer (SignetServiceClient  *self,
                GAsyncResult         *result,
                gpointer              tag,
                GError              **error)
{
  g_return_val_if_fail (SIGNET_IS_SERVICE_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tag, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
finish_boolean (SignetServiceClient  *self,
                GAsyncResult         *result,
                gpointer              tag,
                GError              **error)
{
  g_return_val_if_fail (SIGNET_IS_SERVICE_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tag, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
signet_service_client_login_async (SignetServiceClient *self,
                                   const char          *username,
                                   const char          *password,
                                   const char          *otp,
                                   SignetKey           *pop_key,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  GError *error = NULL;
  g_autoptr(GError) key_error = NULL;
  g_autofree char *jwk = NULL;
  SignetKey *key;
  Request *req;

  g_return_if_fail (SIGNET_IS_SERVICE_CLIENT (self));
  g_return_if_fail (username != NULL && password != NULL && otp != NULL);
  g_return_if_fail (pop_key == NULL || signet_key_has_private (pop_key));

  req = request_new (self, "POST", "/v1/login", cancellable, callback, user_data,
                     signet_service_client_login_async);
  req->parse = parse_login;
  req->result_free = (GDestroyNotify) signet_service_session_unref;
  req->content_type = "application/json";

  key = pop_key != NULL ? signet_key_ref (pop_key) : signet_key_generate (&key_error);
  if (key == NULL)
    {
      signet_service_error_set (&error, SIGNET_SERVICE_ERROR_FAILED, 0, NULL, -1,
                                "Could not make a key for the sign-in: %s", key_error->message);
      request_fail (req, error);
      return;
    }
  req->extra = key;
  req->extra_free = (GDestroyNotify) signet_key_unref;

  if (!check_text (username, "user name", &error) || !check_text (password, "password", &error) ||
      !check_text (otp, "code", &error) ||
      (jwk = signet_key_to_jwk (key, FALSE, &key_error)) == NULL)
    {
      if (error == NULL)
        signet_service_error_set (&error, SIGNET_SERVICE_ERROR_FAILED, 0, NULL, -1,
                                  "Could not export the sign-in key: %s", key_error->message);
      request_fail (req, error);
      return;
    }
  {
    const JsonMember members[] = {
      { "username", username, FALSE },
      { "password", password, FALSE },
      { "otp", otp, FALSE },
      { "pop_key", jwk, TRUE },
    };

    req->body = secret_json_object (members, G_N_ELEMENTS (members));
  }
  request_run (req);
}

SignetServiceSession *
signet_service_client_login_finish (SignetServiceClient  *self,
                                    GAsyncResult         *result,
                                    GError              **error)
{
  return finish_pointer (self, result, signet_service_client_login_async, error);
}

/* A PoP request for session; fails at once for a signed-out one. */
static Request *
pop_request_new (SignetServiceClient  *self,
                 SignetServiceSession *session,
                 const char           *method,
                 const char           *path,
                 GCancellable         *cancellable,
                 GAsyncReadyCallback   callback,
                 gpointer              user_data,
                 gpointer              source_tag)
{
  Request *req = request_new (self, method, path, cancellable, callback, user_data, source_tag);

  req->session = signet_service_session_ref (session);
  return req;
}

void
signet_service_client_refresh_async (SignetServiceClient  *self,
                                     SignetServiceSession *session,
                                     GCancellable         *cancellable,
                                     GAsyncReadyCallback   callback,
                                     gpointer              user_data)
{
  Request *req;

  g_return_if_fail (SIGNET_IS_SERVICE_CLIENT (self));
  g_return_if_fail (session != NULL);

  req = pop_request_new (self, session, "POST", "/v1/refresh", cancellable, callback, user_data,
                         signet_service_client_refresh_async);
  req->parse = parse_reissue;
  req->content_type = "application/json";
  req->body = g_bytes_new_static ("{}", 2);
  request_run (req);
}

gboolean
signet_service_client_refresh_finish (SignetServiceClient  *self,
                                      GAsyncResult         *result,
                                      GError              **error)
{
  return finish_boolean (self, result, signet_service_client_refresh_async, error);
}

void
signet_service_client_step_up_async (SignetServiceClient  *self,
                                     SignetServiceSession *session,
                                     const char           *otp,
                                     GCancellable         *cancellable,
                                     GAsyncReadyCallback   callback,
                                     gpointer              user_data)
{
  GError *error = NULL;
  Request *req;

  g_return_if_fail (SIGNET_IS_SERVICE_CLIENT (self));
  g_return_if_fail (session != NULL);
  g_return_if_fail (otp != NULL);

  req = pop_request_new (self, session, "POST", "/v1/step-up", cancellable, callback, user_data,
                         signet_service_client_step_up_async);
  req->parse = parse_reissue;
  req->content_type = "application/json";
  if (!check_text (otp, "code", &error))
    {
      request_fail (req, error);
      return;
    }
  {
    const JsonMember members[] = { { "otp", otp, FALSE } };

    req->body = secret_json_object (members, G_N_ELEMENTS (members));
  }
  request_run (req);
}

gboolean
signet_service_client_step_up_finish (SignetServiceClient  *self,
                                      GAsyncResult         *result,
                                      GError              **error)
{
  return finish_boolean (self, result, signet_service_client_step_up_async, error);
}

void
signet_service_client_logout_async (SignetServiceClient  *self,
                                    SignetServiceSession *session,
                                    GCancellable         *cancellable,
                                    GAsyncReadyCallback   callback,
                                    gpointer              user_data)
{
  Request *req;

  g_return_if_fail (SIGNET_IS_SERVICE_CLIENT (self));
  g_return_if_fail (session != NULL);

  req = pop_request_new (self, session, "POST", "/v1/logout", cancellable, callback, user_data,
                         signet_service_client_logout_async);
  req->parse = parse_logout;
  req->expect_status = 204;
  req->content_type = "application/json";
  req->body = g_bytes_new_static ("{}", 2);
  request_run (req);
}

gboolean
signet_service_client_logout_finish (SignetServiceClient  *self,
                                     GAsyncResult         *result,
                                     GError              **error)
{
  return finish_boolean (self, result, signet_service_client_logout_async, error);
}

void
signet_service_client_trust_async (SignetServiceClient *self,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  Request *req;

  g_return_if_fail (SIGNET_IS_SERVICE_CLIENT (self));

  req = request_new (self, "GET", "/v1/trust", cancellable, callback, user_data,
                     signet_service_client_trust_async);
  req->parse = parse_trust;
  req->result_free = (GDestroyNotify) signet_service_trust_free;
  req->idempotent = TRUE;
  request_run (req);
}

SignetServiceTrust *
signet_service_client_trust_finish (SignetServiceClient  *self,
                                    GAsyncResult         *result,
                                    GError              **error)
{
  return finish_pointer (self, result, signet_service_client_trust_async, error);
}

void
signet_service_client_profiles_async (SignetServiceClient  *self,
                                      SignetServiceSession *session,
                                      const char           *model,
                                      GCancellable         *cancellable,
                                      GAsyncReadyCallback   callback,
                                      gpointer              user_data)
{
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  GError *error = NULL;
  Request *req;

  g_return_if_fail (SIGNET_IS_SERVICE_CLIENT (self));
  g_return_if_fail (session != NULL);
  g_return_if_fail (model != NULL);

  /* Everything but the unreserved characters escaped: the proof covers
   * the request target exactly as sent. */
  escaped = g_uri_escape_string (model, NULL, FALSE);
  path = g_strconcat ("/v1/profiles?model=", escaped, NULL);
  req = pop_request_new (self, session, "GET", path, cancellable, callback, user_data,
                         signet_service_client_profiles_async);
  req->parse = parse_profiles;
  req->result_free = (GDestroyNotify) g_ptr_array_unref;
  /* A GET: a fresh proof per attempt makes a retry as good as the first. */
  req->idempotent = TRUE;
  if (!check_text (model, "model", &error))
    {
      request_fail (req, error);
      return;
    }
  request_run (req);
}

GPtrArray *
signet_service_client_profiles_finish (SignetServiceClient  *self,
                                       GAsyncResult         *result,
                                       GError              **error)
{
  return finish_pointer (self, result, signet_service_client_profiles_async, error);
}

static char *
b64 (GBytes *bytes)
{
  return signet_base64url_encode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

void
signet_service_client_seal_async (SignetServiceClient  *self,
                                  SignetServiceSession *session,
                                  GBytes               *evidence,
                                  GPtrArray            *chain,
                                  const char           *profile_id,
                                  const char * const   *fields,
                                  GCancellable         *cancellable,
                                  GAsyncReadyCallback   callback,
                                  gpointer              user_data)
{
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonGenerator) gen = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *evidence_text = NULL;
  GError *error = NULL;
  char *text;
  gsize len = 0;
  Request *req;

  g_return_if_fail (SIGNET_IS_SERVICE_CLIENT (self));
  g_return_if_fail (session != NULL);
  g_return_if_fail (evidence != NULL && chain != NULL && profile_id != NULL && fields != NULL);

  req = pop_request_new (self, session, "POST", "/v1/seal", cancellable, callback, user_data,
                         signet_service_client_seal_async);
  req->parse = parse_seal;
  req->result_free = (GDestroyNotify) g_ptr_array_unref;
  req->content_type = "application/json";
  req->extra = g_strdupv ((GStrv) fields);
  req->extra_free = (GDestroyNotify) g_strfreev;

  if (fields[0] == NULL || chain->len == 0)
    {
      signet_service_error_set (&error, SIGNET_SERVICE_ERROR_INVALID_REQUEST, 0, NULL, -1,
                                "Nothing to seal, or no certificate chain for the device");
      request_fail (req, error);
      return;
    }
  for (guint i = 0; fields[i] != NULL; i++)
    if (!check_text (fields[i], "field key", &error))
      {
        request_fail (req, error);
        return;
      }
  if (!check_text (profile_id, "profile id", &error))
    {
      request_fail (req, error);
      return;
    }

  b = json_builder_new ();
  json_builder_begin_object (b);
  evidence_text = b64 (evidence);
  json_builder_set_member_name (b, "evidence");
  json_builder_add_string_value (b, evidence_text);
  json_builder_set_member_name (b, "chain");
  json_builder_begin_array (b);
  for (guint i = 0; i < chain->len; i++)
    {
      g_autofree char *der = b64 (g_ptr_array_index (chain, i));

      json_builder_add_string_value (b, der);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "profile");
  json_builder_add_string_value (b, profile_id);
  json_builder_set_member_name (b, "fields");
  json_builder_begin_array (b);
  for (guint i = 0; fields[i] != NULL; i++)
    json_builder_add_string_value (b, fields[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  req->body = g_bytes_new_take (text, len);
  if (len > SIGNET_SERVICE_MAX_REQUEST)
    {
      signet_service_error_set (&error, SIGNET_SERVICE_ERROR_PAYLOAD_TOO_LARGE, 0, NULL, -1,
                                "The seal request is larger than the service takes (64 KiB)");
      request_fail (req, error);
      return;
    }
  request_run (req);
}

GPtrArray *
signet_service_client_seal_finish (SignetServiceClient  *self,
                                   GAsyncResult         *result,
                                   GError              **error)
{
  return finish_pointer (self, result, signet_service_client_seal_async, error);
}

/* A log id as the service takes it ([A-Za-z0-9_-], 1 to 64): safe in a
 * path and a query without escaping. */
static gboolean
is_log_id (const char *id)
{
  gsize len = strlen (id);

  if (len == 0 || len > 64)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (id[i]) && id[i] != '-' && id[i] != '_')
      return FALSE;
  return TRUE;
}

void
signet_service_client_logs_upload_async (SignetServiceClient  *self,
                                         SignetServiceSession *session,
                                         const char           *log_session,
                                         GBytes               *segment,
                                         GCancellable         *cancellable,
                                         GAsyncReadyCallback   callback,
                                         gpointer              user_data)
{
  g_autofree char *path = NULL;
  gboolean named;
  GError *error = NULL;
  Request *req;
  gsize len;

  g_return_if_fail (SIGNET_IS_SERVICE_CLIENT (self));
  g_return_if_fail (session != NULL);
  g_return_if_fail (segment != NULL);

  /* The session's own log goes without a query, as it always did. */
  named = log_session != NULL && g_strcmp0 (log_session, session->id) != 0;
  path = named && is_log_id (log_session) ? g_strconcat ("/v1/logs?session=", log_session, NULL)
                                          : g_strdup ("/v1/logs");
  req = pop_request_new (self, session, "POST", path, cancellable, callback, user_data,
                         signet_service_client_logs_upload_async);
  if (named && !is_log_id (log_session))
    {
      signet_service_error_set (&error, SIGNET_SERVICE_ERROR_INVALID_REQUEST, 0, NULL, -1,
                                "The log's session id is not a valid session id");
      request_fail (req, error);
      return;
    }
  req->parse = parse_logs_upload;
  req->result_free = (GDestroyNotify) signet_service_log_receipt_free;
  req->content_type = SIGNET_SERVICE_LOG_CONTENT_TYPE;
  req->body = g_bytes_ref (segment);
  len = g_bytes_get_size (segment);
  if (len == 0 || len > SIGNET_SERVICE_LOG_SEGMENT_MAX)
    {
      signet_service_error_set (&error,
                                len == 0 ? SIGNET_SERVICE_ERROR_INVALID_REQUEST
                                         : SIGNET_SERVICE_ERROR_PAYLOAD_TOO_LARGE,
                                0, NULL, -1,
                                len == 0 ? "The log segment is empty"
                                         : "The log segment is larger than the service takes "
                                           "(1 MiB): upload it in parts");
      request_fail (req, error);
      return;
    }
  request_run (req);
}

SignetServiceLogReceipt *
signet_service_client_logs_upload_finish (SignetServiceClient  *self,
                                          GAsyncResult         *result,
                                          GError              **error)
{
  return finish_pointer (self, result, signet_service_client_logs_upload_async, error);
}

static void
append_param (GString    *path,
              const char *name,
              const char *value)
{
  g_autofree char *escaped = g_uri_escape_string (value, NULL, FALSE);

  g_string_append_c (path, strchr (path->str, '?') != NULL ? '&' : '?');
  g_string_append_printf (path, "%s=%s", name, escaped);
}

void
signet_service_client_logs_search_async (SignetServiceClient         *self,
                                         SignetServiceSession        *session,
                                         const SignetServiceLogQuery *query,
                                         GCancellable                *cancellable,
                                         GAsyncReadyCallback          callback,
                                         gpointer                     user_data)
{
  g_autoptr(GString) path = g_string_new ("/v1/logs");
  const SignetServiceLogQuery all = SIGNET_SERVICE_LOG_QUERY_INIT;
  const char *texts[] = { "technician", NULL, "device", NULL, "outcome", NULL, "cursor", NULL };
  GError *error = NULL;
  gboolean bad = FALSE;
  Request *req;

  g_return_if_fail (SIGNET_IS_SERVICE_CLIENT (self));
  g_return_if_fail (session != NULL);

  if (query == NULL)
    query = &all;
  texts[1] = query->technician;
  texts[3] = query->device;
  texts[5] = query->outcome;
  texts[7] = query->cursor;
  /* In the service's order of docs/api.md; escaped as the model is, so
   * the proof covers the request target exactly as sent. */
  for (gsize i = 0; i < G_N_ELEMENTS (texts); i += 2)
    if (texts[i + 1] != NULL)
      {
        bad |= !g_utf8_validate (texts[i + 1], -1, NULL) || *texts[i + 1] == '\0' ||
               strlen (texts[i + 1]) > 256;
        if (!bad)
          append_param (path, texts[i], texts[i + 1]);
      }
  if (query->from >= 0)
    {
      g_autofree char *v = g_strdup_printf ("%" G_GINT64_FORMAT, query->from);

      append_param (path, "from", v);
    }
  if (query->to >= 0)
    {
      g_autofree char *v = g_strdup_printf ("%" G_GINT64_FORMAT, query->to);

      append_param (path, "to", v);
    }
  if (query->limit > 0)
    {
      g_autofree char *v = g_strdup_printf ("%u", query->limit);

      bad |= query->limit > SIGNET_SERVICE_LOG_SEARCH_MAX;
      append_param (path, "limit", v);
    }
  req = pop_request_new (self, session, "GET", path->str, cancellable, callback, user_data,
                         signet_service_client_logs_search_async);
  req->parse = parse_logs_search;
  req->result_free = (GDestroyNotify) log_page_free;
  req->idempotent = TRUE;
  if (bad)
    {
      signet_service_error_set (&error, SIGNET_SERVICE_ERROR_INVALID_REQUEST, 0, NULL, -1,
                                "The log search has an empty, overlong or invalid condition, "
                                "or a limit over %d", SIGNET_SERVICE_LOG_SEARCH_MAX);
      request_fail (req, error);
      return;
    }
  request_run (req);
}

GPtrArray *
signet_service_client_logs_search_finish (SignetServiceClient  *self,
                                          GAsyncResult         *result,
                                          char                **out_next_cursor,
                                          GError              **error)
{
  g_autoptr(LogPage) page = finish_pointer (self, result,
                                            signet_service_client_logs_search_async, error);

  if (out_next_cursor != NULL)
    *out_next_cursor = page != NULL ? g_steal_pointer (&page->next_cursor) : NULL;
  return page != NULL ? g_steal_pointer (&page->logs) : NULL;
}

void
signet_service_client_log_fetch_async (SignetServiceClient  *self,
                                       SignetServiceSession *session,
                                       const char           *id,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data)
{
  g_autofree char *path = NULL;
  GError *error = NULL;
  gboolean valid;
  Request *req;

  g_return_if_fail (SIGNET_IS_SERVICE_CLIENT (self));
  g_return_if_fail (session != NULL);
  g_return_if_fail (id != NULL);

  valid = is_log_id (id);
  path = g_strconcat ("/v1/logs/", valid ? id : "-", NULL);
  req = pop_request_new (self, session, "GET", path, cancellable, callback, user_data,
                         signet_service_client_log_fetch_async);
  req->raw_parse = parse_log_fetch;
  req->raw_type = SIGNET_SERVICE_LOG_CONTENT_TYPE;
  req->max_response = MAX (self->max_response, (gsize) SIGNET_SERVICE_LOG_FETCH_MAX);
  req->log_headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  req->result_free = (GDestroyNotify) signet_service_log_free;
  req->extra = g_strdup (id);
  req->extra_free = g_free;
  req->idempotent = TRUE;
  if (!valid)
    {
      signet_service_error_set (&error, SIGNET_SERVICE_ERROR_INVALID_REQUEST, 0, NULL, -1,
                                "Not a valid log id");
      request_fail (req, error);
      return;
    }
  request_run (req);
}

SignetServiceLog *
signet_service_client_log_fetch_finish (SignetServiceClient  *self,
                                        GAsyncResult         *result,
                                        GError              **error)
{
  return finish_pointer (self, result, signet_service_client_log_fetch_async, error);
}

void
signet_service_client_health_async (SignetServiceClient *self,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  Request *req;

  g_return_if_fail (SIGNET_IS_SERVICE_CLIENT (self));

  req = request_new (self, "GET", "/v1/health", cancellable, callback, user_data,
                     signet_service_client_health_async);
  req->parse = parse_health;
  req->result_free = g_free;
  req->idempotent = TRUE;
  request_run (req);
}

char *
signet_service_client_health_finish (SignetServiceClient  *self,
                                     GAsyncResult         *result,
                                     GError              **error)
{
  return finish_pointer (self, result, signet_service_client_health_async, error);
}
