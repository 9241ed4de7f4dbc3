/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "devsim-error.h"
#include "devsim-model.h"
#include "sp-cbor.h"

struct _DevsimModel {
  char *name;
  char *firmware;
  char *description;
  guint64 config_version;
  sa_schema schema;
  sa_field *fields;            /* schema.fields, owned */
  GPtrArray *strings;          /* keys and enum values the fields point to */
  GPtrArray *value_arrays;     /* the enum value arrays */
  GBytes *initial_config;
  GBytes *json;
};

/* One field while it is read: the schema entry plus its initial value. */
typedef struct {
  sa_field field;
  JsonNode *initial;           /* borrowed from the parser; nullable */
} FieldSpec;

static const char * const class_names[] = { NULL, "config", "credential", "firmware" };
static const char * const type_names[] = { NULL, "string", "int", "bool", "enum" };

void
devsim_model_free (DevsimModel *self)
{
  if (self == NULL)
    return;
  g_free (self->name);
  g_free (self->firmware);
  g_free (self->description);
  g_free (self->fields);
  g_clear_pointer (&self->strings, g_ptr_array_unref);
  g_clear_pointer (&self->value_arrays, g_ptr_array_unref);
  g_clear_pointer (&self->initial_config, g_bytes_unref);
  g_clear_pointer (&self->json, g_bytes_unref);
  g_free (self);
}

int
devsim_model_key_compare (const char *a,
                          const char *b)
{
  gsize la = strlen (a), lb = strlen (b);

  if (la != lb)
    return la < lb ? -1 : 1;
  return memcmp (a, b, la);
}

static int
spec_compare (gconstpointer a,
              gconstpointer b)
{
  return devsim_model_key_compare (((const FieldSpec *) a)->field.key,
                                   ((const FieldSpec *) b)->field.key);
}

/* Text a model may hold: UTF-8 of 1..max bytes, no control characters. */
static gboolean
text_ok (const char *s,
         gsize       min,
         gsize       max)
{
  gsize len = strlen (s);
  const char *p;

  if (len < min || len > max || !g_utf8_validate (s, (gssize) len, NULL))
    return FALSE;
  for (p = s; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return FALSE;
  return TRUE;
}

/* The profile key syntax of docs/api.md: segments of [a-z0-9_-]+
 * separated by single dots, at most DEVSIM_MODEL_MAX_KEY characters. */
static gboolean
key_ok (const char *s)
{
  gsize len = strlen (s);
  gboolean seg_empty = TRUE;
  gsize i;

  if (len == 0 || len > DEVSIM_MODEL_MAX_KEY)
    return FALSE;
  for (i = 0; i < len; i++)
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

static gboolean
holds (JsonNode *n,
       GType     type)
{
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == type;
}

static gboolean G_GNUC_PRINTF (3, 4)
invalid (GError     **error,
         const char  *where,
         const char  *format,
         ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID, "%s: %s", where, msg);
  return FALSE;
}

static gboolean
check_members (JsonObject          *obj,
               const char          *where,
               const char * const  *allowed,
               GError             **error)
{
  g_autoptr(GList) names = json_object_get_members (obj);
  GList *l;

  for (l = names; l != NULL; l = l->next)
    if (!g_strv_contains (allowed, l->data))
      {
        /* member names are the model author's text: quote a sane one */
        if (text_ok (l->data, 1, 32))
          return invalid (error, where, "unknown member \"%s\"", (const char *) l->data);
        return invalid (error, where, "unknown member");
      }
  return TRUE;
}

static int
name_index (const char         *s,
            const char * const *names,
            guint               n)
{
  guint i;

  for (i = 1; i < n; i++)
    if (g_str_equal (s, names[i]))
      return (int) i;
  return 0;
}

/* A value fits the field: the device's own rules (docs/protocol.md,
 * APPLY), applied here to the factory values. */
static gboolean
value_ok (const sa_field *f,
          JsonNode       *v,
          const char     *where,
          GError        **error)
{
  gsize i;

  switch (f->type)
    {
    case SA_TYPE_STRING:
      {
        gsize len;

        if (!holds (v, G_TYPE_STRING))
          return invalid (error, where, "must be a string");
        len = strlen (json_node_get_string (v));
        if (!g_utf8_validate (json_node_get_string (v), -1, NULL)
            || (gint64) len < f->min || (gint64) len > f->max)
          return invalid (error, where, "must be UTF-8 of %" G_GINT64_FORMAT " to %"
                          G_GINT64_FORMAT " bytes", f->min, f->max);
        return TRUE;
      }
    case SA_TYPE_INT:
      if (!holds (v, G_TYPE_INT64))
        return invalid (error, where, "must be an integer");
      if (json_node_get_int (v) < f->min || json_node_get_int (v) > f->max)
        return invalid (error, where, "must be from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
                        f->min, f->max);
      return TRUE;
    case SA_TYPE_BOOL:
      if (!holds (v, G_TYPE_BOOLEAN))
        return invalid (error, where, "must be true or false");
      return TRUE;
    case SA_TYPE_ENUM:
      if (!holds (v, G_TYPE_STRING))
        return invalid (error, where, "must be one of the values");
      for (i = 0; i < f->n_values; i++)
        if (g_str_equal (json_node_get_string (v), f->values[i]))
          return TRUE;
      return invalid (error, where, "must be one of the values");
    default:
      g_assert_not_reached ();
    }
  return FALSE;
}

static gboolean
parse_field (DevsimModel  *self,
             JsonNode     *node,
             guint         index,
             FieldSpec    *spec,
             GError      **error)
{
  static const char * const allowed[] = { "key", "type", "min", "max", "values", "secret",
                                          "class", "critical", "initial", "description",
                                          NULL };
  g_autofree char *where = g_strdup_printf ("fields[%u]", index);
  sa_field *f = &spec->field;
  JsonObject *obj;
  JsonNode *n;
  g_autofree char *at = NULL;
  char *key;
  int i;

#define AT(member) (g_free (at), at = g_strdup_printf ("%s.%s", where, member))

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, where, "must be an object");
  obj = json_node_get_object (node);
  if (!check_members (obj, where, allowed, error))
    return FALSE;

  n = json_object_get_member (obj, "key");
  if (!holds (n, G_TYPE_STRING) || !key_ok (json_node_get_string (n)))
    return invalid (error, AT ("key"), "must be a dotted name of a-z, 0-9, '_', '-' segments "
                    "(\"wifi.psk\"), at most %d characters", DEVSIM_MODEL_MAX_KEY);
  key = g_strdup (json_node_get_string (n));
  g_ptr_array_add (self->strings, key);
  f->key = key;

  n = json_object_get_member (obj, "type");
  if (!holds (n, G_TYPE_STRING)
      || (i = name_index (json_node_get_string (n), type_names, G_N_ELEMENTS (type_names))) == 0)
    return invalid (error, AT ("type"), "must be \"string\", \"int\", \"bool\" or \"enum\"");
  f->type = (sa_type) i;

  n = json_object_get_member (obj, "class");
  if (!holds (n, G_TYPE_STRING)
      || (i = name_index (json_node_get_string (n), class_names, G_N_ELEMENTS (class_names))) == 0)
    return invalid (error, AT ("class"), "must be \"config\", \"credential\" or \"firmware\"");
  f->klass = (sa_class) i;

  /* min/max: the value range of an int, the byte length of a string. A
   * device bounds what it stores, so a string needs a max. */
  f->min = f->type == SA_TYPE_INT ? G_MININT64 : 0;
  f->max = f->type == SA_TYPE_INT ? G_MAXINT64 : 0;
  for (i = 0; i < 2; i++)
    {
      const char *member = i == 0 ? "min" : "max";
      gint64 v;

      n = json_object_get_member (obj, member);
      if (n == NULL)
        {
          if (i == 1 && f->type == SA_TYPE_STRING)
            return invalid (error, AT ("max"), "missing: a string field bounds its length");
          continue;
        }
      if (f->type != SA_TYPE_INT && f->type != SA_TYPE_STRING)
        return invalid (error, AT (member), "only an int (range) or a string (length) has one");
      if (!holds (n, G_TYPE_INT64))
        return invalid (error, AT (member), "must be an integer");
      v = json_node_get_int (n);
      if (f->type == SA_TYPE_STRING && (v < 0 || v > DEVSIM_MODEL_MAX_STRING))
        return invalid (error, AT (member), "a string length from 0 to %d",
                        DEVSIM_MODEL_MAX_STRING);
      if (i == 0)
        f->min = v;
      else
        f->max = v;
    }
  if (f->min > f->max)
    return invalid (error, AT ("min"), "greater than max");

  n = json_object_get_member (obj, "values");
  if (f->type == SA_TYPE_ENUM)
    {
      JsonArray *a;
      guint len, j, k;
      const char **values;

      if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n)
          || (len = json_array_get_length (json_node_get_array (n))) == 0
          || len > DEVSIM_MODEL_MAX_VALUES)
        return invalid (error, AT ("values"), "must be an array of 1 to %d strings",
                        DEVSIM_MODEL_MAX_VALUES);
      a = json_node_get_array (n);
      values = g_new0 (const char *, len);
      g_ptr_array_add (self->value_arrays, values);
      for (j = 0; j < len; j++)
        {
          JsonNode *e = json_array_get_element (a, j);
          char *v;

          if (!holds (e, G_TYPE_STRING) || !text_ok (json_node_get_string (e), 1, 64))
            return invalid (error, AT ("values"), "element %u: a string of 1 to 64 bytes "
                            "without control characters", j);
          for (k = 0; k < j; k++)
            if (g_str_equal (json_node_get_string (e), values[k]))
              return invalid (error, AT ("values"), "element %u repeats element %u", j, k);
          v = g_strdup (json_node_get_string (e));
          g_ptr_array_add (self->strings, v);
          values[j] = v;
        }
      f->values = values;
      f->n_values = len;
    }
  else if (n != NULL)
    return invalid (error, AT ("values"), "only an enum field has values");

  n = json_object_get_member (obj, "secret");
  if (n != NULL && !holds (n, G_TYPE_BOOLEAN))
    return invalid (error, AT ("secret"), "must be true or false");
  f->secret = n != NULL && json_node_get_boolean (n);
  if (f->secret && f->type != SA_TYPE_STRING)
    return invalid (error, AT ("secret"), "only a string field can be secret (it is sealed "
                    "as bytes)");

  /* As for profiles (docs/api.md): credentials and firmware are always
   * critical; a config key may be. */
  n = json_object_get_member (obj, "critical");
  if (n != NULL && !holds (n, G_TYPE_BOOLEAN))
    return invalid (error, AT ("critical"), "must be true or false");
  f->critical = n != NULL ? json_node_get_boolean (n) : f->klass != SA_CLASS_CONFIG;
  if (!f->critical && f->klass != SA_CLASS_CONFIG)
    return invalid (error, AT ("critical"), "a %s key is always critical",
                    class_names[f->klass]);

  n = json_object_get_member (obj, "description");
  if (n != NULL && (!holds (n, G_TYPE_STRING) || !text_ok (json_node_get_string (n), 0, 256)))
    return invalid (error, AT ("description"), "must be a string of at most 256 bytes");

  n = json_object_get_member (obj, "initial");
  if (n != NULL && !value_ok (f, n, AT ("initial"), error))
    return FALSE;
  spec->initial = n;
#undef AT
  return TRUE;
}

static void
put_value (sp_cbor_writer *w,
           const sa_field *f,
           JsonNode       *v)
{
  switch (f->type)
    {
    case SA_TYPE_STRING:
    case SA_TYPE_ENUM:
      sp_cbor_put_textz (w, json_node_get_string (v));
      break;
    case SA_TYPE_INT:
      sp_cbor_put_int (w, json_node_get_int (v));
      break;
    case SA_TYPE_BOOL:
      sp_cbor_put_bool (w, json_node_get_boolean (v));
      break;
    default:
      g_assert_not_reached ();
    }
}

/* The factory configuration, from the sorted specs. */
static gboolean
build_initial_config (DevsimModel  *self,
                      GArray       *specs,
                      GError      **error)
{
  g_autofree guint8 *buf = g_malloc (SA_CONFIG_MAX);
  sp_cbor_writer w;
  gsize n = 0, len = 0;
  guint i;

  for (i = 0; i < specs->len; i++)
    if (g_array_index (specs, FieldSpec, i).initial != NULL)
      n++;
  sp_cbor_writer_init (&w, buf, SA_CONFIG_MAX);
  sp_cbor_put_map (&w, n);
  for (i = 0; i < specs->len; i++)
    {
      FieldSpec *s = &g_array_index (specs, FieldSpec, i);

      if (s->initial == NULL)
        continue;
      sp_cbor_put_textz (&w, s->field.key);
      put_value (&w, &s->field, s->initial);
    }
  if (sp_cbor_writer_finish (&w, &len) != SP_OK)
    return invalid (error, "fields", "the initial values take more than the %d bytes a "
                    "configuration may have", SA_CONFIG_MAX);
  self->initial_config = g_bytes_new (buf, len);
  return TRUE;
}

DevsimModel *
devsim_model_new_from_data (const char  *json,
                            gssize       len,
                            GError     **error)
{
  static const char * const allowed[] = { "model", "description", "firmware",
                                          "config_version", "fields", NULL };
  g_autoptr(DevsimModel) self = NULL;
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GArray) specs = g_array_new (FALSE, TRUE, sizeof (FieldSpec));
  g_autoptr(GError) local_error = NULL;
  JsonObject *obj;
  JsonNode *root, *n;
  JsonArray *fields;
  guint i, n_fields;

  g_return_val_if_fail (json != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len < 0)
    len = (gssize) strlen (json);
  if (len > DEVSIM_MODEL_MAX_JSON)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                   "A model file is at most %d bytes", DEVSIM_MODEL_MAX_JSON);
      return NULL;
    }
  if (memchr (json, '\0', (gsize) len) != NULL
      || !json_parser_load_from_data (parser, json, len, &local_error))
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID, "The model is not valid JSON%s%s",
                   local_error != NULL ? ": " : "",
                   local_error != NULL ? local_error->message : "");
      return NULL;
    }

  self = g_new0 (DevsimModel, 1);
  self->strings = g_ptr_array_new_with_free_func (g_free);
  self->value_arrays = g_ptr_array_new_with_free_func (g_free);
  self->json = g_bytes_new (json, (gsize) len);

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      invalid (error, "model", "must be a JSON object");
      return NULL;
    }
  obj = json_node_get_object (root);
  if (!check_members (obj, "model", allowed, error))
    return NULL;

  n = json_object_get_member (obj, "model");
  if (!holds (n, G_TYPE_STRING) || !text_ok (json_node_get_string (n), 1, DEVSIM_MODEL_MAX_NAME))
    {
      invalid (error, "model", "must be 1 to %d bytes of UTF-8 without control characters",
               DEVSIM_MODEL_MAX_NAME);
      return NULL;
    }
  self->name = g_strdup (json_node_get_string (n));

  n = json_object_get_member (obj, "firmware");
  if (!holds (n, G_TYPE_STRING) || !text_ok (json_node_get_string (n), 1, 64))
    {
      invalid (error, "firmware", "must be a version string of 1 to 64 bytes");
      return NULL;
    }
  self->firmware = g_strdup (json_node_get_string (n));

  n = json_object_get_member (obj, "description");
  if (n != NULL && (!holds (n, G_TYPE_STRING) || !text_ok (json_node_get_string (n), 0, 256)))
    {
      invalid (error, "description", "must be a string of at most 256 bytes");
      return NULL;
    }
  self->description = g_strdup (n != NULL ? json_node_get_string (n) : "");

  n = json_object_get_member (obj, "config_version");
  self->config_version = 1;
  if (n != NULL)
    {
      if (!holds (n, G_TYPE_INT64) || json_node_get_int (n) < 1)
        {
          invalid (error, "config_version", "must be an integer of at least 1");
          return NULL;
        }
      self->config_version = (guint64) json_node_get_int (n);
    }

  n = json_object_get_member (obj, "fields");
  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n)
      || (n_fields = json_array_get_length (json_node_get_array (n))) == 0
      || n_fields > DEVSIM_MODEL_MAX_FIELDS)
    {
      invalid (error, "fields", "must be an array of 1 to %d fields", DEVSIM_MODEL_MAX_FIELDS);
      return NULL;
    }
  fields = json_node_get_array (n);
  g_array_set_size (specs, n_fields);
  for (i = 0; i < n_fields; i++)
    if (!parse_field (self, json_array_get_element (fields, i), i,
                      &g_array_index (specs, FieldSpec, i), error))
      return NULL;

  /* The agent binary-searches the schema: deterministic key order. */
  g_array_sort (specs, spec_compare);
  for (i = 1; i < n_fields; i++)
    if (g_str_equal (g_array_index (specs, FieldSpec, i - 1).field.key,
                     g_array_index (specs, FieldSpec, i).field.key))
      {
        invalid (error, "fields", "the key \"%s\" appears twice",
                 g_array_index (specs, FieldSpec, i).field.key);
        return NULL;
      }

  if (!build_initial_config (self, specs, error))
    return NULL;

  self->fields = g_new0 (sa_field, n_fields);
  for (i = 0; i < n_fields; i++)
    self->fields[i] = g_array_index (specs, FieldSpec, i).field;
  self->schema.model = self->name;
  self->schema.fields = self->fields;
  self->schema.n_fields = n_fields;

  /* The agent's own judgement of a schema, so a model it would refuse at
   * boot is refused here, with a message. */
  if (sa_schema_check (&self->schema) != SP_OK)
    {
      invalid (error, "model", "the agent cannot use this schema (sa_schema_check)");
      return NULL;
    }
  return g_steal_pointer (&self);
}

DevsimModel *
devsim_model_new_from_file (const char  *path,
                            GError     **error)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize len = 0;
  DevsimModel *self;

  if (!g_file_get_contents (path, &text, &len, &local_error))
    {
      g_set_error (error, DEVSIM_ERROR,
                   g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                   ? DEVSIM_ERROR_NOT_FOUND : DEVSIM_ERROR_FAILED,
                   "%s", local_error->message);
      return NULL;
    }
  self = devsim_model_new_from_data (text, (gssize) len, &local_error);
  if (self == NULL)
    g_set_error (error, DEVSIM_ERROR, local_error->code, "%s: %s", path, local_error->message);
  return self;
}

const char *
devsim_model_get_name (DevsimModel *self)
{
  return self->name;
}

const char *
devsim_model_get_firmware (DevsimModel *self)
{
  return self->firmware;
}

const sa_schema *
devsim_model_get_schema (DevsimModel *self)
{
  return &self->schema;
}

guint64
devsim_model_get_config_version (DevsimModel *self)
{
  return self->config_version;
}

GBytes *
devsim_model_get_initial_config (DevsimModel *self)
{
  return self->initial_config;
}

GBytes *
devsim_model_get_json (DevsimModel *self)
{
  return self->json;
}

const sa_field *
devsim_model_lookup (DevsimModel *self,
                     const char  *key)
{
  gsize lo = 0, hi = self->schema.n_fields;

  while (lo < hi)
    {
      gsize mid = lo + (hi - lo) / 2;
      int c = devsim_model_key_compare (key, self->fields[mid].key);

      if (c == 0)
        return &self->fields[mid];
      if (c < 0)
        hi = mid;
      else
        lo = mid + 1;
    }
  return NULL;
}
