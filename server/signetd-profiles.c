/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "signet-crypto-port.h"
#include "signet-proto-error.h"
#include "signetd-json.h"
#include "signetd-profiles.h"
#include "signetd-vault.h"
#include "sp-cbor.h"
#include "sp-cose.h"

struct _SignetdProfiles {
  SignetdStore *store;   /* borrowed */
  SignetdKeys *keys;     /* borrowed */
};

G_DEFINE_QUARK (signetd-profiles-error-quark, signetd_profiles_error)

/* Device form keys (docs/api.md "The device form"). */
enum {
  P_ID = 1,
  P_VERSION = 2,
  P_MODEL = 3,
  P_CLASS = 4,
  P_CRITICAL = 5,
  P_DESCRIPTION = 6,
  P_FIELDS = 7,
};
enum {
  F_KEY = 1,
  F_TYPE = 2,
  F_MIN = 3,
  F_MAX = 4,
  F_VALUES = 5,
  F_SECRET = 6,
};

static const char * const class_names[] = { NULL, "config", "credential", "firmware" };
static const char * const class_scopes[] = { NULL, "config.write", "credential.rotate",
                                             "firmware.update" };
static const char * const type_names[] = { NULL, "string", "int", "bool", "enum" };

const char *
signetd_profile_class_to_string (SignetdProfileClass klass)
{
  g_return_val_if_fail (klass >= 1 && klass <= 3, NULL);
  return class_names[klass];
}

const char *
signetd_profile_class_scope (SignetdProfileClass klass)
{
  g_return_val_if_fail (klass >= 1 && klass <= 3, NULL);
  return class_scopes[klass];
}

static void
field_free (SignetdProfileField *f)
{
  if (f == NULL)
    return;
  g_free (f->key);
  g_strfreev (f->values);
  g_free (f->vault);
  g_free (f);
}

void
signetd_profile_free (SignetdProfile *p)
{
  if (p == NULL)
    return;
  g_free (p->id);
  g_free (p->model);
  g_free (p->description);
  g_clear_pointer (&p->fields, g_ptr_array_unref);
  g_free (p);
}

/* ---- validation ----------------------------------------------------------- */

typedef struct {
  GPtrArray *problems;   /* (element-type utf8) */
} Check;

static void G_GNUC_PRINTF (3, 4)
problem (Check      *c,
         const char *where,
         const char *fmt,
         ...)
{
  g_autofree char *text = NULL;
  va_list ap;

  va_start (ap, fmt);
  text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_ptr_array_add (c->problems, g_strdup_printf ("%s: %s", where, text));
}

static gboolean
is_type (JsonNode *node,
         GType     type)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

/* 1..max bytes of UTF-8 without control characters. */
static gboolean
text_ok (const char *s,
         gsize       min,
         gsize       max)
{
  gsize len = strlen (s);

  if (len < min || len > max || !g_utf8_validate (s, (gssize) len, NULL))
    return FALSE;
  for (const char *p = s; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return FALSE;
  return TRUE;
}

static gboolean
id_ok (const char *s)
{
  gsize len = strlen (s);

  if (len == 0 || len > SIGNETD_PROFILE_ID_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_islower (s[i]) && !g_ascii_isdigit (s[i]) && s[i] != '.' && s[i] != '_' &&
        s[i] != '-')
      return FALSE;
  return TRUE;
}

/* A dotted name: segments of [a-z0-9_-]+ separated by single dots. */
static gboolean
key_ok (const char *s)
{
  gsize len = strlen (s);
  gboolean seg_empty = TRUE;

  if (len == 0 || len > SIGNETD_PROFILE_KEY_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (s[i] == '.')
        {
          if (seg_empty)
            return FALSE;
          seg_empty = TRUE;
        }
      else if (g_ascii_islower (s[i]) || g_ascii_isdigit (s[i]) || s[i] == '_' || s[i] == '-')
        seg_empty = FALSE;
      else
        return FALSE;
    }
  return !seg_empty;
}

static void
check_members (Check       *c,
               JsonObject  *obj,
               const char  *where,
               const char * const *allowed)
{
  g_autoptr(GList) names = json_object_get_members (obj);

  for (GList *l = names; l != NULL; l = l->next)
    {
      g_autofree char *path = NULL;

      if (g_strv_contains (allowed, l->data))
        continue;
      /* Member names are the administrator's text; quoting a shortened
       * one helps them find it and reveals nothing. */
      if (text_ok (l->data, 1, 32))
        path = *where != '\0' ? g_strdup_printf ("%s.%s", where, (const char *) l->data)
                              : g_strdup (l->data);
      else
        path = g_strdup (*where != '\0' ? where : "profile");
      problem (c, path, "unknown member");
    }
}

/* The order of map keys (RFC 8949 §4.2.1) for text: shorter first, then
 * bytewise. Fields are sorted so a device can binary-search them. */
static int
key_compare (gconstpointer a,
             gconstpointer b)
{
  const SignetdProfileField *fa = *(SignetdProfileField * const *) a;
  const SignetdProfileField *fb = *(SignetdProfileField * const *) b;
  gsize la = strlen (fa->key), lb = strlen (fb->key);

  if (la != lb)
    return la < lb ? -1 : 1;
  return memcmp (fa->key, fb->key, la);
}

static gboolean
type_from_string (const char       *s,
                  SignetdFieldType *out)
{
  for (guint i = 1; i < G_N_ELEMENTS (type_names); i++)
    if (g_str_equal (s, type_names[i]))
      {
        *out = (SignetdFieldType) i;
        return TRUE;
      }
  return FALSE;
}

static SignetdProfileField *
parse_field (Check      *c,
             JsonNode   *node,
             guint       index,
             GHashTable *seen_keys)
{
  static const char * const allowed[] = { "key", "type", "min", "max", "values", "secret",
                                          "vault", NULL };
  g_autoptr(GString) where = g_string_new (NULL);
  SignetdProfileField *f;
  JsonObject *obj;
  JsonNode *n;
  guint before = c->problems->len;
  gboolean type_known = FALSE;

  g_string_printf (where, "fields[%u]", index);
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      problem (c, where->str, "must be an object");
      return NULL;
    }
  obj = json_node_get_object (node);
  check_members (c, obj, where->str, allowed);
  f = g_new0 (SignetdProfileField, 1);

#define AT(member) (g_string_truncate (where, 0), \
                    g_string_printf (where, "fields[%u].%s", index, member), where->str)

  n = json_object_get_member (obj, "key");
  if (n == NULL)
    problem (c, AT ("key"), "missing");
  else if (!is_type (n, G_TYPE_STRING) || !key_ok (json_node_get_string (n)))
    problem (c, AT ("key"), "must be a dotted name of a-z, 0-9, '_', '-' segments "
             "(\"wifi.psk\"), at most %d characters", SIGNETD_PROFILE_KEY_MAX);
  else if (g_hash_table_contains (seen_keys, json_node_get_string (n)))
    problem (c, AT ("key"), "the same key as an earlier field");
  else
    {
      f->key = g_strdup (json_node_get_string (n));
      g_hash_table_add (seen_keys, g_strdup (f->key));
    }

  n = json_object_get_member (obj, "type");
  if (n == NULL)
    problem (c, AT ("type"), "missing");
  else if (!is_type (n, G_TYPE_STRING) || !type_from_string (json_node_get_string (n), &f->type))
    problem (c, AT ("type"), "must be \"string\", \"int\", \"bool\" or \"enum\"");
  else
    type_known = TRUE;

  for (guint i = 0; i < 2; i++)
    {
      const char *member = i == 0 ? "min" : "max";
      gint64 v;

      n = json_object_get_member (obj, member);
      if (n == NULL)
        continue;
      if (!is_type (n, G_TYPE_INT64))
        {
          problem (c, AT (member), "must be an integer");
          continue;
        }
      v = json_node_get_int (n);
      if (type_known && f->type != SIGNETD_FIELD_INT && f->type != SIGNETD_FIELD_STRING)
        {
          problem (c, AT (member), "only an int (range) or a string (length) field has one");
          continue;
        }
      if (type_known && f->type == SIGNETD_FIELD_STRING &&
          (v < 0 || v > SIGNETD_PROFILE_STRING_LEN_MAX))
        {
          problem (c, AT (member), "a string length from 0 to %d",
                   SIGNETD_PROFILE_STRING_LEN_MAX);
          continue;
        }
      if (i == 0)
        {
          f->has_min = TRUE;
          f->min = v;
        }
      else
        {
          f->has_max = TRUE;
          f->max = v;
        }
    }
  if (f->has_min && f->has_max && f->min > f->max)
    problem (c, AT ("min"), "greater than max");

  n = json_object_get_member (obj, "values");
  if (n != NULL)
    {
      if (type_known && f->type != SIGNETD_FIELD_ENUM)
        problem (c, AT ("values"), "only an enum field has values");
      else if (!JSON_NODE_HOLDS_ARRAY (n) ||
               json_array_get_length (json_node_get_array (n)) == 0 ||
               json_array_get_length (json_node_get_array (n)) > SIGNETD_PROFILE_VALUES_MAX)
        problem (c, AT ("values"), "must be an array of 1 to %d strings",
                 SIGNETD_PROFILE_VALUES_MAX);
      else
        {
          JsonArray *a = json_node_get_array (n);
          guint len = json_array_get_length (a);
          g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
          gboolean ok = TRUE;

          for (guint i = 0; i < len && ok; i++)
            {
              JsonNode *e = json_array_get_element (a, i);

              if (!is_type (e, G_TYPE_STRING) ||
                  !text_ok (json_node_get_string (e), 1, SIGNETD_PROFILE_VALUE_LEN_MAX))
                {
                  problem (c, AT ("values"), "element %u: a string of 1 to %d bytes "
                           "without control characters", i, SIGNETD_PROFILE_VALUE_LEN_MAX);
                  ok = FALSE;
                }
              for (guint j = 0; ok && j < i; j++)
                if (g_str_equal (json_node_get_string (e),
                                 json_array_get_string_element (a, j)))
                  {
                    problem (c, AT ("values"), "element %u repeats element %u", i, j);
                    ok = FALSE;
                  }
              if (ok)
                g_strv_builder_add (b, json_node_get_string (e));
            }
          if (ok)
            f->values = g_strv_builder_end (b);
        }
    }
  else if (type_known && f->type == SIGNETD_FIELD_ENUM)
    problem (c, AT ("values"), "missing: an enum field lists its values");

  n = json_object_get_member (obj, "secret");
  if (n != NULL && !is_type (n, G_TYPE_BOOLEAN))
    problem (c, AT ("secret"), "must be true or false");
  else if (n != NULL)
    f->secret = json_node_get_boolean (n);
  if (f->secret && type_known && f->type != SIGNETD_FIELD_STRING)
    problem (c, AT ("secret"), "only a string field can be secret (it is sealed as bytes)");

  n = json_object_get_member (obj, "vault");
  if (n != NULL)
    {
      if (!is_type (n, G_TYPE_STRING) ||
          !signetd_vault_validate_name (json_node_get_string (n), NULL))
        problem (c, AT ("vault"), "must be a secret name (a-z, 0-9, '.', '_', '-', '/', "
                 "1 to %d characters)", SIGNETD_VAULT_NAME_MAX);
      else if (!f->secret)
        problem (c, AT ("vault"), "only a field with \"secret\": true comes from the vault");
      else
        f->vault = g_strdup (json_node_get_string (n));
    }
#undef AT

  if (c->problems->len != before)
    {
      field_free (f);
      return NULL;
    }
  return f;
}

/* Whether the device form fits what a device decodes with the default
 * limits of the device link. */
static gboolean
fits_device (GBytes *payload)
{
  sp_cbor_item items[SP_CBOR_DEFAULT_MAX_ITEMS];
  sp_cbor_doc doc;
  gsize len = 0;
  const guint8 *p = g_bytes_get_data (payload, &len);

  return sp_cbor_decode (p, len, NULL, items, G_N_ELEMENTS (items), &doc) == SP_OK;
}

SignetdProfile *
signetd_profile_parse (const char  *json,
                       gsize        len,
                       GError     **error)
{
  static const char * const allowed[] = { "id", "version", "model", "class", "critical",
                                          "description", "fields", NULL };
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(SignetdProfile) p = g_new0 (SignetdProfile, 1);
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Check c = { problems };
  JsonObject *obj;
  JsonNode *root, *n;
  gboolean class_known = FALSE;

  /* signetd_json_check first, as for request bodies: json-glib alone
   * takes a second value after the first, comments, a member given twice
   * (keeping the last) and cuts strings at \u0000 ("acme\u0000x" would
   * be the model "acme"). */
  if (len > SIGNETD_PROFILE_DOCUMENT_MAX || !signetd_json_check (json, len, NULL, NULL) ||
      !json_parser_load_from_data (parser, json, (gssize) len, NULL))
    {
      /* json-glib's messages quote the input: say less. */
      g_set_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_INVALID,
                   "the profile is not JSON (strict RFC 8259 in UTF-8, at most %d bytes, "
                   "no member twice, no \\u0000)", SIGNETD_PROFILE_DOCUMENT_MAX);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_INVALID,
                   "the profile must be a JSON object");
      return NULL;
    }
  obj = json_node_get_object (root);
  check_members (&c, obj, "", allowed);
  p->fields = g_ptr_array_new_with_free_func ((GDestroyNotify) field_free);

  n = json_object_get_member (obj, "id");
  if (n == NULL)
    problem (&c, "id", "missing");
  else if (!is_type (n, G_TYPE_STRING) || !id_ok (json_node_get_string (n)))
    problem (&c, "id", "must be 1 to %d characters of a-z, 0-9, '.', '_', '-'",
             SIGNETD_PROFILE_ID_MAX);
  else
    p->id = g_strdup (json_node_get_string (n));

  n = json_object_get_member (obj, "version");
  if (n == NULL)
    problem (&c, "version", "missing");
  else if (!is_type (n, G_TYPE_INT64) || json_node_get_int (n) < 0)
    problem (&c, "version", "must be an integer >= 0");
  else
    p->version = json_node_get_int (n);

  n = json_object_get_member (obj, "model");
  if (n == NULL)
    problem (&c, "model", "missing");
  else if (!is_type (n, G_TYPE_STRING) ||
           !text_ok (json_node_get_string (n), 1, SIGNETD_PROFILE_MODEL_MAX))
    problem (&c, "model", "must be 1 to %d bytes of UTF-8 without control characters",
             SIGNETD_PROFILE_MODEL_MAX);
  else
    p->model = g_strdup (json_node_get_string (n));

  n = json_object_get_member (obj, "class");
  if (n == NULL)
    problem (&c, "class", "missing");
  else
    {
      const char *s = is_type (n, G_TYPE_STRING) ? json_node_get_string (n) : "";

      for (guint i = 1; i < G_N_ELEMENTS (class_names); i++)
        if (g_str_equal (s, class_names[i]))
          {
            p->klass = (SignetdProfileClass) i;
            class_known = TRUE;
          }
      if (!class_known)
        problem (&c, "class", "must be \"config\", \"credential\" or \"firmware\"");
    }

  n = json_object_get_member (obj, "critical");
  if (n == NULL)
    problem (&c, "critical", "missing");
  else if (!is_type (n, G_TYPE_BOOLEAN))
    problem (&c, "critical", "must be true or false");
  else
    {
      p->critical = json_node_get_boolean (n);
      /* DESIGN.md §3: credential rotation and firmware updates are
       * critical; a profile may not say otherwise. */
      if (class_known && !p->critical && p->klass != SIGNETD_PROFILE_CLASS_CONFIG)
        problem (&c, "critical", "must be true for class \"%s\"", class_names[p->klass]);
    }

  n = json_object_get_member (obj, "description");
  if (n == NULL)
    p->description = g_strdup ("");
  else if (!is_type (n, G_TYPE_STRING) ||
           !text_ok (json_node_get_string (n), 0, SIGNETD_PROFILE_DESCRIPTION_MAX))
    problem (&c, "description", "must be at most %d bytes of UTF-8 without control characters",
             SIGNETD_PROFILE_DESCRIPTION_MAX);
  else
    p->description = g_strdup (json_node_get_string (n));

  n = json_object_get_member (obj, "fields");
  if (n == NULL)
    problem (&c, "fields", "missing");
  else if (!JSON_NODE_HOLDS_ARRAY (n) ||
           json_array_get_length (json_node_get_array (n)) > SIGNETD_PROFILE_FIELDS_MAX)
    problem (&c, "fields", "must be an array of at most %d fields", SIGNETD_PROFILE_FIELDS_MAX);
  else
    {
      JsonArray *a = json_node_get_array (n);

      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          SignetdProfileField *f = parse_field (&c, json_array_get_element (a, i), i, seen);

          if (f != NULL)
            g_ptr_array_add (p->fields, f);
        }
      g_ptr_array_sort (p->fields, key_compare);
    }

  if (problems->len == 0)
    {
      g_autoptr(GBytes) payload = signetd_profile_encode (p, NULL);

      if (payload == NULL || !fits_device (payload))
        problem (&c, "profile", "too large for a device: its CBOR form exceeds the device "
                 "link's limits (16 KiB, 256 items, 64 entries per array or map)");
    }
  if (problems->len > 0)
    {
      g_autoptr(GString) msg = g_string_new (NULL);

      g_string_printf (msg, "%u problem%s in the profile:", problems->len,
                       problems->len == 1 ? "" : "s");
      for (guint i = 0; i < problems->len; i++)
        g_string_append_printf (msg, "\n  %s", (const char *) g_ptr_array_index (problems, i));
      g_set_error_literal (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_INVALID,
                           msg->str);
      return NULL;
    }
  return g_steal_pointer (&p);
}

/* ---- forms ---------------------------------------------------------------- */

JsonNode *
signetd_profile_to_json (const SignetdProfile *p,
                         gboolean              include_vault)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, p->id);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, p->version);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, p->model);
  json_builder_set_member_name (b, "class");
  json_builder_add_string_value (b, class_names[p->klass]);
  json_builder_set_member_name (b, "critical");
  json_builder_add_boolean_value (b, p->critical);
  json_builder_set_member_name (b, "description");
  json_builder_add_string_value (b, p->description);
  json_builder_set_member_name (b, "fields");
  json_builder_begin_array (b);
  for (guint i = 0; i < p->fields->len; i++)
    {
      const SignetdProfileField *f = g_ptr_array_index (p->fields, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "key");
      json_builder_add_string_value (b, f->key);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, type_names[f->type]);
      if (f->has_min)
        {
          json_builder_set_member_name (b, "min");
          json_builder_add_int_value (b, f->min);
        }
      if (f->has_max)
        {
          json_builder_set_member_name (b, "max");
          json_builder_add_int_value (b, f->max);
        }
      if (f->values != NULL)
        {
          json_builder_set_member_name (b, "values");
          json_builder_begin_array (b);
          for (guint j = 0; f->values[j] != NULL; j++)
            json_builder_add_string_value (b, f->values[j]);
          json_builder_end_array (b);
        }
      json_builder_set_member_name (b, "secret");
      json_builder_add_boolean_value (b, f->secret);
      if (include_vault && f->vault != NULL)
        {
          json_builder_set_member_name (b, "vault");
          json_builder_add_string_value (b, f->vault);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
write_device_form (const SignetdProfile *p,
                   sp_cbor_writer       *w)
{
  /* Keys in deterministic order: 1..7 and, in a field, 1..6. */
  sp_cbor_put_map (w, 7);
  sp_cbor_put_uint (w, P_ID);
  sp_cbor_put_textz (w, p->id);
  sp_cbor_put_uint (w, P_VERSION);
  sp_cbor_put_uint (w, (guint64) p->version);
  sp_cbor_put_uint (w, P_MODEL);
  sp_cbor_put_textz (w, p->model);
  sp_cbor_put_uint (w, P_CLASS);
  sp_cbor_put_uint (w, (guint64) p->klass);
  sp_cbor_put_uint (w, P_CRITICAL);
  sp_cbor_put_bool (w, p->critical);
  sp_cbor_put_uint (w, P_DESCRIPTION);
  sp_cbor_put_textz (w, p->description);
  sp_cbor_put_uint (w, P_FIELDS);
  sp_cbor_put_array (w, p->fields->len);
  for (guint i = 0; i < p->fields->len; i++)
    {
      const SignetdProfileField *f = g_ptr_array_index (p->fields, i);

      sp_cbor_put_map (w, 3 + (f->has_min ? 1 : 0) + (f->has_max ? 1 : 0) +
                          (f->values != NULL ? 1 : 0));
      sp_cbor_put_uint (w, F_KEY);
      sp_cbor_put_textz (w, f->key);
      sp_cbor_put_uint (w, F_TYPE);
      sp_cbor_put_uint (w, (guint64) f->type);
      if (f->has_min)
        {
          sp_cbor_put_uint (w, F_MIN);
          sp_cbor_put_int (w, f->min);
        }
      if (f->has_max)
        {
          sp_cbor_put_uint (w, F_MAX);
          sp_cbor_put_int (w, f->max);
        }
      if (f->values != NULL)
        {
          sp_cbor_put_uint (w, F_VALUES);
          sp_cbor_put_array (w, g_strv_length (f->values));
          for (guint j = 0; f->values[j] != NULL; j++)
            sp_cbor_put_textz (w, f->values[j]);
        }
      sp_cbor_put_uint (w, F_SECRET);
      sp_cbor_put_bool (w, f->secret);
    }
}

GBytes *
signetd_profile_encode (const SignetdProfile  *p,
                        GError               **error)
{
  sp_cbor_writer w;
  size_t len = 0;
  /* A device reads at most this much (sp-cbor.h): a longer form is of
   * no use, and parse refuses the profile. */
  gsize cap = SP_CBOR_DEFAULT_MAX_SIZE;
  g_autofree guint8 *buf = g_malloc (cap);

  sp_cbor_writer_init (&w, buf, cap);
  write_device_form (p, &w);
  if (!signet_proto_check (sp_cbor_writer_finish (&w, &len), "profile encoding", error))
    return NULL;
  return g_bytes_new (buf, len);
}

const SignetdProfileField *
signetd_profile_find_field (const SignetdProfile *p,
                            const char           *key)
{
  for (guint i = 0; i < p->fields->len; i++)
    {
      const SignetdProfileField *f = g_ptr_array_index (p->fields, i);

      if (g_str_equal (f->key, key))
        return f;
    }
  return NULL;
}

/* ---- store ---------------------------------------------------------------- */

SignetdProfiles *
signetd_profiles_new (SignetdStore *store,
                      SignetdKeys  *keys)
{
  SignetdProfiles *self = g_new0 (SignetdProfiles, 1);

  self->store = store;
  self->keys = keys;
  return self;
}

void
signetd_profiles_free (SignetdProfiles *self)
{
  g_free (self);
}

SignetdProfile *
signetd_profiles_add (SignetdProfiles  *self,
                      const char       *json,
                      gsize             len,
                      gint64            now,
                      GError          **error)
{
  g_autoptr(SignetdProfile) p = signetd_profile_parse (json, len, error);
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *document = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GError) local_error = NULL;
  int r;

  if (p == NULL)
    return NULL;
  node = signetd_profile_to_json (p, TRUE);
  document = json_to_string (node, FALSE);

  if (!signetd_store_begin (self->store, error))
    return NULL;
  stmt = signetd_store_prepare (self->store, "SELECT version FROM profiles WHERE id = ?",
                                &local_error);
  if (stmt == NULL || !signetd_store_bind (self->store, stmt, &local_error, "t", p->id))
    goto fail;
  r = signetd_store_step (self->store, stmt, &local_error);
  if (r < 0)
    goto fail;
  if (r == 1 && sqlite3_column_int64 (stmt, 0) >= p->version)
    {
      g_set_error (&local_error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_VERSION,
                   "version: %" G_GINT64_FORMAT " does not rise above %" G_GINT64_FORMAT
                   ", the last version of profile %s", p->version,
                   (gint64) sqlite3_column_int64 (stmt, 0), p->id);
      goto fail;
    }
  if (!signetd_store_run (self->store, NULL, &local_error,
                          "INSERT INTO profiles (id, version, model, class, document, added, "
                          "removed) VALUES (?, ?, ?, ?, ?, ?, NULL) ON CONFLICT (id) DO UPDATE "
                          "SET version = excluded.version, model = excluded.model, "
                          "class = excluded.class, document = excluded.document, "
                          "added = excluded.added, removed = NULL",
                          "tittti", p->id, p->version, p->model,
                          class_names[p->klass], document, now) ||
      !signetd_store_commit (self->store, &local_error))
    goto fail;
  return g_steal_pointer (&p);

fail:
  signetd_store_rollback (self->store);
  g_propagate_error (error, g_steal_pointer (&local_error));
  return NULL;
}

static SignetdProfile *
from_row (sqlite3_stmt  *stmt,
          int            col,
          GError       **error)
{
  const char *doc = (const char *) sqlite3_column_text (stmt, col);
  g_autoptr(GError) local_error = NULL;
  SignetdProfile *p;

  if (doc == NULL)
    doc = "";
  p = signetd_profile_parse (doc, strlen (doc), &local_error);
  if (p == NULL)
    g_set_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_FAILED,
                 "a stored profile no longer validates: %s", local_error->message);
  return p;
}

GPtrArray *
signetd_profiles_list (SignetdProfiles  *self,
                       const char       *model,
                       GError          **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) signetd_profile_free);
  g_autoptr(sqlite3_stmt) stmt =
    signetd_store_prepare (self->store,
                           "SELECT document FROM profiles WHERE removed IS NULL AND "
                           "(?1 IS NULL OR model = ?1) ORDER BY id", error);
  int r;

  if (stmt == NULL || !signetd_store_bind (self->store, stmt, error, "t", model))
    return NULL;
  while ((r = signetd_store_step (self->store, stmt, error)) == 1)
    {
      SignetdProfile *p = from_row (stmt, 0, error);

      if (p == NULL)
        return NULL;
      g_ptr_array_add (out, p);
    }
  if (r < 0)
    return NULL;
  return g_steal_pointer (&out);
}

SignetdProfile *
signetd_profiles_lookup (SignetdProfiles  *self,
                         const char       *id,
                         GError          **error)
{
  g_autoptr(sqlite3_stmt) stmt =
    signetd_store_prepare (self->store,
                           "SELECT document FROM profiles WHERE id = ? AND removed IS NULL",
                           error);
  int r;

  if (stmt == NULL || !signetd_store_bind (self->store, stmt, error, "t", id))
    return NULL;
  r = signetd_store_step (self->store, stmt, error);
  if (r < 0)
    return NULL;
  if (r == 0)
    {
      g_set_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_NOT_FOUND,
                   "no profile has this id");
      return NULL;
    }
  return from_row (stmt, 0, error);
}

gboolean
signetd_profiles_remove (SignetdProfiles  *self,
                         const char       *id,
                         gint64            now,
                         GError          **error)
{
  gint changes = 0;

  if (!signetd_store_run (self->store, &changes, error,
                          "UPDATE profiles SET removed = ? WHERE id = ? AND removed IS NULL",
                          "it", now, id))
    return FALSE;
  if (changes == 0)
    {
      g_set_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_NOT_FOUND,
                   "no profile has this id");
      return FALSE;
    }
  return TRUE;
}

GBytes *
signetd_profiles_sign (SignetdProfiles  *self,
                       GBytes           *payload,
                       GError          **error)
{
  g_autoptr(SignetKey) key = NULL;
  g_autofree char *kid = NULL;
  g_autofree guint8 *buf = NULL;
  sp_cose_sign1_params params = { 0 };
  gsize payload_len = 0;
  const guint8 *data = g_bytes_get_data (payload, &payload_len);
  gsize cap = SP_COSE_SIGN1_OVERHEAD + payload_len;
  size_t len = 0;

  key = signetd_keys_get_current (self->keys, &kid, error);
  if (key == NULL)
    return NULL;
  buf = g_malloc (cap);
  params.kid = (const guint8 *) kid;
  params.kid_len = strlen (kid);
  params.content_type = SIGNETD_PROFILE_CONTENT_TYPE;
  if (!signet_proto_check (sp_cose_sign1_sign (signet_crypto_port_openssl (),
                                               signet_key_get_sp_key (key), &params, data,
                                               payload_len, buf, cap, &len),
                           "profile signature", error))
    return NULL;
  return g_bytes_new (buf, len);
}
