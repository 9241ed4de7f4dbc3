/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sa-schema.c: the model schema and the checks of values against it.
 */
#include "sa-schema.h"

#include <string.h>

const char *
sa_class_scope (sa_class klass)
{
  switch (klass)
    {
    case SA_CLASS_CONFIG:
      return "config.write";
    case SA_CLASS_CREDENTIAL:
      return "credential.rotate";
    case SA_CLASS_FIRMWARE:
      return "firmware.update";
    default:
      return NULL;
    }
}

static bool
text_ok (const char *s, size_t *len)
{
  if (s == NULL)
    return false;
  *len = strlen (s);
  return *len >= 1 && *len <= SP_MSG_TEXT_MAX &&
         sp_cbor_utf8_valid ((const uint8_t *) s, *len);
}

static sp_err
field_check (const sa_field *f)
{
  size_t len, i;

  if (!text_ok (f->key, &len) || sa_class_scope (f->klass) == NULL)
    return SP_ERR_VALUE;
  switch (f->type)
    {
    case SA_TYPE_STRING:
      if (f->min < 0 || f->min > f->max)
        return SP_ERR_VALUE;
      break;
    case SA_TYPE_INT:
      if (f->min > f->max || f->secret)
        return SP_ERR_VALUE;
      break;
    case SA_TYPE_BOOL:
      if (f->secret)
        return SP_ERR_VALUE;
      break;
    case SA_TYPE_ENUM:
      if (f->secret || f->values == NULL || f->n_values == 0)
        return SP_ERR_VALUE;
      for (i = 0; i < f->n_values; i++)
        if (!text_ok (f->values[i], &len))
          return SP_ERR_VALUE;
      break;
    default:
      return SP_ERR_VALUE;
    }
  return SP_OK;
}

sp_err
sa_schema_check (const sa_schema *schema)
{
  size_t i, len;

  if (schema == NULL || (schema->fields == NULL && schema->n_fields > 0) ||
      schema->n_fields > SA_MAX_FIELDS || !text_ok (schema->model, &len))
    return SP_ERR_VALUE;
  for (i = 0; i < schema->n_fields; i++)
    {
      const sa_field *f = &schema->fields[i];

      if (field_check (f) != SP_OK)
        return SP_ERR_VALUE;
      /* Sorted, hence no duplicates: the merge of APPLY and the binary
       * search rely on it. */
      if (i > 0 && sp_msg_key_compare (schema->fields[i - 1].key,
                                       strlen (schema->fields[i - 1].key),
                                       f->key, strlen (f->key)) >= 0)
        return SP_ERR_VALUE;
    }
  return SP_OK;
}

const sa_field *
sa_schema_find (const sa_schema *schema, const char *key, size_t len)
{
  size_t lo = 0, hi = schema->n_fields;

  while (lo < hi)
    {
      size_t mid = lo + (hi - lo) / 2;
      const char *k = schema->fields[mid].key;
      int c = sp_msg_key_compare (k, strlen (k), key, len);

      if (c == 0)
        return &schema->fields[mid];
      if (c < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return NULL;
}

bool
sa_schema_text_ok (const sa_field *f, const uint8_t *p, size_t len)
{
  size_t i;

  if (len > 0 && !sp_cbor_utf8_valid (p, len))
    return false;
  if (f->type == SA_TYPE_STRING)
    return (int64_t) len >= f->min && (uint64_t) len <= (uint64_t) f->max;
  if (f->type != SA_TYPE_ENUM)
    return false;
  for (i = 0; i < f->n_values; i++)
    if (strlen (f->values[i]) == len && memcmp (f->values[i], p, len) == 0)
      return true;
  return false;
}

bool
sa_schema_value_ok (const sa_field *f, const sp_msg_value *v)
{
  int64_t i;

  switch (f->type)
    {
    case SA_TYPE_STRING:
    case SA_TYPE_ENUM:
      return v->type == SP_CBOR_TEXT && sa_schema_text_ok (f, v->ptr, (size_t) v->u);
    case SA_TYPE_INT:
      return sp_msg_value_int (v, &i) && i >= f->min && i <= f->max;
    case SA_TYPE_BOOL:
      return v->type == SP_CBOR_BOOL;
    default:
      return false;
    }
}

sp_err
sa_schema_check_config (const sa_schema *schema, const uint8_t *cbor, size_t len,
                        sp_cbor_item *items, size_t max_items)
{
  sp_cbor_limits limits = sp_cbor_limits_default;
  sp_msg_cursor c;
  sp_msg_value k, v;
  sp_cbor_doc doc;
  sp_err err;

  limits.max_size = len;
  limits.max_depth = 1;
  limits.max_container_len = schema->n_fields;
  err = sp_cbor_decode (cbor, len, &limits, items, max_items, &doc);
  if (err == SP_OK)
    err = sp_msg_cursor_init (&c, cbor, len, SP_CBOR_MAP);
  if (err != SP_OK)
    return err;
  while (sp_msg_cursor_next_pair (&c, &k, &v))
    {
      const sa_field *f;

      if (k.type != SP_CBOR_TEXT)
        return SP_ERR_UNKNOWN_FIELD;
      f = sa_schema_find (schema, (const char *) k.ptr, (size_t) k.u);
      if (f == NULL)
        return SP_ERR_UNKNOWN_FIELD;
      if (!sa_schema_value_ok (f, &v))
        return SP_ERR_VALUE;
    }
  return SP_OK;
}
