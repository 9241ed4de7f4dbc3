/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-http-private.h: what the handler files of the HTTP front end
 * share (signetd-http.c, signetd-http-vault.c, signetd-http-logs.c): the
 * object's fields, the JSON answers, the strict body parser, PoP
 * authentication and the audit records.
 */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "signetd-http.h"
#include "signetd-json.h"
#include "signetd-lockout.h"

G_BEGIN_DECLS

struct _SignetdHttp {
  GObject parent_instance;

  SoupServer *server;
  SignetdConfig *config;       /* borrowed */
  SignetdStore *store;         /* borrowed */
  SignetdAccounts *accounts;   /* borrowed */
  SignetdTrust *trust;         /* borrowed */
  SignetdTokens *tokens;       /* borrowed */
  SignetdProfiles *profiles;   /* borrowed, nullable */
  SignetdSeal *seal;           /* borrowed, nullable */
  SignetdLogs *logs;           /* borrowed, nullable */
  SignetdAudit *audit;         /* borrowed, nullable: nothing is recorded */
  SignetdLockoutPolicy policy;

  /* Group commit (signetd-store.h): requests answered while the group is
   * open wait, paused, until it commits. */
  GPtrArray *held;             /* SoupServerMessage *, answered, paused */
  gint64 group_started_us;
  guint group_idle;            /* commits the group once the loop is idle */
};

/* A body's members: signetd-json's spec, under the handlers' names. */
typedef SignetdJsonMember SignetdHttpMember;
#define SIGNETD_HTTP_MEMBER_STRING SIGNETD_JSON_MEMBER_STRING
#define SIGNETD_HTTP_MEMBER_OBJECT SIGNETD_JSON_MEMBER_OBJECT
#define SIGNETD_HTTP_MEMBER_ARRAY SIGNETD_JSON_MEMBER_ARRAY

/* A JSON answer (Cache-Control: no-store; the text is wiped after it is
 * copied into the message). */
void           _signetd_http_respond_json        (SoupServerMessage *msg,
                                                  guint              status,
                                                  JsonNode          *node);
/* {"error": code, "message": message} */
void           _signetd_http_respond_error       (SoupServerMessage *msg,
                                                  guint              status,
                                                  const char        *code,
                                                  const char        *message);
/* Commit the open group (if any) and release the answers it held; on
 * failure each becomes a 500. */
void _signetd_http_group_commit (SignetdHttp *self);
/* 500 internal_error; error (nullable) goes to the log only. */
void           _signetd_http_respond_internal    (SoupServerMessage *msg,
                                                  const GError      *error);
/* 400 invalid_request */
void           _signetd_http_respond_bad_request (SoupServerMessage *msg,
                                                  const char        *message);

/* Parse body as a JSON object holding exactly the members of spec (all
 * required). An empty body counts as {} when spec is empty (then
 * *out_obj may be NULL). Sends the 400 itself and returns FALSE on
 * failure. *out_obj belongs to *out_parser. */
gboolean       _signetd_http_parse_body          (SoupServerMessage        *msg,
                                                  GBytes                   *body,
                                                  const SignetdHttpMember  *spec,
                                                  gsize                     n_spec,
                                                  JsonParser              **out_parser,
                                                  JsonObject              **out_obj);

/* Check the token and proof of a PoP request; sends the 401 (or 500)
 * itself and returns NULL on failure. Returns: (transfer full) (nullable) */
SignetdCaller *_signetd_http_authenticate        (SignetdHttp       *self,
                                                  SoupServerMessage *msg,
                                                  GBytes            *body);

gint64         _signetd_http_now_seconds         (void);

/* signetd-http-logs.c */

/* The body bound of a route: SIGNETD_HTTP_MAX_BODY, or more for one
 * that takes more (POST /v1/logs). */
gsize          _signetd_http_body_limit          (const char        *method,
                                                  const char        *path);
/* Append an audit record (signetd_audit_record()'s fmt) before answering
 * a state-changing request; on failure sends the 500 itself and returns
 * FALSE. */
gboolean       _signetd_http_audit               (SignetdHttp       *self,
                                                  SoupServerMessage *msg,
                                                  const char        *type,
                                                  const char        *device,
                                                  const char        *fmt,
                                                  ...);
void           _signetd_http_handle_logs_upload  (SignetdHttp       *self,
                                                  SoupServerMessage *msg,
                                                  GBytes            *body,
                                                  GHashTable        *query);
void           _signetd_http_handle_logs_search  (SignetdHttp       *self,
                                                  SoupServerMessage *msg,
                                                  GBytes            *body,
                                                  GHashTable        *query);
void           _signetd_http_handle_log_fetch    (SignetdHttp       *self,
                                                  SoupServerMessage *msg,
                                                  GBytes            *body,
                                                  const char        *id,
                                                  GHashTable        *query);

/* signetd-http-vault.c */
void           _signetd_http_handle_profiles     (SignetdHttp       *self,
                                                  SoupServerMessage *msg,
                                                  GBytes            *body,
                                                  GHashTable        *query);
void           _signetd_http_handle_seal         (SignetdHttp       *self,
                                                  SoupServerMessage *msg,
                                                  GBytes            *body);

G_END_DECLS
