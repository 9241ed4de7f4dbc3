/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-http.h: the HTTPS front end (libsoup 3) of docs/api.md.
 *
 * Routes: POST /v1/login, /v1/step-up, /v1/refresh, /v1/logout;
 * GET /v1/trust, /v1/health; GET /v1/profiles and POST /v1/seal
 * (signetd-http-vault.c, once signetd_http_set_sealing () was called);
 * POST /v1/logs, GET /v1/logs, GET /v1/logs/{id} (signetd-http-logs.c,
 * once signetd_http_set_logs () was called). Anything else under the server is 404
 * not_found, a known path with another method 405 method_not_allowed.
 *
 * With an audit log (signetd_http_set_logs ()), every state-changing
 * request and every sign-in failure is recorded (signetd-audit.h) before
 * it is answered.
 *
 * Bounds: a request body is collected by this module (libsoup's own
 * accumulation is off) and refused with 413 payload_too_large as soon as
 * it passes SIGNETD_HTTP_MAX_BODY (SIGNETD_LOGS_SEGMENT_MAX for POST
 * /v1/logs) -- from the Content-Length before any
 * byte of it is read when there is one, else while it streams in, without
 * keeping more than the limit. Request headers are bounded in total
 * (SIGNETD_HTTP_MAX_HEADERS) and each PoP header by signet-pop.h's limits.
 * Bodies are strict JSON objects: malformed JSON, a member of the wrong
 * type, a missing or an unknown member are 400 invalid_request.
 *
 * argon2id runs in a GTask worker thread while the message is paused
 * (soup_server_message_pause); the database is only used on the main
 * loop. Each request is logged once, when it finishes, with
 * g_log_structured (SIGNETD_METHOD, SIGNETD_PATH, SIGNETD_STATUS,
 * SIGNETD_DURATION_MS, SIGNETD_USER, SIGNETD_REMOTE): never a body,
 * password, code, token or proof.
 *
 * Errors of this module (SIGNETD_HTTP_ERROR) are set-up errors: TLS
 * files, listening.
 */
#pragma once

#include <glib-object.h>

#include "signetd-accounts.h"
#include "signetd-config.h"
#include "signetd-audit.h"
#include "signetd-keys.h"
#include "signetd-logs.h"
#include "signetd-profiles.h"
#include "signetd-seal.h"
#include "signetd-store.h"
#include "signetd-tokens.h"
#include "signetd-trust.h"

G_BEGIN_DECLS

#define SIGNETD_HTTP_ERROR (signetd_http_error_quark ())
GQuark signetd_http_error_quark (void);

typedef enum {
  SIGNETD_HTTP_ERROR_TLS,      /* the certificate or key cannot be loaded */
  SIGNETD_HTTP_ERROR_LISTEN,   /* cannot listen on the address */
} SignetdHttpError;

#define SIGNETD_HTTP_MAX_BODY (64 * 1024)
#define SIGNETD_HTTP_MAX_HEADERS (16 * 1024)

#define SIGNETD_TYPE_HTTP (signetd_http_get_type ())
G_DECLARE_FINAL_TYPE (SignetdHttp, signetd_http, SIGNETD, HTTP, GObject)

/* Borrows everything; all must outlive the server. Returns: (transfer full) (nullable) */
SignetdHttp *signetd_http_new    (SignetdConfig    *config,
                                  SignetdStore     *store,
                                  SignetdAccounts  *accounts,
                                  SignetdTrust     *trust,
                                  SignetdTokens    *tokens,
                                  GError          **error);

/* Listen on config->listen. Returns: (transfer full) (nullable): the
 * URL actually served ("https://127.0.0.1:40123", with the real port when
 * port 0 was asked for) */
char        *signetd_http_listen (SignetdHttp      *self,
                                  GError          **error);

/* Serve GET /v1/profiles and POST /v1/seal with these (borrowed; they
 * must outlive the server). Without them those routes answer 500. */
void         signetd_http_set_sealing (SignetdHttp     *self,
                                       SignetdProfiles *profiles,
                                       SignetdSeal     *seal);

/* Serve the /v1/logs routes with logs, and record the service's events
 * in audit (both borrowed, must outlive the server; audit nullable).
 * Without logs those routes answer 500. */
void         signetd_http_set_logs (SignetdHttp     *self,
                                    SignetdLogs     *logs,
                                    SignetdAudit    *audit);

/* Stop accepting and close the listening sockets. */
void         signetd_http_stop   (SignetdHttp      *self);

G_END_DECLS
