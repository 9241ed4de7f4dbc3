/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-http-private.h: what the handler files of the HTTP front end
 * share (signetd-http.c and signetd-http-vault.c): the object's fields,
 * the JSON answers, the strict body parser and PoP authentication.
 */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "signetd-http.h"
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
  SignetdLockoutPolicy policy;
};

typedef enum {
  SIGNETD_HTTP_MEMBER_STRING,
  SIGNETD_HTTP_MEMBER_OBJECT,
  SIGNETD_HTTP_MEMBER_ARRAY,
} SignetdHttpMemberType;

typedef struct {
  const char *name;
  SignetdHttpMemberType type;
} SignetdHttpMember;

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

/* signetd-http-vault.c */
void           _signetd_http_handle_profiles     (SignetdHttp       *self,
                                                  SoupServerMessage *msg,
                                                  GBytes            *body,
                                                  GHashTable        *query);
void           _signetd_http_handle_seal         (SignetdHttp       *self,
                                                  SoupServerMessage *msg,
                                                  GBytes            *body);

G_END_DECLS
