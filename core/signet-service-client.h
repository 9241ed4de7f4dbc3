/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-service-client.h: the tool's client of the token service
 * (DESIGN.md §3 and §5, docs/api.md; docs/client.md is its manual).
 *
 * Every call is an _async/_finish pair on libcurl's multi interface,
 * driven by the GLib main context that was the thread-default one when
 * the client was made (one GSource watches curl's sockets and its timer):
 * nothing blocks that thread, name resolution included (curl's threaded
 * resolver). Use a client, and the sessions it makes, from that thread
 * only. Every call takes a GCancellable; a cancelled call ends at once
 * with SIGNET_SERVICE_ERROR_CANCELLED.
 *
 * TLS is verified against the configured CA certificate(s) only, never
 * the system's store, with the host name checked, TLS 1.2 at least, and
 * optionally a SHA-256 pin of the service certificate's public key.
 * Proxies come from the environment (https_proxy, all_proxy, no_proxy)
 * as libcurl reads them, except that a loopback service is never
 * proxied. Bodies are bounded both ways.
 *
 * Calls that need proof of possession take a SignetServiceSession (made
 * by login) and sign a fresh Signet-PoP proof for every attempt. Only
 * idempotent GETs (trust, profiles, health) are retried, with exponential
 * back-off, on transport failures, 5xx and 429: a login, refresh,
 * step-up, logout, seal or upload is sent once (docs/client.md says why).
 *
 * Errors are in the SIGNET_SERVICE_ERROR domain (signet-service-error.h).
 * No secret (password, code, token, proof, log key) is ever logged or put
 * in an error message; what the client holds of them is wiped when freed.
 */
#pragma once

#include <gio/gio.h>

#include "signet-key.h"
#include "signet-service-error.h"

G_BEGIN_DECLS

/* The largest answer body taken by default; a larger one is refused
 * (SIGNET_SERVICE_ERROR_BAD_RESPONSE) without being kept. */
#define SIGNET_SERVICE_MAX_RESPONSE_DEFAULT (1024 * 1024)
/* The service's bounds on request bodies (docs/api.md). */
#define SIGNET_SERVICE_MAX_REQUEST 65536
#define SIGNET_SERVICE_LOG_SEGMENT_MAX (1024 * 1024)
#define SIGNET_SERVICE_LOG_CONTENT_TYPE "application/cbor-seq"
#define SIGNET_SERVICE_LOG_KEY_LEN 32

#define SIGNET_SERVICE_TIMEOUT_DEFAULT 30          /* s, per attempt */
#define SIGNET_SERVICE_CONNECT_TIMEOUT_DEFAULT 10  /* s */
#define SIGNET_SERVICE_MAX_RETRIES_DEFAULT 2       /* so at most 3 attempts */
#define SIGNET_SERVICE_RETRY_DELAY_DEFAULT 500     /* ms before the first retry */
/* A Retry-After longer than this is not waited for: the error goes back
 * to the caller, who may tell the user. */
#define SIGNET_SERVICE_RETRY_AFTER_MAX 60          /* s */

/* ---- a signed-in session ------------------------------------------------- */

/* What login gives: the service token, the proof-of-possession key it is
 * bound to, and what the service said about it. Refresh and step-up
 * replace the token in place; logout wipes it. A refcounted boxed type,
 * not thread-safe (like the client). */
typedef struct _SignetServiceSession SignetServiceSession;

#define SIGNET_TYPE_SERVICE_SESSION (signet_service_session_get_type ())
GType                 signet_service_session_get_type       (void) G_GNUC_CONST;

SignetServiceSession *signet_service_session_ref            (SignetServiceSession *session);
/* The token and any untaken log key are wiped when the last reference
 * goes. */
void                  signet_service_session_unref          (SignetServiceSession *session);

/* An independent copy with the same token and key (not the log key), for
 * a component that must keep using a session the caller may sign out.
 * Returns: (transfer full) */
SignetServiceSession *signet_service_session_dup            (SignetServiceSession *session);

/* Returns: (transfer none): the private key the token is bound to */
SignetKey            *signet_service_session_get_pop_key    (SignetServiceSession *session);
/* The current token (a CWT, as the device's AUTHORIZE takes it).
 * Returns: (transfer full) (nullable): a wiping GBytes; NULL once signed out */
GBytes               *signet_service_session_dup_token      (SignetServiceSession *session);
/* The session id (what `signetd revoke --session` takes). */
const char           *signet_service_session_get_id         (SignetServiceSession *session);
/* The token's subject: the user name as the service knows it. */
const char           *signet_service_session_get_username   (SignetServiceSession *session);
/* Space-separated scope words; has_scope looks one up. */
const char           *signet_service_session_get_scope      (SignetServiceSession *session);
gboolean              signet_service_session_has_scope      (SignetServiceSession *session,
                                                             const char           *word);
const char           *signet_service_session_get_role       (SignetServiceSession *session);
/* Seconds since the epoch, by the service's clock. */
gint64                signet_service_session_get_expires_at (SignetServiceSession *session);
gint64                signet_service_session_get_auth_time  (SignetServiceSession *session);
/* K_0 of the session's event log (32 bytes), given once: the first call
 * returns it and forgets it, later calls return NULL. The event log
 * copies it and wipes it as it evolves (signet_event_log_create).
 * Returns: (transfer full) (nullable): a wiping GBytes */
GBytes               *signet_service_session_take_log_key   (SignetServiceSession *session);
/* TRUE after a successful logout: PoP calls then fail at once with
 * SIGNET_SERVICE_ERROR_UNAUTHORIZED, without going to the network. */
gboolean              signet_service_session_is_signed_out  (SignetServiceSession *session);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetServiceSession, signet_service_session_unref)

/* ---- results ------------------------------------------------------------- */

/* One key of GET /v1/trust's authority_keys. */
typedef struct {
  char *kid;            /* the RFC 7638 thumbprint of key (checked) */
  SignetKey *key;
  GBytes *cose_key;     /* as the service gave it (with kid) */
  gboolean current;
  gint64 not_after;     /* -1 for the current key (null) */
} SignetServiceAuthorityKey;

/* GET /v1/trust. The revocation list is given as received: verify it
 * with the authority keys (sp_revocation) before believing it. */
typedef struct {
  GPtrArray *authority_keys;   /* (element-type SignetServiceAuthorityKey), current first */
  GPtrArray *manufacturer_cas; /* (element-type GBytes): DER, in the service's order */
  GBytes *revocation_list;     /* a signed COSE_Sign1 */
} SignetServiceTrust;

void signet_service_trust_free (SignetServiceTrust *trust);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetServiceTrust, signet_service_trust_free)

/* A field of a profile. */
typedef struct {
  char *key;
  char *type;           /* "string", "int", "bool" or "enum" */
  gboolean has_min;
  gint64 min;
  gboolean has_max;
  gint64 max;
  GStrv values;         /* an enum's values, else NULL */
  gboolean secret;
} SignetServiceProfileField;

/* A profile of GET /v1/profiles. signed_profile is what a device verifies
 * (a COSE_Sign1 by the authority over the device form); the other members
 * are the service's JSON view of it, for display. */
typedef struct {
  char *id;
  gint64 version;
  char *model;
  char *klass;          /* "config", "credential" or "firmware" */
  gboolean critical;
  char *description;
  GPtrArray *fields;    /* (element-type SignetServiceProfileField) */
  GBytes *signed_profile;
} SignetServiceProfile;

void signet_service_profile_free (SignetServiceProfile *profile);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetServiceProfile, signet_service_profile_free)

/* A sealed value of POST /v1/seal; digest (lower-case hex SHA-256 of
 * enc || ct) was checked against enc and ct. */
typedef struct {
  char *key;
  GBytes *enc;          /* 65 bytes */
  GBytes *ct;
  char *digest;
} SignetServiceSealed;

void signet_service_sealed_free (SignetServiceSealed *sealed);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetServiceSealed, signet_service_sealed_free)

/* The answer of POST /v1/logs: keep countersignature as proof that the
 * service held that head. */
typedef struct {
  char *session;
  guint64 records;            /* records in the segment */
  guint64 next_seq;           /* records of the whole stored log */
  GBytes *head;               /* the chain head, 32 bytes */
  gint64 sealed_seq;          /* the last seal that verified, -1: none */
  GBytes *countersignature;   /* a COSE_Sign1 by the authority */
} SignetServiceLogReceipt;

void signet_service_log_receipt_free (SignetServiceLogReceipt *receipt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetServiceLogReceipt, signet_service_log_receipt_free)

/* What GET /v1/logs may be asked (docs/api.md); every member optional. */
typedef struct {
  const char *technician;     /* nullable: exact user name ("signetd": audit logs) */
  const char *device;         /* nullable: a device any record names */
  gint64 from;                /* seconds; -1: no bound */
  gint64 to;                  /* seconds; -1: no bound */
  const char *outcome;        /* nullable: "verified", "tampered", "open", "incomplete" */
  guint limit;                /* 1..SIGNET_SERVICE_LOG_SEARCH_MAX; 0: the service's default */
  const char *cursor;         /* nullable: the next_cursor of the previous page */
} SignetServiceLogQuery;

/* Fill a query with "no condition" (from and to -1, the rest 0/NULL). */
#define SIGNET_SERVICE_LOG_QUERY_INIT { NULL, NULL, -1, -1, NULL, 0, NULL }
#define SIGNET_SERVICE_LOG_SEARCH_MAX 200

/* One log of GET /v1/logs. */
typedef struct {
  char *id;                   /* the answer's "session": a session id or an audit log's id */
  char *kind;                 /* "session" or "service" */
  char *technician;
  gint64 started;             /* seconds */
  gint64 ended;               /* seconds, -1: not complete (null) */
  guint64 records;
  char *outcome;              /* "verified", "tampered", "open" or "incomplete" */
  GStrv devices;              /* sorted, never NULL */
} SignetServiceLogSummary;

void signet_service_log_summary_free (SignetServiceLogSummary *summary);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetServiceLogSummary, signet_service_log_summary_free)

/* The largest log GET /v1/logs/{id} takes (more than the client's
 * default answer bound, which stays for every other call). */
#define SIGNET_SERVICE_LOG_FETCH_MAX (64 * 1024 * 1024)

/* GET /v1/logs/{id}: the stored records as uploaded and the service's
 * verdict on them (its Signet-Log-* headers). The verdict is the
 * service's: whoever holds K_0 may verify log again. */
typedef struct {
  char *id;
  GBytes *log;                /* application/cbor-seq, as uploaded */
  char *kind;                 /* "session" or "service" */
  char *technician;
  char *outcome;              /* as in SignetServiceLogSummary */
  char *verdict;              /* "verified", "tampered", "truncated", "unsealed-tail", "malformed" */
  char *reason;               /* docs/eventlog.md §5, e.g. "none", "seal-mac" */
  gint64 index;               /* the record the verdict is about, -1: none */
  guint64 records;
  gint64 sealed_seq;          /* -1: no seal verified */
  guint rejected;             /* segments kept aside */
} SignetServiceLog;

void signet_service_log_free (SignetServiceLog *log);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetServiceLog, signet_service_log_free)

/* ---- the client ---------------------------------------------------------- */

#define SIGNET_TYPE_SERVICE_CLIENT (signet_service_client_get_type ())
G_DECLARE_FINAL_TYPE (SignetServiceClient, signet_service_client, SIGNET, SERVICE_CLIENT, GObject)

/* base_url is "https://HOST[:PORT]" (a trailing '/' is allowed; no path,
 * query, fragment or user info); ca_pem holds one or more PEM
 * "CERTIFICATE" blocks, the only anchors the service's certificate is
 * verified against (a self-signed service certificate may be its own
 * anchor). SIGNET_SERVICE_ERROR_INVALID_REQUEST for a URL or PEM that is
 * not acceptable. Returns: (transfer full) (nullable) */
SignetServiceClient *signet_service_client_new             (const char           *base_url,
                                                            GBytes               *ca_pem,
                                                            GError              **error);
/* The same with the CA certificate(s) read from a PEM file.
 * Returns: (transfer full) (nullable) */
SignetServiceClient *signet_service_client_new_for_ca_file (const char           *base_url,
                                                            const char           *ca_file,
                                                            GError              **error);

/* "https://HOST[:PORT]", without a trailing '/'. */
const char          *signet_service_client_get_base_url    (SignetServiceClient  *self);

/* Also require the service certificate's SubjectPublicKeyInfo to hash to
 * one of the pins: "sha256//BASE64" (standard base64 of 32 bytes, as
 * curl and HPKP write them), several separated by ';'. NULL removes the
 * pin. SIGNET_SERVICE_ERROR_INVALID_REQUEST for a malformed pin. */
gboolean             signet_service_client_set_spki_pin    (SignetServiceClient  *self,
                                                            const char           *pin,
                                                            GError              **error);
/* The pin of the first certificate in pem ("sha256//..."), for
 * configuration tools. Returns: (transfer full) (nullable) */
char                *signet_service_spki_pin_from_pem      (const char           *pem,
                                                            GError              **error);

/* Seconds for a whole attempt (connect to last byte), 1..3600. */
void                 signet_service_client_set_timeout     (SignetServiceClient  *self,
                                                            guint                 seconds);
guint                signet_service_client_get_timeout     (SignetServiceClient  *self);
/* Seconds to connect (TCP and TLS), 1..3600. */
void                 signet_service_client_set_connect_timeout (SignetServiceClient *self,
                                                                guint                seconds);
guint                signet_service_client_get_connect_timeout (SignetServiceClient *self);
/* Retries of an idempotent call after the first attempt, 0..10. */
void                 signet_service_client_set_max_retries (SignetServiceClient  *self,
                                                            guint                 retries);
guint                signet_service_client_get_max_retries (SignetServiceClient  *self);
/* Milliseconds before the first retry (doubled each time, with jitter,
 * at most 30 s), 1..60000. */
void                 signet_service_client_set_retry_delay (SignetServiceClient  *self,
                                                            guint                 ms);
/* NULL: proxies from the environment (the default); "": no proxy at
 * all; otherwise a proxy URL for every request (a loopback service is
 * never proxied). */
void                 signet_service_client_set_proxy       (SignetServiceClient  *self,
                                                            const char           *proxy);
/* The service's clock minus ours, in seconds, as last seen in an
 * answer's Date header (0 before any). Proofs of possession are dated by
 * the service's clock, so a laptop whose clock is off by minutes still
 * signs proofs the service accepts; a UI may warn about a large offset. */
gint64               signet_service_client_get_clock_offset (SignetServiceClient *self);

/* POST /v1/login. pop_key (nullable) is the private key to bind the
 * token to; NULL makes a fresh one (DESIGN.md §3: one per sign-in).
 * password and otp are sent and not kept. */
void                  signet_service_client_login_async    (SignetServiceClient  *self,
                                                            const char           *username,
                                                            const char           *password,
                                                            const char           *otp,
                                                            SignetKey            *pop_key,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
/* Returns: (transfer full) (nullable) */
SignetServiceSession *signet_service_client_login_finish   (SignetServiceClient  *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);

/* POST /v1/refresh: a new token for the session, same auth_time. */
void                  signet_service_client_refresh_async  (SignetServiceClient  *self,
                                                            SignetServiceSession *session,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
gboolean              signet_service_client_refresh_finish (SignetServiceClient  *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);

/* POST /v1/step-up with a new code: a token with a fresh auth_time. */
void                  signet_service_client_step_up_async  (SignetServiceClient  *self,
                                                            SignetServiceSession *session,
                                                            const char           *otp,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
gboolean              signet_service_client_step_up_finish (SignetServiceClient  *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);

/* POST /v1/logout: the service revokes the session; on success the
 * session is signed out here too (its token wiped). On failure it stays
 * usable: the service may not have heard. */
void                  signet_service_client_logout_async   (SignetServiceClient  *self,
                                                            SignetServiceSession *session,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
gboolean              signet_service_client_logout_finish  (SignetServiceClient  *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);

/* GET /v1/trust (no session needed). */
void                  signet_service_client_trust_async    (SignetServiceClient  *self,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
/* Returns: (transfer full) (nullable) */
SignetServiceTrust   *signet_service_client_trust_finish   (SignetServiceClient  *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);

/* GET /v1/profiles?model=MODEL (PoP). */
void                  signet_service_client_profiles_async (SignetServiceClient  *self,
                                                            SignetServiceSession *session,
                                                            const char           *model,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
/* Returns: (transfer full) (nullable) (element-type SignetServiceProfile):
 * sorted by id; empty for an unknown model */
GPtrArray            *signet_service_client_profiles_finish (SignetServiceClient *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);

/* POST /v1/seal (PoP): the device's attestation evidence, its chain
 * (element-type GBytes, DER, leaf first), a profile id and the secret
 * field keys to seal. */
void                  signet_service_client_seal_async     (SignetServiceClient  *self,
                                                            SignetServiceSession *session,
                                                            GBytes               *evidence,
                                                            GPtrArray            *chain,
                                                            const char           *profile_id,
                                                            const char * const   *fields,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
/* Returns: (transfer full) (nullable) (element-type SignetServiceSealed):
 * in the order of fields */
GPtrArray            *signet_service_client_seal_finish    (SignetServiceClient  *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);

/* POST /v1/logs (PoP): one segment of an event log (whole records,
 * application/cbor-seq, at most SIGNET_SERVICE_LOG_SEGMENT_MAX bytes;
 * seal before uploading). log_session (nullable) is the id of the
 * session the log belongs to (record 0's "session"): NULL or the
 * session's own id for the session's own log; an earlier session of the
 * same user (signed out, revoked or expired) is sent as
 * POST /v1/logs?session=ID (SIGNET_SERVICE_ERROR_NOT_FOUND for an
 * unknown one or another user's). */
void                  signet_service_client_logs_upload_async (SignetServiceClient  *self,
                                                               SignetServiceSession *session,
                                                               const char           *log_session,
                                                               GBytes               *segment,
                                                               GCancellable         *cancellable,
                                                               GAsyncReadyCallback   callback,
                                                               gpointer              user_data);
/* Returns: (transfer full) (nullable) */
SignetServiceLogReceipt *signet_service_client_logs_upload_finish (SignetServiceClient  *self,
                                                                   GAsyncResult         *result,
                                                                   GError              **error);

/* GET /v1/logs (PoP, scope log.read: supervisor or admin): one page of
 * the uploaded logs and the service's audit logs, newest first. query
 * (nullable: everything) is copied. */
void                  signet_service_client_logs_search_async (SignetServiceClient         *self,
                                                               SignetServiceSession        *session,
                                                               const SignetServiceLogQuery *query,
                                                               GCancellable                *cancellable,
                                                               GAsyncReadyCallback          callback,
                                                               gpointer                     user_data);
/* *out_next_cursor (nullable) is set to the cursor of the next page, or
 * NULL on the last one.
 * Returns: (transfer full) (nullable) (element-type SignetServiceLogSummary) */
GPtrArray            *signet_service_client_logs_search_finish (SignetServiceClient  *self,
                                                                GAsyncResult         *result,
                                                                char                **out_next_cursor,
                                                                GError              **error);

/* GET /v1/logs/{id} (PoP, scope log.read): one whole stored log, with
 * the verdict of the service's verification from K_0. id is a log id
 * ([A-Za-z0-9_-], 1 to 64). */
void                  signet_service_client_log_fetch_async (SignetServiceClient  *self,
                                                             SignetServiceSession *session,
                                                             const char           *id,
                                                             GCancellable         *cancellable,
                                                             GAsyncReadyCallback   callback,
                                                             gpointer              user_data);
/* Returns: (transfer full) (nullable) */
SignetServiceLog     *signet_service_client_log_fetch_finish (SignetServiceClient  *self,
                                                              GAsyncResult         *result,
                                                              GError              **error);

/* GET /v1/health. */
void                  signet_service_client_health_async   (SignetServiceClient  *self,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
/* Returns: (transfer full) (nullable): the service's version */
char                 *signet_service_client_health_finish  (SignetServiceClient  *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);

G_END_DECLS
