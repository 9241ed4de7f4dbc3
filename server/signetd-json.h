/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-json.h: strict JSON request bodies.
 *
 * A request body is one JSON object (RFC 8259) holding exactly the members
 * an endpoint names, each of its type. Before json-glib builds the tree, a
 * small tokenizer checks the grammar strictly and refuses what json-glib
 * would accept or silently merge: duplicate member names (json-glib 1.6
 * keeps the last, so {"password":"a","password":"b"} would be read as
 * "b"), nesting deeper than SIGNETD_JSON_MAX_DEPTH (json-glib's parser
 * recurses), more than SIGNETD_JSON_MAX_MEMBERS members, comments and
 * other extensions, unpaired surrogate escapes, and U+0000 in a member name
 * (json-glib would cut the name there).
 *
 * Pure: no SoupServerMessage, so it is unit tested and fuzzed directly.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Objects and arrays nested in one another, the body itself counting 1. */
#define SIGNETD_JSON_MAX_DEPTH 16
/* Members of all objects of one body together. */
#define SIGNETD_JSON_MAX_MEMBERS 1024

#define SIGNETD_JSON_ERROR (signetd_json_error_quark ())

typedef enum {
  SIGNETD_JSON_ERROR_MALFORMED,         /* not RFC 8259 JSON in UTF-8 */
  SIGNETD_JSON_ERROR_TOO_DEEP,
  SIGNETD_JSON_ERROR_TOO_MANY_MEMBERS,
  SIGNETD_JSON_ERROR_DUPLICATE_MEMBER,  /* in any object of the body */
  SIGNETD_JSON_ERROR_NOT_OBJECT,
  SIGNETD_JSON_ERROR_UNKNOWN_MEMBER,
  SIGNETD_JSON_ERROR_MISSING_MEMBER,
  SIGNETD_JSON_ERROR_WRONG_TYPE,
} SignetdJsonError;

typedef enum {
  SIGNETD_JSON_MEMBER_STRING,
  SIGNETD_JSON_MEMBER_OBJECT,
  SIGNETD_JSON_MEMBER_ARRAY,
} SignetdJsonMemberType;

/* One required member of a body. */
typedef struct {
  const char *name;
  SignetdJsonMemberType type;
} SignetdJsonMember;

GQuark   signetd_json_error_quark (void);

gboolean signetd_json_check      (const char  *data,
                                  gsize        len,
                                  guint       *n_members,
                                  GError     **error);

gboolean signetd_json_body_parse (const char               *data,
                                  gsize                     len,
                                  const SignetdJsonMember  *spec,
                                  gsize                     n_spec,
                                  JsonParser              **out_parser,
                                  JsonObject              **out_obj,
                                  GError                  **error);

G_END_DECLS
