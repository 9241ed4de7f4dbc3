/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-http-vault.c: GET /v1/profiles and POST /v1/seal (docs/api.md).
 */
#include "config.h"

#include <string.h>

#include "signet-base64url.h"
#include "signet-x509.h"
#include "signetd-http-private.h"
#include "sp-evidence.h"

/* A DER certificate of a device chain, at most. */
#define CERT_MAX 8192

static char *
b64 (GBytes *bytes)
{
  return signet_base64url_encode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/* ---- GET /v1/profiles?model=M ------------------------------------------- */

void
_signetd_http_handle_profiles (SignetdHttp       *self,
                               SoupServerMessage *msg,
                               GBytes            *body,
                               GHashTable        *query)
{
  g_autoptr(SignetdCaller) caller = NULL;
  g_autoptr(GPtrArray) profiles = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonNode) root = NULL;
  const char *model = query != NULL ? g_hash_table_lookup (query, "model") : NULL;
  gboolean allowed[4] = { FALSE };
  gboolean any = FALSE;

  if (self->profiles == NULL)
    {
      _signetd_http_respond_internal (msg, NULL);
      return;
    }
  caller = _signetd_http_authenticate (self, msg, body);
  if (caller == NULL)
    return;
  if (g_bytes_get_size (body) != 0)
    {
      _signetd_http_respond_bad_request (msg, "a GET has no body");
      return;
    }
  if (query == NULL || model == NULL || g_hash_table_size (query) != 1)
    {
      _signetd_http_respond_bad_request (msg, "the query is model=MODEL and nothing else");
      return;
    }
  if (*model == '\0' || strlen (model) > SIGNETD_PROFILE_MODEL_MAX ||
      !g_utf8_validate (model, -1, NULL))
    {
      _signetd_http_respond_bad_request (msg, "model: 1 to 64 bytes of UTF-8");
      return;
    }

  for (int k = SIGNETD_PROFILE_CLASS_CONFIG; k <= SIGNETD_PROFILE_CLASS_FIRMWARE; k++)
    {
      allowed[k] = sp_cwt_scope_has (&caller->claims, signetd_profile_class_scope (k));
      any |= allowed[k];
    }
  if (!any)
    {
      _signetd_http_respond_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden",
                                   "the token's scope allows no device operation");
      return;
    }

  profiles = signetd_profiles_list (self->profiles, model, &error);
  if (profiles == NULL)
    {
      _signetd_http_respond_internal (msg, error);
      return;
    }
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "profiles");
  json_builder_begin_array (b);
  for (guint i = 0; i < profiles->len; i++)
    {
      SignetdProfile *p = g_ptr_array_index (profiles, i);
      g_autoptr(GBytes) payload = NULL;
      g_autoptr(GBytes) signed_profile = NULL;
      g_autofree char *signed_b64 = NULL;
      JsonNode *node;

      if (!allowed[p->klass])
        continue;
      payload = signetd_profile_encode (p, &error);
      if (payload != NULL)
        signed_profile = signetd_profiles_sign (self->profiles, payload, &error);
      if (signed_profile == NULL)
        {
          _signetd_http_respond_internal (msg, error);
          return;
        }
      signed_b64 = b64 (signed_profile);
      node = signetd_profile_to_json (p, FALSE);
      json_object_set_string_member (json_node_get_object (node), "signed", signed_b64);
      json_builder_add_value (b, node);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  _signetd_http_respond_json (msg, SOUP_STATUS_OK, root);
}

/* ---- POST /v1/seal ------------------------------------------------------ */

static void
respond_seal_error (SoupServerMessage *msg,
                    const GError      *error)
{
  if (error->domain != SIGNETD_SEAL_ERROR)
    {
      _signetd_http_respond_internal (msg, error);
      return;
    }
  /* The reason goes to the log; answers about trust stay terse. */
  g_message ("seal refused: %s", error->message);
  switch ((SignetdSealError) error->code)
    {
    case SIGNETD_SEAL_ERROR_INVALID:
    case SIGNETD_SEAL_ERROR_BAD_EVIDENCE:
    case SIGNETD_SEAL_ERROR_FIELD:
      _signetd_http_respond_bad_request (msg, error->message);
      break;
    case SIGNETD_SEAL_ERROR_UNTRUSTED:
      _signetd_http_respond_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden", "untrusted device");
      break;
    case SIGNETD_SEAL_ERROR_REVOKED:
      _signetd_http_respond_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden", "revoked device");
      break;
    case SIGNETD_SEAL_ERROR_STEP_UP:
      _signetd_http_respond_error (msg, SOUP_STATUS_FORBIDDEN, "step_up_required",
                                   "step-up required: sign in again or step up with a fresh code");
      break;
    case SIGNETD_SEAL_ERROR_FORBIDDEN:
      _signetd_http_respond_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden", error->message);
      break;
    case SIGNETD_SEAL_ERROR_NO_PROFILE:
      _signetd_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "unknown profile");
      break;
    case SIGNETD_SEAL_ERROR_FAILED:
    default:
      _signetd_http_respond_internal (msg, error);
      break;
    }
}

/* The strings of a JSON array of 1..max strings, or NULL (a 400 sent). */
static GStrv
string_array (SoupServerMessage *msg,
              JsonArray         *a,
              const char        *name,
              guint              max)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  guint len = json_array_get_length (a);
  g_autofree char *text = NULL;

  if (len == 0 || len > max)
    {
      text = g_strdup_printf ("member \"%s\" must hold 1 to %u strings", name, max);
      _signetd_http_respond_bad_request (msg, text);
      return NULL;
    }
  for (guint i = 0; i < len; i++)
    {
      JsonNode *e = json_array_get_element (a, i);

      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
        {
          text = g_strdup_printf ("member \"%s\" must hold strings only", name);
          _signetd_http_respond_bad_request (msg, text);
          return NULL;
        }
      g_strv_builder_add (b, json_node_get_string (e));
    }
  return g_strv_builder_end (b);
}

void
_signetd_http_handle_seal (SignetdHttp       *self,
                           SoupServerMessage *msg,
                           GBytes            *body)
{
  static const SignetdHttpMember spec[] = {
    { "evidence", SIGNETD_HTTP_MEMBER_STRING },
    { "chain", SIGNETD_HTTP_MEMBER_ARRAY },
    { "profile", SIGNETD_HTTP_MEMBER_STRING },
    { "fields", SIGNETD_HTTP_MEMBER_ARRAY },
  };
  g_autoptr(SignetdCaller) caller = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GBytes) evidence = NULL;
  g_autoptr(GPtrArray) chain = NULL;
  g_autoptr(GPtrArray) sealed = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_auto(GStrv) chain_text = NULL;
  g_auto(GStrv) fields = NULL;
  g_autofree char *serial = NULL;
  JsonObject *obj = NULL;
  const char *profile_id;

  if (self->seal == NULL)
    {
      _signetd_http_respond_internal (msg, NULL);
      return;
    }
  caller = _signetd_http_authenticate (self, msg, body);
  if (caller == NULL ||
      !_signetd_http_parse_body (msg, body, spec, G_N_ELEMENTS (spec), &parser, &obj))
    return;

  evidence = signet_base64url_decode (json_object_get_string_member (obj, "evidence"), -1,
                                      SIGNET_BASE64URL_ENCODED_LEN (SP_EVIDENCE_MAX_SIZE),
                                      &error);
  if (evidence == NULL)
    {
      _signetd_http_respond_bad_request (msg, "evidence: not base64url, or too long");
      return;
    }
  chain_text = string_array (msg, json_object_get_array_member (obj, "chain"), "chain",
                             SIGNET_X509_MAX_CHAIN_LEN);
  if (chain_text == NULL)
    return;
  fields = string_array (msg, json_object_get_array_member (obj, "fields"), "fields",
                         SIGNETD_SEAL_FIELDS_MAX);
  if (fields == NULL)
    return;
  chain = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; chain_text[i] != NULL; i++)
    {
      GBytes *der = signet_base64url_decode (chain_text[i], -1,
                                             SIGNET_BASE64URL_ENCODED_LEN (CERT_MAX), NULL);

      if (der == NULL)
        {
          _signetd_http_respond_bad_request (msg, "chain: not base64url, or too long");
          return;
        }
      g_ptr_array_add (chain, der);
    }
  profile_id = json_object_get_string_member (obj, "profile");

  sealed = signetd_seal_run (self->seal, &caller->claims, chain, evidence, profile_id,
                             (const char * const *) fields, _signetd_http_now_seconds (),
                             &serial, &error);
  if (sealed == NULL)
    {
      respond_seal_error (msg, error);
      return;
    }

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "sealed");
  json_builder_begin_array (b);
  for (guint i = 0; i < sealed->len; i++)
    {
      SignetdSealed *s = g_ptr_array_index (sealed, i);
      g_autofree char *enc = b64 (s->enc);
      g_autofree char *ct = b64 (s->ct);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "key");
      json_builder_add_string_value (b, s->key);
      json_builder_set_member_name (b, "enc");
      json_builder_add_string_value (b, enc);
      json_builder_set_member_name (b, "ct");
      json_builder_add_string_value (b, ct);
      json_builder_set_member_name (b, "digest");
      json_builder_add_string_value (b, s->digest);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  /* Names and digests only: no value reaches the log. */
  g_message ("sealed %u field%s of profile %s for device %s", sealed->len,
             sealed->len == 1 ? "" : "s", profile_id, serial);
  {
    g_autoptr(GStrvBuilder) keys = g_strv_builder_new ();
    g_autoptr(GStrvBuilder) digests = g_strv_builder_new ();
    g_auto(GStrv) key_list = NULL;
    g_auto(GStrv) digest_list = NULL;

    for (guint i = 0; i < sealed->len; i++)
      {
        SignetdSealed *s = g_ptr_array_index (sealed, i);

        g_strv_builder_add (keys, s->key);
        g_strv_builder_add (digests, s->digest);
      }
    key_list = g_strv_builder_end (keys);
    digest_list = g_strv_builder_end (digests);
    if (!_signetd_http_audit (self, msg, "secret.seal", serial, "tttiaa",
                              "user", caller->user, "session", caller->session,
                              "profile", profile_id, "fields", (gint64) sealed->len,
                              "keys", (const char * const *) key_list,
                              "digests", (const char * const *) digest_list))
      return;
  }
  _signetd_http_respond_json (msg, SOUP_STATUS_OK, root);
}
