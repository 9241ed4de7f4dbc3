/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-msg.c: the device protocol's messages (docs/protocol.md).
 *
 * Most maps here are described by a table of fields (key, kind, where the
 * value goes in the struct) read and written by one engine, so that the
 * twenty-odd message bodies share one decoder and one encoder and a device
 * carries little code for them. Every encoder decodes what it wrote before
 * it returns (with items on the stack: encoders are the tool's), so it can
 * never emit what the decoder would refuse.
 */
#include "sp-msg.h"

#include <stddef.h>
#include <string.h>

#include "sp-cwt.h"

/* Items the tool-side functions keep on the stack. */
#define TOOL_ITEMS SP_CBOR_DEFAULT_MAX_ITEMS
/* Items of a receipt: its COSE envelope and header, or its payload. */
#define RECEIPT_ITEMS 24

sp_msg_text
sp_msg_text_from (const char *s)
{
  sp_msg_text t;

  t.ptr = s;
  t.len = s != NULL ? strlen (s) : 0;
  return t;
}

int
sp_msg_key_compare (const void *a, size_t a_len, const void *b, size_t b_len)
{
  if (a_len != b_len)
    return a_len < b_len ? -1 : 1;
  return a_len == 0 ? 0 : memcmp (a, b, a_len);
}

/* ------------------------------------------------------------------ */
/* The cursor                                                          */
/* ------------------------------------------------------------------ */

/* Read one head at *pp (within end): major type and argument. Only the
 * forms the strict decoder accepts are read; anything else ends the walk. */
static bool
read_head (const uint8_t **pp, const uint8_t *end, unsigned *major, uint64_t *arg)
{
  const uint8_t *p = *pp;
  unsigned ai;

  if (p >= end)
    return false;
  *major = *p >> 5;
  ai = *p++ & 0x1Fu;
  if (ai < 24)
    *arg = ai;
  else if (ai < 28)
    {
      size_t n = (size_t) 1 << (ai - 24), i;

      if ((size_t) (end - p) < n)
        return false;
      *arg = 0;
      for (i = 0; i < n; i++)
        *arg = (*arg << 8) | *p++;
    }
  else
    return false;
  *pp = p;
  return true;
}

/* Skip the item at *pp and its children, without recursion. */
static bool
skip_item (const uint8_t **pp, const uint8_t *end)
{
  const uint8_t *p = *pp;
  uint64_t left = 1;

  while (left > 0)
    {
      unsigned major;
      uint64_t arg;

      left--;
      if (!read_head (&p, end, &major, &arg))
        return false;
      switch (major)
        {
        case 2:
        case 3:
          if (arg > (uint64_t) (end - p))
            return false;
          p += arg;
          break;
        case 4:
        case 5:
          /* Every child takes a byte: a count past the input is bogus,
           * and bounding it keeps left from overflowing. */
          if (arg > (uint64_t) (end - p))
            return false;
          left += major == 5 ? 2 * arg : arg;
          break;
        case 6:
          left++;
          break;
        default:
          break;
        }
    }
  *pp = p;
  return true;
}

/* Describe the item at p (within end) in v and return the end of it. */
static const uint8_t *
read_value (const uint8_t *p, const uint8_t *end, sp_msg_value *v)
{
  const uint8_t *q = p, *after;
  unsigned major;
  uint64_t arg;

  if (!read_head (&q, end, &major, &arg))
    return NULL;
  memset (v, 0, sizeof *v);
  v->u = arg;
  v->ptr = q;
  switch (major)
    {
    case 7:
      if (arg == 20 || arg == 21)
        {
          v->type = SP_CBOR_BOOL;
          v->u = arg - 20;
        }
      else if (arg == 22)
        v->type = SP_CBOR_NULL;
      else
        return NULL;
      break;
    default:
      v->type = (sp_cbor_type) major;
      break;
    }
  after = p;
  if (!skip_item (&after, end))
    return NULL;
  v->raw = p;
  v->raw_len = (size_t) (after - p);
  return after;
}

bool
sp_msg_value_int (const sp_msg_value *v, int64_t *out)
{
  if ((v->type != SP_CBOR_UINT && v->type != SP_CBOR_NINT) ||
      v->u > (uint64_t) INT64_MAX)
    return false;
  *out = v->type == SP_CBOR_UINT ? (int64_t) v->u : -1 - (int64_t) v->u;
  return true;
}

sp_err
sp_msg_cursor_init (sp_msg_cursor *c, const uint8_t *raw, size_t len,
                    sp_cbor_type type)
{
  const uint8_t *p = raw;
  unsigned major;
  uint64_t arg;

  memset (c, 0, sizeof *c);
  if (raw == NULL || (type != SP_CBOR_ARRAY && type != SP_CBOR_MAP))
    return SP_ERR_INVALID_ARG;
  if (!read_head (&p, raw + len, &major, &arg) || major != (unsigned) type ||
      arg > len)
    return SP_ERR_TYPE;
  c->p = p;
  c->end = raw + len;
  c->left = type == SP_CBOR_MAP ? 2 * arg : arg;
  return SP_OK;
}

sp_err
sp_msg_cursor_init_bytes (sp_msg_cursor *c, sp_msg_bytes container,
                          sp_cbor_type type)
{
  return sp_msg_cursor_init (c, container.ptr, container.len, type);
}

bool
sp_msg_cursor_next (sp_msg_cursor *c, sp_msg_value *v)
{
  const uint8_t *after;

  if (c->left == 0)
    return false;
  after = read_value (c->p, c->end, v);
  if (after == NULL)
    {
      c->left = 0;
      return false;
    }
  c->p = after;
  c->left--;
  return true;
}

bool
sp_msg_cursor_next_pair (sp_msg_cursor *c, sp_msg_value *key,
                         sp_msg_value *value)
{
  return c->left >= 2 && sp_msg_cursor_next (c, key) &&
         sp_msg_cursor_next (c, value);
}

/* ------------------------------------------------------------------ */
/* The field engine                                                    */
/* ------------------------------------------------------------------ */

typedef enum fkind {
  F_UINT,       /* uint64_t */
  F_BOOL,       /* bool */
  /* strings (str_kinds below) */
  F_TEXT64,     /* sp_msg_text, 1..SP_MSG_TEXT_MAX */
  F_TEXT,       /* sp_msg_text, any length */
  F_B32,        /* sp_msg_bytes, 32 bytes */
  F_BYTES,      /* sp_msg_bytes, at least one byte */
  F_CTI,        /* sp_msg_bytes, 1..SP_CWT_CTI_MAX */
  F_CHUNK,      /* sp_msg_bytes, 1..SP_MSG_BULK_CHUNK_MAX (more: TOO_LONG) */
  F_ENC,        /* sp_msg_bytes, SP_MSG_ENC_LEN */
  F_CT,         /* sp_msg_bytes, at least SP_MSG_CT_MIN */
  /* containers, handed out raw (count at off2 when off2 is set) */
  F_SEALED,     /* array of sealed entries */
  F_KEYS,       /* array of text keys */
  F_VERSIONS,   /* array of uint */
  F_CHAIN,      /* sp_msg_bytes[SP_MSG_CHAIN_MAX]: array of byte strings */
  F_MAP,        /* any map */
  F_VALUES,     /* map text -> text / int / bool (APPLY) */
  F_DIGESTS,    /* map text -> bstr 32 */
  F_CONFIG,     /* map text -> text / int / bool (READ) */
  F_DIAG,       /* map text -> uint */
} fkind;

#define IS_STRING(k) ((k) >= F_TEXT64 && (k) <= F_CT)
#define IS_ARRAY(k) ((k) >= F_SEALED && (k) <= F_CHAIN)

/* Strings: CBOR type and length bounds. */
static const struct {
  uint8_t type;
  uint16_t min, max;
} str_kinds[] = {
  { SP_CBOR_TEXT, 1, SP_MSG_TEXT_MAX },              /* F_TEXT64 */
  { SP_CBOR_TEXT, 0, 0xFFFF },                       /* F_TEXT */
  { SP_CBOR_BYTES, SP_MSG_DIGEST_LEN, SP_MSG_DIGEST_LEN }, /* F_B32 */
  { SP_CBOR_BYTES, 1, 0xFFFF },                      /* F_BYTES */
  { SP_CBOR_BYTES, 1, SP_CWT_CTI_MAX },              /* F_CTI */
  { SP_CBOR_BYTES, 1, SP_MSG_BULK_CHUNK_MAX },       /* F_CHUNK */
  { SP_CBOR_BYTES, SP_MSG_ENC_LEN, SP_MSG_ENC_LEN }, /* F_ENC */
  { SP_CBOR_BYTES, SP_MSG_CT_MIN, 0xFFFF },          /* F_CT */
};

/* Containers: most entries (0: the CBOR limits') and whether one is needed. */
static const struct {
  uint8_t max;
  uint8_t min;
} box_kinds[] = {
  { SP_MSG_SEALED_MAX, 0 },    /* F_SEALED */
  { SP_MSG_READ_KEYS_MAX, 0 }, /* F_KEYS */
  { SP_MSG_VERSIONS_MAX, 1 },  /* F_VERSIONS */
  { SP_MSG_CHAIN_MAX, 1 },     /* F_CHAIN */
  { 0, 0 },                    /* F_MAP */
  { SP_MSG_VALUES_MAX, 0 },    /* F_VALUES */
  { SP_MSG_VALUES_MAX, 0 },    /* F_DIGESTS */
  { 0, 0 },                    /* F_CONFIG */
  { 0, 0 },                    /* F_DIAG */
};

typedef struct field {
  uint8_t key;
  uint8_t kind;      /* fkind */
  uint8_t optional;  /* F_UINT: presence flag (bool) at off2; others: ptr */
  uint16_t off;
  uint16_t off2;
} field;

#define FLD(k, kind, type, member) \
  { (k), (kind), 0, (uint16_t) offsetof (type, member), 0 }
#define FLD2(k, kind, type, member, member2) \
  { (k), (kind), 0, (uint16_t) offsetof (type, member), \
    (uint16_t) offsetof (type, member2) }
#define OPT(k, kind, type, member) \
  { (k), (kind), 1, (uint16_t) offsetof (type, member), 0 }
#define OPT2(k, kind, type, member, member2) \
  { (k), (kind), 1, (uint16_t) offsetof (type, member), \
    (uint16_t) offsetof (type, member2) }
#define N_OF(a) (sizeof (a) / sizeof (a)[0])

#define AT(base, off, type) ((type *) (void *) ((char *) (base) + (off)))
#define CAT(base, off, type) ((const type *) (const void *) ((const char *) (base) + (off)))

static sp_err read_fields (const sp_cbor_doc *doc, size_t map, unsigned n_env,
                           const field *f, size_t n, void *dst);

static const field sealed_fields[] = {
  FLD (SP_MSG_SEALED_KEY, F_TEXT64, sp_msg_sealed, key),
  FLD (SP_MSG_SEALED_ENC, F_ENC, sp_msg_sealed, enc),
  FLD (SP_MSG_SEALED_CT, F_CT, sp_msg_sealed, ct),
};

/* Check item idx as a string of kind k; its bytes in *p, *len. */
static sp_err
check_string (const sp_cbor_doc *doc, size_t idx, fkind k, const uint8_t **p,
              size_t *len)
{
  const sp_cbor_item *it = &doc->items[idx];

  if (it->type != str_kinds[k - F_TEXT64].type)
    return SP_ERR_TYPE;
  *p = doc->buf + it->payload;
  *len = (size_t) it->value;
  if (k == F_CHUNK && *len > SP_MSG_BULK_CHUNK_MAX)
    return SP_ERR_CBOR_TOO_LONG;
  if (*len < str_kinds[k - F_TEXT64].min || *len > str_kinds[k - F_TEXT64].max)
    return SP_ERR_VALUE;
  return SP_OK;
}

/* One entry of a container of kind k (a map's value with its key). */
static sp_err
check_entry (const sp_cbor_doc *doc, fkind k, size_t key, size_t val)
{
  const sp_cbor_item *v = &doc->items[val];
  const uint8_t *p;
  size_t len;
  sp_msg_sealed e;
  sp_err err;

  if (k == F_MAP)
    return SP_OK;
  if (!IS_ARRAY (k))
    {
      err = check_string (doc, key, F_TEXT64, &p, &len);
      if (err != SP_OK)
        return err;
    }
  switch (k)
    {
    case F_SEALED:
      return read_fields (doc, val, 0, sealed_fields, N_OF (sealed_fields), &e);
    case F_KEYS:
      return check_string (doc, val, F_TEXT64, &p, &len);
    case F_CHAIN:
      return check_string (doc, val, F_BYTES, &p, &len);
    case F_DIGESTS:
      return check_string (doc, val, F_B32, &p, &len);
    case F_VERSIONS:
    case F_DIAG:
      return v->type == SP_CBOR_UINT ? SP_OK : SP_ERR_TYPE;
    default: /* F_VALUES, F_CONFIG: text, bool, or an int64_t */
      if (v->type == SP_CBOR_TEXT || v->type == SP_CBOR_BOOL)
        return SP_OK;
      if (v->type != SP_CBOR_UINT && v->type != SP_CBOR_NINT)
        return SP_ERR_TYPE;
      return v->value <= (uint64_t) INT64_MAX ? SP_OK : SP_ERR_VALUE;
    }
}

/* Check a container item of kind k and count its entries. */
static sp_err
check_container (const sp_cbor_doc *doc, size_t idx, fkind k, size_t *count)
{
  sp_cbor_iter it;
  size_t a, b = 0, n = 0, max = box_kinds[k - F_SEALED].max;
  bool array = IS_ARRAY (k);
  sp_err err = sp_cbor_iter_init (&it, doc, idx, array ? SP_CBOR_ARRAY : SP_CBOR_MAP);

  if (err != SP_OK)
    return err;
  while (array ? sp_cbor_iter_next (&it, &b) : sp_cbor_iter_next_pair (&it, &a, &b))
    {
      err = check_entry (doc, k, array ? b : a, b);
      if (err != SP_OK)
        return err;
      n++;
    }
  if (max != 0 && n > max)
    return SP_ERR_CBOR_TOO_LONG;
  if (n < box_kinds[k - F_SEALED].min)
    return SP_ERR_VALUE;
  *count = n;
  return SP_OK;
}

/* Read one field's value (item idx) into dst. */
static sp_err
read_field (const sp_cbor_doc *doc, size_t idx, const field *f, void *dst)
{
  const sp_cbor_item *it = &doc->items[idx];
  fkind k = (fkind) f->kind;
  const uint8_t *p;
  size_t count, len;
  sp_err err;

  if (k == F_UINT)
    {
      err = sp_cbor_get_uint (doc, idx, AT (dst, f->off, uint64_t));
      if (err == SP_OK && f->optional)
        *AT (dst, f->off2, bool) = true;
      return err;
    }
  if (k == F_BOOL)
    {
      /* An optional flag is true or absent: one encoding per request. */
      err = sp_cbor_get_bool (doc, idx, AT (dst, f->off, bool));
      return err == SP_OK && f->optional && !*AT (dst, f->off, bool) ? SP_ERR_VALUE : err;
    }
  if (IS_STRING (k))
    {
      err = check_string (doc, idx, k, &p, &len);
      if (err != SP_OK)
        return err;
    }
  else
    {
      err = check_container (doc, idx, k, &count);
      if (err != SP_OK)
        return err;
      p = doc->buf + it->offset;
      len = it->end - it->offset;
      if (f->off2 != 0)
        *AT (dst, f->off2, size_t) = count;
      if (k == F_CHAIN)
        {
          sp_msg_bytes *chain = AT (dst, f->off, sp_msg_bytes);
          sp_cbor_iter iter;
          size_t child;

          sp_cbor_iter_init (&iter, doc, idx, SP_CBOR_ARRAY);
          while (sp_cbor_iter_next (&iter, &child))
            {
              chain->ptr = doc->buf + doc->items[child].payload;
              chain++->len = (size_t) doc->items[child].value;
            }
          return SP_OK;
        }
    }
  if (k == F_TEXT64 || k == F_TEXT)
    {
      AT (dst, f->off, sp_msg_text)->ptr = (const char *) p;
      AT (dst, f->off, sp_msg_text)->len = len;
    }
  else
    {
      AT (dst, f->off, sp_msg_bytes)->ptr = p;
      AT (dst, f->off, sp_msg_bytes)->len = len;
    }
  return SP_OK;
}

/* Read map (item idx) whose keys are 0..n_env-1 (read by the caller) and
 * the fields f[0..n): unknown keys first, then each field in key order. */
static sp_err
read_fields (const sp_cbor_doc *doc, size_t map, unsigned n_env,
             const field *f, size_t n, void *dst)
{
  sp_cbor_iter it;
  size_t k, v, i;
  sp_err err = sp_cbor_iter_init (&it, doc, map, SP_CBOR_MAP);

  if (err != SP_OK)
    return err;
  while (sp_cbor_iter_next_pair (&it, &k, &v))
    {
      const sp_cbor_item *key = &doc->items[k];
      bool known = false;

      if (key->type != SP_CBOR_UINT)
        return SP_ERR_UNKNOWN_FIELD;
      known = key->value < n_env;
      for (i = 0; i < n && !known; i++)
        known = key->value == f[i].key;
      if (!known)
        return SP_ERR_UNKNOWN_FIELD;
    }
  for (i = 0; i < n; i++)
    {
      err = sp_cbor_map_find_int (doc, map, f[i].key, &v);
      if (err == SP_ERR_MISSING && f[i].optional)
        continue;
      if (err == SP_OK)
        err = read_field (doc, v, &f[i], dst);
      if (err != SP_OK)
        return err;
    }
  return SP_OK;
}

static bool
field_present (const field *f, const void *src)
{
  if (!f->optional)
    return true;
  if (f->kind == F_UINT)
    return *CAT (src, f->off2, bool);
  if (f->kind == F_BOOL)
    return *CAT (src, f->off, bool);
  return CAT (src, f->off, sp_msg_bytes)->ptr != NULL;
}

static size_t
count_present (const field *f, size_t n, const void *src)
{
  size_t i, c = 0;

  for (i = 0; i < n; i++)
    c += field_present (&f[i], src);
  return c;
}

/* Write the fields of src that are present (keys rising). */
static void
write_fields (sp_cbor_writer *w, const field *f, size_t n, const void *src)
{
  size_t i, j;

  for (i = 0; i < n; i++)
    {
      const sp_msg_bytes *b = CAT (src, f[i].off, sp_msg_bytes);
      fkind k = (fkind) f[i].kind;

      if (!field_present (&f[i], src))
        continue;
      sp_cbor_put_uint (w, f[i].key);
      if (k == F_UINT)
        sp_cbor_put_uint (w, *CAT (src, f[i].off, uint64_t));
      else if (k == F_BOOL)
        sp_cbor_put_bool (w, *CAT (src, f[i].off, bool));
      else if (k == F_TEXT64 || k == F_TEXT)
        {
          const sp_msg_text *t = CAT (src, f[i].off, sp_msg_text);

          if (t->ptr == NULL && t->len > 0)
            w->err = SP_ERR_INVALID_ARG;
          else
            sp_cbor_put_text (w, t->ptr, t->len);
        }
      else if (IS_STRING (k))
        {
          if (b->ptr == NULL && b->len > 0)
            w->err = SP_ERR_INVALID_ARG;
          else
            sp_cbor_put_bytes (w, b->ptr, b->len);
        }
      else if (k == F_CHAIN)
        {
          size_t nc = *CAT (src, f[i].off2, size_t);

          if (nc > SP_MSG_CHAIN_MAX)
            {
              w->err = SP_ERR_VALUE;
              break;
            }
          sp_cbor_put_array (w, nc);
          for (j = 0; j < nc; j++)
            sp_cbor_put_bytes (w, b[j].ptr, b[j].len);
        }
      else if (b->ptr == NULL || b->len == 0)
        w->err = SP_ERR_INVALID_ARG;
      else
        sp_cbor_put_raw (w, b->ptr, b->len);
    }
}

/* Decode buf as one map and read its fields (the decoders of arguments
 * and payloads). */
static sp_err
decode_fields (const uint8_t *buf, size_t len, sp_cbor_item *items,
               size_t max_items, const field *f, size_t n, void *dst)
{
  sp_cbor_doc doc;
  sp_err err = sp_cbor_decode (buf, len, NULL, items, max_items, &doc);

  if (err == SP_OK)
    err = read_fields (&doc, 0, 0, f, n, dst);
  return err;
}

/* ------------------------------------------------------------------ */
/* Request                                                             */
/* ------------------------------------------------------------------ */

static const field req_attest[] = {
  FLD (SP_MSG_REQ_CHALLENGE, F_B32, sp_msg_request, challenge),
};
static const field req_authorize[] = {
  FLD (SP_MSG_REQ_TOKEN, F_BYTES, sp_msg_request, token),
};
static const field req_apply[] = {
  FLD (SP_MSG_REQ_COMMAND, F_BYTES, sp_msg_request, command),
  FLD2 (SP_MSG_REQ_SEALED, F_SEALED, sp_msg_request, sealed, n_sealed),
};
static const field req_command[] = {
  FLD (SP_MSG_REQ_COMMAND, F_BYTES, sp_msg_request, command),
};
static const field req_bulk_data[] = {
  FLD (SP_MSG_REQ_OFFSET, F_UINT, sp_msg_request, offset),
  FLD (SP_MSG_REQ_DATA, F_CHUNK, sp_msg_request, data),
  OPT (SP_MSG_REQ_QUIET, F_BOOL, sp_msg_request, quiet),
};
static const field req_read[] = {
  OPT2 (SP_MSG_REQ_KEYS, F_KEYS, sp_msg_request, keys, n_keys),
};
static const field req_revocation[] = {
  FLD (SP_MSG_REQ_LIST, F_BYTES, sp_msg_request, list),
};

bool
sp_msg_type_is_request (uint64_t type)
{
  return type >= SP_MSG_HELLO && type <= SP_MSG_BYE;
}

static const field *
request_fields (uint64_t type, size_t *n)
{
  *n = 1;
  switch (type)
    {
    case SP_MSG_ATTEST:
      return req_attest;
    case SP_MSG_AUTHORIZE:
      return req_authorize;
    case SP_MSG_APPLY:
      *n = N_OF (req_apply);
      return req_apply;
    case SP_MSG_COMMIT:
    case SP_MSG_ROLLBACK:
    case SP_MSG_BULK_BEGIN:
      return req_command;
    case SP_MSG_BULK_DATA:
      *n = N_OF (req_bulk_data);
      return req_bulk_data;
    case SP_MSG_READ:
      return req_read;
    case SP_MSG_REVOCATION:
      return req_revocation;
    default: /* HELLO, BULK_STATUS, BYE: no body */
      *n = 0;
      return NULL;
    }
}

/* Read keys 0 (type) and 1 (id, below 2^32) of an envelope. */
static sp_err
read_envelope (const sp_cbor_doc *doc, uint64_t *type, uint32_t *id)
{
  uint64_t v;
  size_t idx;
  sp_err err;

  if (sp_cbor_item_type (doc, 0) != SP_CBOR_MAP)
    return SP_ERR_TYPE;
  err = sp_cbor_map_find_int (doc, 0, SP_MSG_KEY_TYPE, &idx);
  if (err == SP_OK)
    err = sp_cbor_get_uint (doc, idx, type);
  if (err == SP_OK)
    err = sp_cbor_map_find_int (doc, 0, SP_MSG_KEY_ID, &idx);
  if (err == SP_OK)
    err = sp_cbor_get_uint (doc, idx, &v);
  if (err == SP_OK && v > UINT32_MAX)
    err = SP_ERR_VALUE;
  if (err == SP_OK)
    *id = (uint32_t) v;
  return err;
}

sp_err
sp_msg_request_decode (const uint8_t *buf, size_t len, sp_cbor_item *items,
                       size_t max_items, sp_msg_request *req)
{
  sp_cbor_limits limits = sp_cbor_limits_default;
  sp_cbor_doc doc;
  const field *f;
  size_t n;
  sp_err err;

  if (req == NULL)
    return SP_ERR_INVALID_ARG;
  memset (req, 0, sizeof *req);
  if (items == NULL || (buf == NULL && len > 0))
    return SP_ERR_INVALID_ARG;
  limits.max_size = SP_MSG_MAX;
  err = sp_cbor_decode (buf, len, &limits, items, max_items, &doc);
  if (err == SP_OK)
    err = read_envelope (&doc, &req->type, &req->id);
  if (err != SP_OK)
    return err;
  req->envelope_ok = true;
  if (!sp_msg_type_is_request (req->type))
    return SP_ERR_VALUE;

  f = request_fields (req->type, &n);
  err = read_fields (&doc, 0, 2, f, n, req);
  if (err == SP_OK)
    req->has_keys = req->keys.ptr != NULL;
  if (err != SP_OK)
    {
      uint64_t type = req->type;
      uint32_t id = req->id;

      memset (req, 0, sizeof *req);
      req->type = type;
      req->id = id;
      req->envelope_ok = true;
    }
  return err;
}

sp_msg_status
sp_msg_request_status (sp_err err, const sp_msg_request *req)
{
  switch (err)
    {
    case SP_OK:
      return SP_MSG_OK;
    case SP_ERR_CBOR_TOO_LARGE:
    case SP_ERR_CBOR_TOO_LONG:
    case SP_ERR_CBOR_TOO_MANY_ITEMS:
      return SP_MSG_TOO_LARGE;
    default:
      if (req != NULL && req->envelope_ok && !sp_msg_type_is_request (req->type))
        return SP_MSG_UNSUPPORTED;
      return SP_MSG_MALFORMED;
    }
}

sp_err
sp_msg_request_encode (const sp_msg_request *req, uint8_t *out, size_t cap,
                       size_t *out_len)
{
  sp_cbor_item items[TOOL_ITEMS];
  sp_msg_request check;
  sp_cbor_writer w;
  const field *f;
  size_t n, len;
  sp_err err;

  if (req == NULL || out_len == NULL || (out == NULL && cap > 0))
    return SP_ERR_INVALID_ARG;
  if (!sp_msg_type_is_request (req->type))
    return SP_ERR_VALUE;
  f = request_fields (req->type, &n);
  sp_cbor_writer_init (&w, out, cap);
  sp_cbor_put_map (&w, 2 + count_present (f, n, req));
  sp_cbor_put_uint (&w, SP_MSG_KEY_TYPE);
  sp_cbor_put_uint (&w, req->type);
  sp_cbor_put_uint (&w, SP_MSG_KEY_ID);
  sp_cbor_put_uint (&w, req->id);
  write_fields (&w, f, n, req);
  err = sp_cbor_writer_finish (&w, &len);
  if (err != SP_OK)
    return err;
  err = sp_msg_request_decode (out, len, items, TOOL_ITEMS, &check);
  if (err != SP_OK)
    return err == SP_ERR_CBOR_TOO_LARGE ? err : SP_ERR_VALUE;
  *out_len = len;
  return SP_OK;
}

/* ------------------------------------------------------------------ */
/* Response                                                            */
/* ------------------------------------------------------------------ */

static const char *const status_names[] = {
  "OK", "MALFORMED", "UNSUPPORTED", "TOO_LARGE", "BAD_STATE",
  "TOKEN_MALFORMED", "TOKEN_SIGNATURE", "TOKEN_EXPIRED",
  "TOKEN_NOT_YET_VALID", "TOKEN_AUDIENCE", "TOKEN_REVOKED",
  "COMMAND_SIGNATURE", "WRONG_TOKEN", "WRONG_DEVICE", "WRONG_NONCE",
  "REPLAY", "SCOPE", "VERSION_ROLLBACK", "SCHEMA", "STEP_UP", "DIGEST",
  "SEAL", "HEALTH", "STORAGE", "REVOCATION_STALE", "BULK_OFFSET",
};

const char *
sp_msg_status_name (uint64_t status)
{
  if (status < N_OF (status_names))
    return status_names[status];
  return status == SP_MSG_NO_TRANSFER ? "NO_TRANSFER" : "?";
}

void
sp_msg_response_begin (sp_cbor_writer *w, uint64_t type, uint32_t id,
                       sp_msg_status status, size_t n_body)
{
  sp_cbor_put_map (w, 3 + n_body);
  sp_cbor_put_uint (w, SP_MSG_KEY_TYPE);
  sp_cbor_put_uint (w, type | SP_MSG_RESPONSE_BIT);
  sp_cbor_put_uint (w, SP_MSG_KEY_ID);
  sp_cbor_put_uint (w, id);
  sp_cbor_put_uint (w, SP_MSG_KEY_STATUS);
  sp_cbor_put_uint (w, (uint64_t) status);
}

static const field resp_hello[] = {
  FLD (SP_MSG_HELLO_SERIAL, F_TEXT64, sp_msg_response, serial),
  FLD (SP_MSG_HELLO_MODEL, F_TEXT64, sp_msg_response, model),
  FLD (SP_MSG_HELLO_FIRMWARE, F_TEXT64, sp_msg_response, firmware),
  FLD (SP_MSG_HELLO_CONFIG_VERSION, F_UINT, sp_msg_response, config_version),
  FLD2 (SP_MSG_HELLO_VERSIONS, F_VERSIONS, sp_msg_response, versions, n_versions),
  FLD (SP_MSG_HELLO_CAPABILITIES, F_UINT, sp_msg_response, capabilities),
  FLD (SP_MSG_HELLO_NONCE, F_B32, sp_msg_response, nonce),
  FLD (SP_MSG_HELLO_DEVICE_TIME, F_UINT, sp_msg_response, device_time),
  FLD (SP_MSG_HELLO_CLOCK, F_BOOL, sp_msg_response, clock),
  FLD (SP_MSG_HELLO_MAX_MESSAGE, F_UINT, sp_msg_response, max_message),
  FLD (SP_MSG_HELLO_REVOCATION_VERSION, F_UINT, sp_msg_response, revocation_version),
  OPT2 (SP_MSG_HELLO_PSM, F_UINT, sp_msg_response, psm, has_psm),
};
static const field resp_attest[] = {
  FLD (SP_MSG_ATTEST_EVIDENCE, F_BYTES, sp_msg_response, evidence),
  FLD2 (SP_MSG_ATTEST_CHAIN, F_CHAIN, sp_msg_response, chain, n_chain),
};
static const field resp_authorize[] = {
  FLD (SP_MSG_AUTHORIZE_EXP, F_UINT, sp_msg_response, exp),
  FLD (SP_MSG_AUTHORIZE_SCOPE, F_TEXT, sp_msg_response, scope),
};
static const field resp_receipt[] = {
  FLD (SP_MSG_RESP_RECEIPT, F_BYTES, sp_msg_response, receipt),
};
/* BULK_BEGIN and BULK_DATA; also BULK_DATA's BULK_OFFSET refusal. */
static const field resp_next[] = {
  { SP_MSG_BULK_NEXT_OFFSET, F_UINT, 1, offsetof (sp_msg_response, next_offset),
    offsetof (sp_msg_response, has_next_offset) },
};
static const field resp_bulk_status[] = {
  { SP_MSG_BULK_NEXT_OFFSET, F_UINT, 1, offsetof (sp_msg_response, next_offset),
    offsetof (sp_msg_response, has_next_offset) },
  FLD (SP_MSG_BULK_SIZE, F_UINT, sp_msg_response, size),
  FLD (SP_MSG_BULK_DIGEST, F_B32, sp_msg_response, digest),
};
static const field resp_read[] = {
  FLD2 (SP_MSG_READ_CONFIG, F_CONFIG, sp_msg_response, config, n_config),
  FLD2 (SP_MSG_READ_DIAGNOSTICS, F_DIAG, sp_msg_response, diagnostics, n_diagnostics),
};
static const field resp_revocation[] = {
  FLD (SP_MSG_REVOCATION_VERSION, F_UINT, sp_msg_response, version),
};

/* The body of a response; *required_next: key 3 must be there. */
static const field *
response_fields (uint64_t base, uint64_t status, size_t *n, bool *required_next)
{
  *n = 0;
  *required_next = false;
  if (status != SP_MSG_OK)
    {
      if (base == SP_MSG_BULK_DATA && status == SP_MSG_BULK_OFFSET)
        {
          *n = 1;
          *required_next = true;
          return resp_next;
        }
      return NULL;
    }
  switch (base)
    {
    case SP_MSG_HELLO:
      *n = N_OF (resp_hello);
      return resp_hello;
    case SP_MSG_ATTEST:
      *n = N_OF (resp_attest);
      return resp_attest;
    case SP_MSG_AUTHORIZE:
      *n = N_OF (resp_authorize);
      return resp_authorize;
    case SP_MSG_APPLY:
    case SP_MSG_COMMIT:
    case SP_MSG_ROLLBACK:
      *n = 1;
      return resp_receipt;
    case SP_MSG_BULK_BEGIN:
    case SP_MSG_BULK_DATA:
      *n = 1;
      *required_next = true;
      return resp_next;
    case SP_MSG_BULK_STATUS:
      *n = N_OF (resp_bulk_status);
      *required_next = true;
      return resp_bulk_status;
    case SP_MSG_READ:
      *n = N_OF (resp_read);
      return resp_read;
    case SP_MSG_REVOCATION:
      *n = 1;
      return resp_revocation;
    default: /* BYE, and unknown types (refusals only) */
      return NULL;
    }
}

static bool
response_status_ok (uint64_t base, uint64_t status)
{
  if (status > SP_MSG_BULK_OFFSET && status != SP_MSG_NO_TRANSFER)
    return false;
  /* A type the device did not know can only be refused. */
  if (!sp_msg_type_is_request (base))
    return status == SP_MSG_UNSUPPORTED || status == SP_MSG_MALFORMED ||
           status == SP_MSG_TOO_LARGE;
  return true;
}

sp_err
sp_msg_response_decode (const uint8_t *buf, size_t len, sp_msg_response *resp)
{
  sp_cbor_item items[TOOL_ITEMS];
  sp_cbor_limits limits = sp_cbor_limits_default;
  sp_cbor_doc doc;
  sp_msg_response r;
  const field *f;
  size_t n, idx;
  bool required_next;
  sp_err err;

  if (resp == NULL)
    return SP_ERR_INVALID_ARG;
  memset (resp, 0, sizeof *resp);
  memset (&r, 0, sizeof r);
  if (buf == NULL && len > 0)
    return SP_ERR_INVALID_ARG;
  limits.max_size = SP_MSG_MAX;
  err = sp_cbor_decode (buf, len, &limits, items, TOOL_ITEMS, &doc);
  if (err == SP_OK)
    err = read_envelope (&doc, &r.type, &r.id);
  if (err == SP_OK)
    err = sp_cbor_map_find_int (&doc, 0, SP_MSG_KEY_STATUS, &idx);
  if (err == SP_OK)
    err = sp_cbor_get_uint (&doc, idx, &r.status);
  if (err != SP_OK)
    return err;
  if (!(r.type & SP_MSG_RESPONSE_BIT) ||
      !response_status_ok (r.type & ~(uint64_t) SP_MSG_RESPONSE_BIT, r.status))
    return SP_ERR_VALUE;

  f = response_fields (r.type & ~(uint64_t) SP_MSG_RESPONSE_BIT, r.status, &n,
                       &required_next);
  err = read_fields (&doc, 0, 3, f, n, &r);
  if (err == SP_OK && required_next && !r.has_next_offset)
    err = SP_ERR_MISSING;
  if (err == SP_OK)
    *resp = r;
  return err;
}

sp_err
sp_msg_response_encode (const sp_msg_response *resp, uint8_t *out, size_t cap,
                        size_t *out_len)
{
  sp_msg_response check;
  sp_cbor_writer w;
  const field *f;
  size_t n, len;
  bool required_next;
  sp_err err;

  if (resp == NULL || out_len == NULL || (out == NULL && cap > 0))
    return SP_ERR_INVALID_ARG;
  f = response_fields (resp->type & ~(uint64_t) SP_MSG_RESPONSE_BIT, resp->status,
                       &n, &required_next);
  if (required_next && !resp->has_next_offset)
    return SP_ERR_MISSING;
  sp_cbor_writer_init (&w, out, cap);
  sp_cbor_put_map (&w, 3 + count_present (f, n, resp));
  sp_cbor_put_uint (&w, SP_MSG_KEY_TYPE);
  sp_cbor_put_uint (&w, resp->type);
  sp_cbor_put_uint (&w, SP_MSG_KEY_ID);
  sp_cbor_put_uint (&w, resp->id);
  sp_cbor_put_uint (&w, SP_MSG_KEY_STATUS);
  sp_cbor_put_uint (&w, resp->status);
  write_fields (&w, f, n, resp);
  err = sp_cbor_writer_finish (&w, &len);
  if (err != SP_OK)
    return err;
  err = sp_msg_response_decode (out, len, &check);
  if (err != SP_OK)
    return err == SP_ERR_CBOR_TOO_LARGE ? err : SP_ERR_VALUE;
  *out_len = len;
  return SP_OK;
}

/* ------------------------------------------------------------------ */
/* Sealed entries, keys, values, digests                               */
/* ------------------------------------------------------------------ */

static bool
key_ok (const sp_msg_text *t)
{
  return t->ptr != NULL && t->len >= 1 && t->len <= SP_MSG_TEXT_MAX;
}

sp_err
sp_msg_sealed_encode (const sp_msg_sealed *e, size_t n, uint8_t *out,
                      size_t cap, size_t *out_len)
{
  sp_cbor_writer w;
  size_t i;

  if ((e == NULL && n > 0) || out_len == NULL)
    return SP_ERR_INVALID_ARG;
  if (n > SP_MSG_SEALED_MAX)
    return SP_ERR_VALUE;
  sp_cbor_writer_init (&w, out, cap);
  sp_cbor_put_array (&w, n);
  for (i = 0; i < n; i++)
    {
      if (!key_ok (&e[i].key) || e[i].enc.ptr == NULL ||
          e[i].enc.len != SP_MSG_ENC_LEN || e[i].ct.ptr == NULL ||
          e[i].ct.len < SP_MSG_CT_MIN)
        return SP_ERR_VALUE;
      sp_cbor_put_map (&w, 3);
      sp_cbor_put_uint (&w, SP_MSG_SEALED_KEY);
      sp_cbor_put_text (&w, e[i].key.ptr, e[i].key.len);
      sp_cbor_put_uint (&w, SP_MSG_SEALED_ENC);
      sp_cbor_put_bytes (&w, e[i].enc.ptr, e[i].enc.len);
      sp_cbor_put_uint (&w, SP_MSG_SEALED_CT);
      sp_cbor_put_bytes (&w, e[i].ct.ptr, e[i].ct.len);
    }
  return sp_cbor_writer_finish (&w, out_len);
}

bool
sp_msg_sealed_next (sp_msg_cursor *c, sp_msg_sealed *entry)
{
  sp_msg_value v, k, val;
  sp_msg_cursor m;

  memset (entry, 0, sizeof *entry);
  if (!sp_msg_cursor_next (c, &v) ||
      sp_msg_cursor_init (&m, v.raw, v.raw_len, SP_CBOR_MAP) != SP_OK)
    return false;
  /* Validated: {1: key, 2: enc, 3: ct} in this order. */
  while (sp_msg_cursor_next_pair (&m, &k, &val))
    {
      if (k.type != SP_CBOR_UINT)
        return false;
      if (k.u == SP_MSG_SEALED_KEY && val.type == SP_CBOR_TEXT)
        {
          entry->key.ptr = (const char *) val.ptr;
          entry->key.len = (size_t) val.u;
        }
      else if (k.u == SP_MSG_SEALED_ENC && val.type == SP_CBOR_BYTES)
        {
          entry->enc.ptr = val.ptr;
          entry->enc.len = (size_t) val.u;
        }
      else if (k.u == SP_MSG_SEALED_CT && val.type == SP_CBOR_BYTES)
        {
          entry->ct.ptr = val.ptr;
          entry->ct.len = (size_t) val.u;
        }
      else
        return false;
    }
  return entry->key.ptr != NULL && entry->enc.ptr != NULL && entry->ct.ptr != NULL;
}

sp_err
sp_msg_keys_encode (const sp_msg_text *keys, size_t n, uint8_t *out,
                    size_t cap, size_t *out_len)
{
  sp_cbor_writer w;
  size_t i;

  if ((keys == NULL && n > 0) || out_len == NULL)
    return SP_ERR_INVALID_ARG;
  if (n > SP_MSG_READ_KEYS_MAX)
    return SP_ERR_VALUE;
  sp_cbor_writer_init (&w, out, cap);
  sp_cbor_put_array (&w, n);
  for (i = 0; i < n; i++)
    {
      if (!key_ok (&keys[i]))
        return SP_ERR_VALUE;
      sp_cbor_put_text (&w, keys[i].ptr, keys[i].len);
    }
  return sp_cbor_writer_finish (&w, out_len);
}

/* Keys of a map we encode must rise strictly. */
static bool
keys_rise (const sp_msg_text *prev, const sp_msg_text *key)
{
  return prev == NULL ||
         sp_msg_key_compare (prev->ptr, prev->len, key->ptr, key->len) < 0;
}

sp_err
sp_msg_values_encode (const sp_msg_kv *kv, size_t n, uint8_t *out, size_t cap,
                      size_t *out_len)
{
  sp_cbor_writer w;
  size_t i;

  if ((kv == NULL && n > 0) || out_len == NULL)
    return SP_ERR_INVALID_ARG;
  sp_cbor_writer_init (&w, out, cap);
  sp_cbor_put_map (&w, n);
  for (i = 0; i < n; i++)
    {
      if (!key_ok (&kv[i].key) || !keys_rise (i > 0 ? &kv[i - 1].key : NULL, &kv[i].key))
        return SP_ERR_VALUE;
      sp_cbor_put_text (&w, kv[i].key.ptr, kv[i].key.len);
      switch (kv[i].type)
        {
        case SP_CBOR_TEXT:
          if (kv[i].text.ptr == NULL && kv[i].text.len > 0)
            return SP_ERR_INVALID_ARG;
          sp_cbor_put_text (&w, kv[i].text.ptr, kv[i].text.len);
          break;
        case SP_CBOR_UINT:
        case SP_CBOR_NINT:
          sp_cbor_put_int (&w, kv[i].i);
          break;
        case SP_CBOR_BOOL:
          sp_cbor_put_bool (&w, kv[i].b);
          break;
        default:
          return SP_ERR_VALUE;
        }
    }
  return sp_cbor_writer_finish (&w, out_len);
}

sp_err
sp_msg_digests_encode (const sp_msg_digest_entry *d, size_t n, uint8_t *out,
                       size_t cap, size_t *out_len)
{
  sp_cbor_writer w;
  size_t i;

  if ((d == NULL && n > 0) || out_len == NULL)
    return SP_ERR_INVALID_ARG;
  sp_cbor_writer_init (&w, out, cap);
  sp_cbor_put_map (&w, n);
  for (i = 0; i < n; i++)
    {
      if (!key_ok (&d[i].key) || d[i].digest == NULL ||
          !keys_rise (i > 0 ? &d[i - 1].key : NULL, &d[i].key))
        return SP_ERR_VALUE;
      sp_cbor_put_text (&w, d[i].key.ptr, d[i].key.len);
      sp_cbor_put_bytes (&w, d[i].digest, SP_MSG_DIGEST_LEN);
    }
  return sp_cbor_writer_finish (&w, out_len);
}

/* ------------------------------------------------------------------ */
/* Arguments                                                           */
/* ------------------------------------------------------------------ */

static const field apply_fields[] = {
  FLD (SP_MSG_APPLY_VERSION, F_UINT, sp_msg_apply_args, config_version),
  FLD2 (SP_MSG_APPLY_VALUES, F_VALUES, sp_msg_apply_args, values, n_values),
  FLD2 (SP_MSG_APPLY_DIGESTS, F_DIGESTS, sp_msg_apply_args, digests, n_digests),
  FLD (SP_MSG_APPLY_PROFILE, F_TEXT64, sp_msg_apply_args, profile),
  FLD (SP_MSG_APPLY_PROFILE_DIGEST, F_B32, sp_msg_apply_args, profile_digest),
  OPT (SP_MSG_APPLY_FIRMWARE_DIGEST, F_B32, sp_msg_apply_args, firmware_digest),
};

sp_err
sp_msg_apply_args_decode (const uint8_t *buf, size_t len, sp_cbor_item *items,
                          size_t max_items, sp_msg_apply_args *a)
{
  sp_err err;

  if (a == NULL)
    return SP_ERR_INVALID_ARG;
  memset (a, 0, sizeof *a);
  if (items == NULL)
    return SP_ERR_INVALID_ARG;
  err = decode_fields (buf, len, items, max_items, apply_fields,
                       N_OF (apply_fields), a);
  if (err != SP_OK)
    memset (a, 0, sizeof *a);
  return err;
}

/* Write fields as a whole map into out, then decode it with check. */
static sp_err
encode_map (const field *f, size_t n, const void *src, uint8_t *out,
            size_t cap, size_t *out_len)
{
  sp_cbor_writer w;

  if (out_len == NULL || (out == NULL && cap > 0))
    return SP_ERR_INVALID_ARG;
  sp_cbor_writer_init (&w, out, cap);
  sp_cbor_put_map (&w, count_present (f, n, src));
  write_fields (&w, f, n, src);
  return sp_cbor_writer_finish (&w, out_len);
}

sp_err
sp_msg_apply_args_encode (const sp_msg_apply_args *a, uint8_t *out,
                          size_t cap, size_t *out_len)
{
  sp_cbor_item items[TOOL_ITEMS];
  sp_msg_apply_args check;
  sp_err err;

  if (a == NULL)
    return SP_ERR_INVALID_ARG;
  err = encode_map (apply_fields, N_OF (apply_fields), a, out, cap, out_len);
  if (err == SP_OK &&
      sp_msg_apply_args_decode (out, *out_len, items, TOOL_ITEMS, &check) != SP_OK)
    err = SP_ERR_VALUE;
  return err;
}

typedef struct commit_args {
  uint64_t version;
} commit_args;

static const field commit_fields[] = {
  FLD (SP_MSG_COMMIT_VERSION, F_UINT, commit_args, version),
};

sp_err
sp_msg_commit_args_encode (uint64_t config_version, uint8_t *out, size_t cap,
                           size_t *out_len)
{
  commit_args a;

  a.version = config_version;
  return encode_map (commit_fields, 1, &a, out, cap, out_len);
}

sp_err
sp_msg_commit_args_decode (const uint8_t *buf, size_t len, sp_cbor_item *items,
                           size_t max_items, uint64_t *config_version)
{
  commit_args a;
  sp_err err;

  if (config_version == NULL || items == NULL)
    return SP_ERR_INVALID_ARG;
  memset (&a, 0, sizeof a);
  err = decode_fields (buf, len, items, max_items, commit_fields, 1, &a);
  if (err == SP_OK)
    *config_version = a.version;
  return err;
}

sp_err
sp_msg_rollback_args_encode (uint8_t *out, size_t cap, size_t *out_len)
{
  return encode_map (NULL, 0, NULL, out, cap, out_len);
}

sp_err
sp_msg_rollback_args_decode (const uint8_t *buf, size_t len, sp_cbor_item *items,
                             size_t max_items)
{
  if (items == NULL)
    return SP_ERR_INVALID_ARG;
  return decode_fields (buf, len, items, max_items, NULL, 0, NULL);
}

typedef struct bulk_args {
  sp_msg_bytes digest;
  uint64_t size;
} bulk_args;

static const field bulk_fields[] = {
  FLD (SP_MSG_BULK_ARG_DIGEST, F_B32, bulk_args, digest),
  FLD (SP_MSG_BULK_ARG_SIZE, F_UINT, bulk_args, size),
};

sp_err
sp_msg_bulk_args_encode (const uint8_t digest[SP_MSG_DIGEST_LEN], uint64_t size,
                         uint8_t *out, size_t cap, size_t *out_len)
{
  bulk_args a;

  if (digest == NULL)
    return SP_ERR_INVALID_ARG;
  if (size == 0 || size > SP_MSG_BULK_MAX)
    return SP_ERR_VALUE;
  a.digest.ptr = digest;
  a.digest.len = SP_MSG_DIGEST_LEN;
  a.size = size;
  return encode_map (bulk_fields, N_OF (bulk_fields), &a, out, cap, out_len);
}

sp_err
sp_msg_bulk_args_decode (const uint8_t *buf, size_t len, sp_cbor_item *items,
                         size_t max_items, const uint8_t **digest, uint64_t *size)
{
  bulk_args a;
  sp_err err;

  if (digest == NULL || size == NULL || items == NULL)
    return SP_ERR_INVALID_ARG;
  memset (&a, 0, sizeof a);
  err = decode_fields (buf, len, items, max_items, bulk_fields,
                       N_OF (bulk_fields), &a);
  if (err == SP_OK && (a.size == 0 || a.size > SP_MSG_BULK_MAX))
    err = SP_ERR_VALUE;
  if (err == SP_OK)
    {
      *digest = a.digest.ptr;
      *size = a.size;
    }
  return err;
}

/* ------------------------------------------------------------------ */
/* COSE_Sign1                                                          */
/* ------------------------------------------------------------------ */

/* Is p[0..len) exactly {1: -7, 3: content_type, 4: kid} in deterministic
 * encoding -- byte for byte the header Signet writes for that kid? */
static bool
header_is_ours (const uint8_t *p, size_t len, const char *cty, const uint8_t **kid,
                size_t *kid_len)
{
  size_t cl = strlen (cty), at = 4, kl;

  /* map(3), 1, -7, 3 */
  if (cl > 255 || len < at + 2 || memcmp (p, "\xa3\x01\x26\x03", 4) != 0)
    return false;
  /* the content type: a text head in its shortest form, the text */
  if (cl < 24)
    {
      if (p[at++] != 0x60 + cl)
        return false;
    }
  else if (p[at++] != 0x78 || p[at++] != cl)
    return false;
  if (len - at < cl + 2 || memcmp (p + at, cty, cl) != 0 || p[at + cl] != 0x04)
    return false;
  at += cl + 1;
  /* 4, then the kid to the end: 1..SP_COSE_KID_MAX bytes, shortest head */
  kl = p[at] & 0x1Fu;
  if ((p[at] & 0xE0u) != 0x40 || kl == 0 || kl > 24)
    return false;
  if (kl == 24)
    {
      if (len - at < 2 || p[at + 1] < 24)
        return false;
      kl = p[++at];
    }
  at++;
  if (kl > SP_COSE_KID_MAX || len - at != kl)
    return false;
  *kid = p + at;
  *kid_len = kl;
  return true;
}

sp_err
sp_msg_sign1_decode (const uint8_t *buf, size_t len, const char *content_type,
                     sp_cbor_item *items, size_t max_items, sp_cose_sign1 *out)
{
  sp_cose_sign1 *m = out;
  sp_cbor_doc doc;
  size_t root, count, prot, unprot, payload, sig;
  uint64_t tag;
  sp_err err;

  if (out == NULL)
    return SP_ERR_INVALID_ARG;
  memset (out, 0, sizeof *out);
  if (content_type == NULL || items == NULL)
    return SP_ERR_INVALID_ARG;
  err = sp_cbor_decode (buf, len, NULL, items, max_items, &doc);
  if (err != SP_OK)
    return err;
  if (sp_cbor_get_tag (&doc, 0, &tag, &root) != SP_OK || tag != SP_COSE_SIGN1_TAG)
    return SP_ERR_COSE_TAG;
  err = sp_cbor_get_count (&doc, root, SP_CBOR_ARRAY, &count);
  if (err != SP_OK)
    return err;
  if (count != 4)
    return SP_ERR_VALUE;
  prot = root + 1;
  unprot = doc.items[prot].next;
  payload = doc.items[unprot].next;
  sig = doc.items[payload].next;
  err = sp_cbor_get_bytes (&doc, prot, &m->protected_hdr, &m->protected_len);
  if (err == SP_OK)
    err = sp_cbor_get_count (&doc, unprot, SP_CBOR_MAP, &count);
  if (err == SP_OK && count != 0)
    err = SP_ERR_COSE_HEADER;
  if (err == SP_OK)
    err = sp_cbor_get_bytes (&doc, payload, &m->payload, &m->payload_len);
  if (err == SP_OK)
    err = sp_cbor_get_bytes (&doc, sig, &m->signature, &m->signature_len);
  if (err == SP_OK &&
      !header_is_ours (m->protected_hdr, m->protected_len, content_type, &m->kid,
                       &m->kid_len))
    err = SP_ERR_COSE_HEADER;
  if (err != SP_OK)
    {
      memset (out, 0, sizeof *out);
      return err;
    }
  m->tagged = true;
  m->alg_in = SP_COSE_PROTECTED;
  m->alg_is_int = true;
  m->alg = SP_COSE_ALG_ES256;
  m->kid_in = SP_COSE_PROTECTED;
  m->cty_in = SP_COSE_PROTECTED;
  m->cty_is_text = true;
  m->cty_text = (const char *) m->protected_hdr + (strlen (content_type) < 24 ? 5 : 6);
  m->cty_len = strlen (content_type);
  return SP_OK;
}

/* Sign the payload the caller encoded at out + SP_COSE_SIGN1_OVERHEAD, in
 * place (sp_cose_sign1_sign moves it). */
static sp_err
sign_payload (const sp_crypto_port *port, const sp_key *key, size_t payload_len,
              const char *cty, const uint8_t *kid, size_t kid_len,
              uint8_t *out, size_t cap, size_t *out_len)
{
  sp_cose_sign1_params params;

  memset (&params, 0, sizeof params);
  params.kid = kid;
  params.kid_len = kid_len;
  params.content_type = cty;
  return sp_cose_sign1_sign (port, key, &params, out + SP_COSE_SIGN1_OVERHEAD,
                             payload_len, out, cap, out_len);
}

/* ------------------------------------------------------------------ */
/* Command                                                             */
/* ------------------------------------------------------------------ */

static const field command_fields[] = {
  FLD (SP_MSG_CMD_SERIAL, F_TEXT64, sp_msg_command, serial),
  FLD (SP_MSG_CMD_NONCE, F_B32, sp_msg_command, nonce),
  FLD (SP_MSG_CMD_SEQ, F_UINT, sp_msg_command, seq),
  FLD (SP_MSG_CMD_OP, F_UINT, sp_msg_command, op),
  FLD (SP_MSG_CMD_ARGS, F_MAP, sp_msg_command, args),
  FLD (SP_MSG_CMD_CTI, F_CTI, sp_msg_command, cti),
};

/* The payload's own decoder. */
static sp_err
command_payload_decode (const uint8_t *buf, size_t len, sp_cbor_item *items,
                        size_t max_items, sp_msg_command *cmd)
{
  return decode_fields (buf, len, items, max_items, command_fields,
                        N_OF (command_fields), cmd);
}

sp_err
sp_msg_command_encode (const sp_msg_command *cmd, uint8_t *out, size_t cap,
                       size_t *out_len)
{
  sp_cbor_item items[TOOL_ITEMS];
  sp_msg_command check;
  sp_err err;

  if (cmd == NULL)
    return SP_ERR_INVALID_ARG;
  err = encode_map (command_fields, N_OF (command_fields), cmd, out, cap, out_len);
  if (err == SP_OK &&
      command_payload_decode (out, *out_len, items, TOOL_ITEMS, &check) != SP_OK)
    err = SP_ERR_VALUE;
  return err;
}

sp_err
sp_msg_command_sign (const sp_crypto_port *port, const sp_key *key,
                     const sp_msg_command *cmd, uint8_t *out, size_t cap,
                     size_t *out_len)
{
  sp_cbor_item items[TOOL_ITEMS];
  sp_msg_command check;
  sp_cose_sign1 m;
  size_t len;
  sp_err err;

  if (port == NULL || key == NULL || cmd == NULL || cmd->cti.ptr == NULL ||
      out == NULL || out_len == NULL)
    return SP_ERR_INVALID_ARG;
  if (cap <= SP_COSE_SIGN1_OVERHEAD)
    return SP_ERR_BUFFER_TOO_SMALL;
  err = encode_map (command_fields, N_OF (command_fields), cmd,
                    out + SP_COSE_SIGN1_OVERHEAD, cap - SP_COSE_SIGN1_OVERHEAD, &len);
  if (err == SP_OK)
    err = sign_payload (port, key, len, SP_MSG_COMMAND_CONTENT_TYPE, cmd->cti.ptr,
                        cmd->cti.len, out, cap, out_len);
  if (err == SP_OK &&
      sp_msg_command_decode (out, *out_len, items, TOOL_ITEMS, &check, &m) != SP_OK)
    err = SP_ERR_VALUE;
  return err;
}

sp_err
sp_msg_command_decode (const uint8_t *buf, size_t len, sp_cbor_item *items,
                       size_t max_items, sp_msg_command *cmd, sp_cose_sign1 *sign1)
{
  sp_err err;

  if (cmd == NULL || sign1 == NULL)
    return SP_ERR_INVALID_ARG;
  memset (cmd, 0, sizeof *cmd);
  err = sp_msg_sign1_decode (buf, len, SP_MSG_COMMAND_CONTENT_TYPE, items,
                             max_items, sign1);
  if (err == SP_OK)
    err = command_payload_decode (sign1->payload, sign1->payload_len, items,
                                  max_items, cmd);
  if (err != SP_OK)
    {
      memset (cmd, 0, sizeof *cmd);
      memset (sign1, 0, sizeof *sign1);
      return err;
    }
  cmd->kid.ptr = sign1->kid;
  cmd->kid.len = sign1->kid_len;
  return SP_OK;
}

sp_err
sp_msg_command_verify (const sp_crypto_port *port, const uint8_t *buf,
                       size_t len, const uint8_t pub[SP_P256_PUB_LEN],
                       sp_cbor_item *items, size_t max_items,
                       sp_msg_command *cmd)
{
  sp_cose_sign1 m;
  sp_err err;

  if (port == NULL || pub == NULL || cmd == NULL)
    return SP_ERR_INVALID_ARG;
  err = sp_msg_command_decode (buf, len, items, max_items, cmd, &m);
  if (err == SP_OK)
    err = sp_cose_sign1_verify (port, &m, pub, NULL, 0);
  if (err != SP_OK)
    memset (cmd, 0, sizeof *cmd);
  return err;
}

/* ------------------------------------------------------------------ */
/* Receipt                                                             */
/* ------------------------------------------------------------------ */

static const field receipt_fields[] = {
  FLD (SP_MSG_RCPT_SERIAL, F_TEXT64, sp_msg_receipt, serial),
  FLD (SP_MSG_RCPT_NONCE, F_B32, sp_msg_receipt, nonce),
  FLD (SP_MSG_RCPT_SEQ, F_UINT, sp_msg_receipt, seq),
  FLD (SP_MSG_RCPT_COMMAND_DIGEST, F_B32, sp_msg_receipt, command_digest),
  FLD (SP_MSG_RCPT_OP, F_UINT, sp_msg_receipt, op),
  FLD (SP_MSG_RCPT_RESULT, F_UINT, sp_msg_receipt, result),
  FLD (SP_MSG_RCPT_COMMITTED, F_UINT, sp_msg_receipt, committed_version),
  FLD (SP_MSG_RCPT_PENDING, F_UINT, sp_msg_receipt, pending_version),
  FLD (SP_MSG_RCPT_CONFIG_DIGEST, F_B32, sp_msg_receipt, config_digest),
  FLD (SP_MSG_RCPT_DEVICE_TIME, F_UINT, sp_msg_receipt, device_time),
};

sp_err
sp_msg_receipt_decode (const uint8_t *payload, size_t len, sp_msg_receipt *r)
{
  sp_cbor_item items[RECEIPT_ITEMS];
  sp_err err;

  if (r == NULL)
    return SP_ERR_INVALID_ARG;
  memset (r, 0, sizeof *r);
  err = decode_fields (payload, len, items, RECEIPT_ITEMS, receipt_fields,
                       N_OF (receipt_fields), r);
  if (err != SP_OK)
    memset (r, 0, sizeof *r);
  return err;
}

/* The payload, written directly: the device's only encoder, so it takes
 * no table engine with it. */
static sp_err
write_receipt (const sp_msg_receipt *r, uint8_t *out, size_t cap, size_t *out_len)
{
  const uint64_t u[4] = { r->op, r->result, r->committed_version, r->pending_version };
  sp_cbor_writer w;
  unsigned k;

  sp_cbor_writer_init (&w, out, cap);
  sp_cbor_put_map (&w, 10);
  sp_cbor_put_uint (&w, SP_MSG_RCPT_SERIAL);
  sp_cbor_put_text (&w, r->serial.ptr, r->serial.len);
  sp_cbor_put_uint (&w, SP_MSG_RCPT_NONCE);
  sp_cbor_put_bytes (&w, r->nonce.ptr, r->nonce.len);
  sp_cbor_put_uint (&w, SP_MSG_RCPT_SEQ);
  sp_cbor_put_uint (&w, r->seq);
  sp_cbor_put_uint (&w, SP_MSG_RCPT_COMMAND_DIGEST);
  sp_cbor_put_bytes (&w, r->command_digest.ptr, r->command_digest.len);
  for (k = 0; k < 4; k++)
    {
      sp_cbor_put_uint (&w, SP_MSG_RCPT_OP + k);
      sp_cbor_put_uint (&w, u[k]);
    }
  sp_cbor_put_uint (&w, SP_MSG_RCPT_CONFIG_DIGEST);
  sp_cbor_put_bytes (&w, r->config_digest.ptr, r->config_digest.len);
  sp_cbor_put_uint (&w, SP_MSG_RCPT_DEVICE_TIME);
  sp_cbor_put_uint (&w, r->device_time);
  return sp_cbor_writer_finish (&w, out_len);
}

sp_err
sp_msg_receipt_encode (const sp_msg_receipt *r, uint8_t *out, size_t cap,
                       size_t *out_len)
{
  sp_msg_receipt check;
  sp_err err;

  if (r == NULL || out_len == NULL || (out == NULL && cap > 0))
    return SP_ERR_INVALID_ARG;
  err = write_receipt (r, out, cap, out_len);
  if (err == SP_OK && sp_msg_receipt_decode (out, *out_len, &check) != SP_OK)
    err = SP_ERR_VALUE;
  return err;
}

sp_err
sp_msg_receipt_sign (const sp_crypto_port *port, const sp_key *key,
                     const sp_msg_receipt *r, uint8_t *out, size_t cap,
                     size_t *out_len)
{
  size_t len;
  sp_err err;

  if (port == NULL || key == NULL || r == NULL || r->serial.ptr == NULL ||
      r->serial.len == 0 || r->serial.len > SP_MSG_TEXT_MAX || out == NULL ||
      out_len == NULL)
    return SP_ERR_INVALID_ARG;
  if (cap <= SP_COSE_SIGN1_OVERHEAD)
    return SP_ERR_BUFFER_TOO_SMALL;
  /* The device signs what it built itself: no decode-check here, which
   * keeps a second decoder's stack off the device. */
  err = write_receipt (r, out + SP_COSE_SIGN1_OVERHEAD, cap - SP_COSE_SIGN1_OVERHEAD,
                       &len);
  if (err == SP_OK)
    err = sign_payload (port, key, len, SP_MSG_RECEIPT_CONTENT_TYPE,
                        (const uint8_t *) r->serial.ptr, r->serial.len, out, cap,
                        out_len);
  return err;
}

sp_err
sp_msg_receipt_verify (const sp_crypto_port *port, const uint8_t *buf,
                       size_t len, const uint8_t pub[SP_P256_PUB_LEN],
                       sp_msg_receipt *r)
{
  sp_cbor_item items[RECEIPT_ITEMS];
  sp_cose_sign1 m;
  sp_err err;

  if (r == NULL)
    return SP_ERR_INVALID_ARG;
  memset (r, 0, sizeof *r);
  if (port == NULL || pub == NULL)
    return SP_ERR_INVALID_ARG;
  if (len > SP_MSG_RECEIPT_MAX)
    return SP_ERR_CBOR_TOO_LARGE;
  err = sp_msg_sign1_decode (buf, len, SP_MSG_RECEIPT_CONTENT_TYPE, items,
                             RECEIPT_ITEMS, &m);
  if (err == SP_OK)
    err = sp_cose_sign1_verify (port, &m, pub, NULL, 0);
  if (err == SP_OK)
    err = sp_msg_receipt_decode (m.payload, m.payload_len, r);
  if (err == SP_OK &&
      (r->serial.len != m.kid_len || memcmp (r->serial.ptr, m.kid, m.kid_len) != 0))
    err = SP_ERR_COSE_HEADER;
  if (err != SP_OK)
    memset (r, 0, sizeof *r);
  return err;
}
