/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "devsim-error.h"
#include "devsim-trust.h"
#include "signet-base64url.h"
#include "signet-key.h"
#include "sp-cose-key.h"

#define TRUST_MAX_BODY (1024 * 1024)
#define COSE_KEY_MAX_TEXT SIGNET_BASE64URL_ENCODED_LEN (SP_COSE_KEY_MAX_LEN)

static gboolean G_GNUC_PRINTF (3, 4)
invalid (GError     **error,
         guint        index,
         const char  *format,
         ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
               "Trust document: authority_keys[%u]: %s", index, msg);
  return FALSE;
}

static gboolean
holds (JsonNode *n,
       GType     type)
{
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == type;
}

/* One entry; *skip is set for a key past its not_after. */
static gboolean
parse_key (JsonNode      *node,
           guint          index,
           gint64         now,
           sa_authority  *out,
           gboolean      *skip,
           GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  JsonObject *obj;
  JsonNode *n;
  const char *kid;
  gboolean have_key = FALSE;

  *skip = FALSE;
  memset (out, 0, sizeof *out);
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, index, "not an object");
  obj = json_node_get_object (node);

  n = json_object_get_member (obj, "kid");
  if (!holds (n, G_TYPE_STRING) || (kid = json_node_get_string (n))[0] == '\0'
      || strlen (kid) > SP_COSE_KID_MAX)
    return invalid (error, index, "kid must be a string of 1 to %d bytes", SP_COSE_KID_MAX);
  memcpy (out->kid, kid, strlen (kid));
  out->kid_len = strlen (kid);

  n = json_object_get_member (obj, "not_after");
  if (n != NULL && !JSON_NODE_HOLDS_NULL (n))
    {
      if (!holds (n, G_TYPE_INT64))
        return invalid (error, index, "not_after must be an integer or null");
      if (json_node_get_int (n) <= now)
        {
          *skip = TRUE;
          return TRUE;
        }
    }

  n = json_object_get_member (obj, "cose_key");
  if (n != NULL)
    {
      g_autoptr(GBytes) bytes = NULL;
      sp_cose_key key;
      sp_err err;

      if (!holds (n, G_TYPE_STRING)
          || (bytes = signet_base64url_decode (json_node_get_string (n), -1, COSE_KEY_MAX_TEXT,
                                               NULL)) == NULL)
        return invalid (error, index, "cose_key must be a base64url COSE_Key");
      err = sp_cose_key_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &key);
      if (err != SP_OK)
        return invalid (error, index, "cose_key: %s", sp_strerror (err));
      if (key.has_d)
        {
          sp_wipe (&key, sizeof key);
          return invalid (error, index, "cose_key holds a private key");
        }
      if (key.kid_len != 0
          && (key.kid_len != out->kid_len || memcmp (key.kid, out->kid, key.kid_len) != 0))
        return invalid (error, index, "cose_key has another kid than the entry");
      memcpy (out->pub, key.pub, SP_P256_PUB_LEN);
      have_key = TRUE;
    }

  n = json_object_get_member (obj, "jwk");
  if (n != NULL)
    {
      g_autoptr(SignetKey) key = NULL;
      g_autoptr(GBytes) pub = NULL;
      JsonNode *jwk_kid;

      if (!JSON_NODE_HOLDS_OBJECT (n))
        return invalid (error, index, "jwk must be an object");
      jwk_kid = json_object_get_member (json_node_get_object (n), "kid");
      if (jwk_kid != NULL && (!holds (jwk_kid, G_TYPE_STRING)
                              || !g_str_equal (json_node_get_string (jwk_kid), kid)))
        return invalid (error, index, "jwk has another kid than the entry");
      if (json_object_has_member (json_node_get_object (n), "d"))
        return invalid (error, index, "jwk holds a private key");
      key = signet_key_new_from_jwk_node (n, &local_error);
      if (key == NULL)
        return invalid (error, index, "jwk: %s", local_error->message);
      pub = signet_key_get_public_bytes (key);
      if (have_key && memcmp (out->pub, g_bytes_get_data (pub, NULL), SP_P256_PUB_LEN) != 0)
        return invalid (error, index, "cose_key and jwk are different keys");
      memcpy (out->pub, g_bytes_get_data (pub, NULL), SP_P256_PUB_LEN);
      have_key = TRUE;
    }
  else if (have_key)
    {
      /* A COSE_Key's point is checked where it is used; check it now,
       * since a device would only find out when a token arrives. */
      g_autoptr(GBytes) point = g_bytes_new (out->pub, SP_P256_PUB_LEN);
      g_autoptr(SignetKey) key = signet_key_new_from_public_bytes (point, &local_error);

      if (key == NULL)
        return invalid (error, index, "cose_key: %s", local_error->message);
    }

  if (!have_key)
    return invalid (error, index, "neither cose_key nor jwk");
  return TRUE;
}

gboolean
devsim_trust_parse (const char    *json,
                    gsize          len,
                    gint64         now,
                    sa_authority  *out,
                    gsize         *n_out,
                    GError       **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root, *keys;
  JsonArray *array;
  gsize n = 0;
  guint i;

  g_return_val_if_fail (json != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (len > TRUST_MAX_BODY || memchr (json, '\0', len) != NULL
      || !json_parser_load_from_data (parser, json, (gssize) len, NULL)
      || (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                           "The trust document is not a JSON object");
      return FALSE;
    }
  keys = json_object_get_member (json_node_get_object (root), "authority_keys");
  if (keys == NULL || !JSON_NODE_HOLDS_ARRAY (keys))
    {
      g_set_error_literal (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                           "The trust document has no authority_keys array");
      return FALSE;
    }
  array = json_node_get_array (keys);
  for (i = 0; i < json_array_get_length (array); i++)
    {
      sa_authority a;
      gboolean skip;
      gsize j;

      if (!parse_key (json_array_get_element (array, i), i, now, &a, &skip, error))
        return FALSE;
      if (skip)
        continue;
      for (j = 0; j < n; j++)
        if (out[j].kid_len == a.kid_len && memcmp (out[j].kid, a.kid, a.kid_len) == 0)
          return invalid (error, i, "the same kid as an earlier key");
      if (n == SA_AUTHORITIES_MAX)
        {
          g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                       "The trust document has more than the %d valid authority keys a "
                       "device holds", SA_AUTHORITIES_MAX);
          return FALSE;
        }
      out[n++] = a;
    }
  if (n == 0)
    {
      g_set_error_literal (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                           "The trust document has no valid authority key");
      return FALSE;
    }
  *n_out = n;
  return TRUE;
}

GBytes *
devsim_trust_fetch (const char  *url,
                    const char  *ca_file,
                    GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GUri) full = NULL;
  g_autoptr(GTlsDatabase) db = NULL;
  g_autoptr(SoupSession) session = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GBytes) body = NULL;
  const char *path;
  guint status;

  g_return_val_if_fail (url != NULL && ca_file != NULL, NULL);

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, &local_error);
  if (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), "https") != 0
      || g_uri_get_host (uri) == NULL)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                   "The trust URL must be an https:// URL");
      return NULL;
    }
  path = g_uri_get_path (uri);
  full = g_uri_build (G_URI_FLAGS_NONE, "https", NULL, g_uri_get_host (uri),
                      g_uri_get_port (uri),
                      path[0] == '\0' || g_str_equal (path, "/") ? "/v1/trust" : path,
                      g_uri_get_query (uri), NULL);

  db = g_tls_file_database_new (ca_file, &local_error);
  if (db == NULL)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID, "--trust-ca %s: %s", ca_file,
                   local_error->message);
      return NULL;
    }
  session = soup_session_new_with_options ("tls-database", db,
                                           "timeout", 30,
                                           "user-agent", "signet-devsim/" PACKAGE_VERSION,
                                           NULL);
  msg = soup_message_new_from_uri ("GET", full);
  body = soup_session_send_and_read (session, msg, NULL, &local_error);
  if (body == NULL)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED, "Fetching the trust document: %s",
                   local_error->message);
      return NULL;
    }
  status = soup_message_get_status (msg);
  if (status != SOUP_STATUS_OK)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED,
                   "Fetching the trust document: HTTP %u %s", status,
                   soup_message_get_reason_phrase (msg) != NULL
                   ? soup_message_get_reason_phrase (msg) : "");
      return NULL;
    }
  if (g_bytes_get_size (body) > TRUST_MAX_BODY)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                   "The trust document is larger than %d bytes", TRUST_MAX_BODY);
      return NULL;
    }
  return g_steal_pointer (&body);
}
