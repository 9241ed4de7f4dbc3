/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-cbor.c: deterministic CBOR writer and strict, bounded decoder.
 *
 * The writer is libcbor's allocation-free cbor_encode_* (shortest-form
 * heads). The decoder reads heads itself (RFC 8949 §3) and does not use
 * libcbor at all. It used to parse each head with cbor_stream_decode ()
 * and then re-read it, because libcbor 0.8:
 *
 *  - returns CBOR_DECODER_ERROR, with no detail, for reserved additional
 *    info, indefinite integers and tags, unassigned simple values and
 *    every two-byte simple value, where we want one sp_err per reason;
 *  - refuses the well-formed one-byte tag heads 0xC6..0xD4 (tags 6..20,
 *    "unassigned" in RFC 7049) -- and tag 18 is COSE_Sign1;
 *  - passes lengths as size_t, truncating 64-bit lengths on a 32-bit
 *    device, and reports a string longer than the input only as
 *    CBOR_DECODER_NEDATA with a `required` that wraps near 2^64.
 *
 * With every head re-read anyway, the callback pass only cost time (it
 * was half of event-log verification). The native reader keeps the
 * errors, their precedence and err_offset exactly as they were; the old
 * and new decoders were compared on every corpus file and millions of
 * random and mutated inputs before the old one was removed. (One 32-bit
 * difference: an array or map count above 2^32 is now SP_ERR_CBOR_TOO_LONG,
 * where the cross-check against libcbor's truncated count gave MALFORMED.)
 */
#include "sp-cbor.h"

#include <string.h>

#include <cbor/encoding.h>

const sp_cbor_limits sp_cbor_limits_default = {
  .max_size = SP_CBOR_DEFAULT_MAX_SIZE,
  .max_depth = SP_CBOR_DEFAULT_MAX_DEPTH,
  .max_items = SP_CBOR_DEFAULT_MAX_ITEMS,
  .max_string_len = SP_CBOR_DEFAULT_MAX_STRING_LEN,
  .max_container_len = SP_CBOR_DEFAULT_MAX_CONTAINER_LEN,
  .deterministic = true,
};

/* ------------------------------------------------------------------ */
/* UTF-8                                                               */
/* ------------------------------------------------------------------ */

bool
sp_cbor_utf8_valid (const uint8_t *p, size_t len)
{
  size_t i = 0;

  while (i < len)
    {
      uint8_t c = p[i];
      uint8_t lo = 0x80, hi = 0xBF;
      size_t n, k;

      if (c < 0x80)
        {
          uint64_t w;

          /* Most text is ASCII: skip it a word at a time. */
          i++;
          while (len - i >= 8)
            {
              memcpy (&w, p + i, 8);
              if ((w & UINT64_C (0x8080808080808080)) != 0)
                break;
              i += 8;
            }
          continue;
        }
      /* RFC 3629 §4: the second byte's range is what excludes overlong
       * forms (E0, F0), surrogates (ED) and code points past U+10FFFF
       * (F4); C0, C1 and F5..FF never start a sequence. */
      if (c >= 0xC2 && c <= 0xDF)
        n = 1;
      else if (c >= 0xE0 && c <= 0xEF)
        {
          n = 2;
          if (c == 0xE0)
            lo = 0xA0;
          else if (c == 0xED)
            hi = 0x9F;
        }
      else if (c >= 0xF0 && c <= 0xF4)
        {
          n = 3;
          if (c == 0xF0)
            lo = 0x90;
          else if (c == 0xF4)
            hi = 0x8F;
        }
      else
        return false;

      if (len - i - 1 < n)
        return false;
      if (p[i + 1] < lo || p[i + 1] > hi)
        return false;
      for (k = 2; k <= n; k++)
        if ((p[i + k] & 0xC0) != 0x80)
          return false;
      i += n + 1;
    }
  return true;
}

/* ------------------------------------------------------------------ */
/* Writer                                                              */
/* ------------------------------------------------------------------ */

void
sp_cbor_writer_init (sp_cbor_writer *w, uint8_t *buf, size_t cap)
{
  w->buf = buf;
  w->cap = buf != NULL ? cap : 0;
  w->len = 0;
  w->err = SP_OK;
}

/* Where the next bytes go, or NULL (and the sticky error) if the writer
 * already failed or is full. Never forms buf + len on a NULL buf. */
static unsigned char *
writer_room (sp_cbor_writer *w, size_t *room)
{
  if (w->err != SP_OK)
    return NULL;
  if (w->len >= w->cap)
    {
      w->err = SP_ERR_BUFFER_TOO_SMALL;
      return NULL;
    }
  *room = w->cap - w->len;
  return w->buf + w->len;
}

/* libcbor's encoders return 0 when the item does not fit. */
static void
writer_advance (sp_cbor_writer *w, size_t written)
{
  if (written == 0)
    w->err = SP_ERR_BUFFER_TOO_SMALL;
  else
    w->len += written;
}

static void
writer_copy (sp_cbor_writer *w, const void *p, size_t len)
{
  if (w->err != SP_OK || len == 0)
    return;
  if (len > w->cap - w->len)
    {
      w->err = SP_ERR_BUFFER_TOO_SMALL;
      return;
    }
  memcpy (w->buf + w->len, p, len);
  w->len += len;
}

void
sp_cbor_put_uint (sp_cbor_writer *w, uint64_t v)
{
  size_t room;
  unsigned char *at = writer_room (w, &room);

  if (at != NULL)
    writer_advance (w, cbor_encode_uint (v, at, room));
}

void
sp_cbor_put_nint (sp_cbor_writer *w, uint64_t n)
{
  size_t room;
  unsigned char *at = writer_room (w, &room);

  if (at != NULL)
    writer_advance (w, cbor_encode_negint (n, at, room));
}

void
sp_cbor_put_int (sp_cbor_writer *w, int64_t v)
{
  if (v >= 0)
    sp_cbor_put_uint (w, (uint64_t) v);
  else
    /* -1 - v without overflow: INT64_MIN + 1 is representable. */
    sp_cbor_put_nint (w, (uint64_t) (-(v + 1)));
}

void
sp_cbor_put_bytes_head (sp_cbor_writer *w, size_t len)
{
  size_t room;
  unsigned char *at = writer_room (w, &room);

  if (at != NULL)
    writer_advance (w, cbor_encode_bytestring_start (len, at, room));
}

void
sp_cbor_put_bytes (sp_cbor_writer *w, const void *p, size_t len)
{
  sp_cbor_put_bytes_head (w, len);
  writer_copy (w, p, len);
}

void
sp_cbor_put_text (sp_cbor_writer *w, const char *p, size_t len)
{
  size_t room;
  unsigned char *at;

  if (w->err != SP_OK)
    return;
  if (len > 0 && !sp_cbor_utf8_valid ((const uint8_t *) p, len))
    {
      w->err = SP_ERR_CBOR_INVALID_UTF8;
      return;
    }
  at = writer_room (w, &room);
  if (at == NULL)
    return;
  writer_advance (w, cbor_encode_string_start (len, at, room));
  writer_copy (w, p, len);
}

void
sp_cbor_put_textz (sp_cbor_writer *w, const char *s)
{
  sp_cbor_put_text (w, s, strlen (s));
}

void
sp_cbor_put_array (sp_cbor_writer *w, size_t n)
{
  size_t room;
  unsigned char *at = writer_room (w, &room);

  if (at != NULL)
    writer_advance (w, cbor_encode_array_start (n, at, room));
}

void
sp_cbor_put_map (sp_cbor_writer *w, size_t n_pairs)
{
  size_t room;
  unsigned char *at = writer_room (w, &room);

  if (at != NULL)
    writer_advance (w, cbor_encode_map_start (n_pairs, at, room));
}

void
sp_cbor_put_tag (sp_cbor_writer *w, uint64_t tag)
{
  size_t room;
  unsigned char *at = writer_room (w, &room);

  if (at != NULL)
    writer_advance (w, cbor_encode_tag (tag, at, room));
}

void
sp_cbor_put_bool (sp_cbor_writer *w, bool v)
{
  size_t room;
  unsigned char *at = writer_room (w, &room);

  if (at != NULL)
    writer_advance (w, cbor_encode_bool (v, at, room));
}

void
sp_cbor_put_null (sp_cbor_writer *w)
{
  size_t room;
  unsigned char *at = writer_room (w, &room);

  if (at != NULL)
    writer_advance (w, cbor_encode_null (at, room));
}

void
sp_cbor_put_raw (sp_cbor_writer *w, const void *p, size_t len)
{
  writer_copy (w, p, len);
}

sp_err
sp_cbor_writer_finish (const sp_cbor_writer *w, size_t *out_len)
{
  if (w->err != SP_OK)
    return w->err;
  if (out_len != NULL)
    *out_len = w->len;
  return SP_OK;
}

/* ------------------------------------------------------------------ */
/* Decoder                                                             */
/* ------------------------------------------------------------------ */

/* One decoded head. */
typedef struct dec_head {
  sp_cbor_type type;
  uint64_t arg;
  size_t head_len;   /* initial byte + argument bytes */
  size_t total;      /* head_len, plus the payload for strings */
} dec_head;

/* An open container (or tag) waiting for children. */
typedef struct dec_frame {
  size_t item;
  uint64_t left;     /* children still to come (2 per map pair) */
  size_t last_key;   /* previous key of a map, or SP_CBOR_NONE */
  bool want_key;     /* the next child of a map is a key */
} dec_frame;

typedef struct dec_state {
  const uint8_t *buf;
  size_t len;
  size_t pos;
  const sp_cbor_limits *limits;
  sp_cbor_item *items;
  size_t n_items;
  size_t item_cap;
  dec_frame stack[SP_CBOR_DEPTH_MAX];
  size_t depth;
} dec_state;

/* True if t[0..n), n <= 16, is ASCII: most text in a message (map keys,
 * names) is, and this settles it without a call or a byte loop. */
static bool
short_ascii (const uint8_t *t, size_t n)
{
  uint64_t a, b;
  uint8_t acc = 0;
  size_t i;

  if (n >= 8)
    {
      /* Two words, overlapping when n < 16. */
      memcpy (&a, t, 8);
      memcpy (&b, t + n - 8, 8);
      return ((a | b) & UINT64_C (0x8080808080808080)) == 0;
    }
  for (i = 0; i < n; i++)
    acc |= t[i];
  return acc < 0x80;
}

/* The size of the shortest head carrying arg. */
static size_t
minimal_head_len (uint64_t arg)
{
  if (arg < 24)
    return 1;
  if (arg <= 0xFFu)
    return 2;
  if (arg <= 0xFFFFu)
    return 3;
  if (arg <= 0xFFFFFFFFu)
    return 5;
  return 9;
}

/* Major type 7 with additional info 0..23: the simple values. Only
 * false (20), true (21) and null (22) are accepted; 0..19 are unassigned
 * and 23 is undefined. */
static sp_err
read_simple (unsigned ai, dec_head *h)
{
  switch (ai)
    {
    case 20:
    case 21:
      h->type = SP_CBOR_BOOL;
      h->arg = ai - 20;
      return SP_OK;
    case 22:
      h->type = SP_CBOR_NULL;
      h->arg = 0;
      return SP_OK;
    default:
      return SP_ERR_CBOR_UNSUPPORTED;
    }
}

/* Read the head at d->pos (RFC 8949 §3), with at least one byte
 * available, and refuse what the subset excludes. The checks run in a
 * fixed order, which decides the error when a head breaks several rules:
 * reserved or indefinite additional info, missing argument bytes, a string
 * over the limit, a string payload past the input, a head that is not the
 * shortest form. Container counts are checked by the caller. */
static sp_err
read_head (const dec_state *d, dec_head *h)
{
  const uint8_t *p = d->buf + d->pos;
  size_t avail = d->len - d->pos;
  unsigned major = p[0] >> 5;
  unsigned ai = p[0] & 0x1Fu;
  uint64_t arg;
  size_t head_len;

  if (ai < 24)
    {
      arg = ai;
      head_len = 1;
    }
  else if (ai < 28)
    {
      size_t n = (size_t) 1 << (ai - 24), i;

      if (avail - 1 < n)
        return SP_ERR_CBOR_TRUNCATED;
      arg = 0;
      for (i = 1; i <= n; i++)
        arg = (arg << 8) | p[i];
      head_len = 1 + n;
    }
  else if (ai == 31 && major >= 2 && major <= 5)
    return SP_ERR_CBOR_INDEFINITE;
  else
    /* 28..30 are reserved; 31 on an integer or a tag has no meaning, and
     * 0xFF is a break, stray since we never open an indefinite item. */
    return SP_ERR_CBOR_MALFORMED;

  h->head_len = head_len;
  h->total = head_len;
  h->arg = arg;

  switch (major)
    {
    case 2:
    case 3:
      if (arg > d->limits->max_string_len)
        return SP_ERR_CBOR_TOO_LONG;
      if (arg > avail - head_len)
        return SP_ERR_CBOR_TRUNCATED;
      h->total = head_len + (size_t) arg;
      break;
    case 7:
      if (ai < 24)
        return read_simple (ai, h);
      /* RFC 8949 §3.3: 0xF8 with a value below 32 is not well formed;
       * 32..255 are unassigned simple values; 0xF9..0xFB are floats. */
      if (ai == 24 && arg < 32)
        return SP_ERR_CBOR_MALFORMED;
      return SP_ERR_CBOR_UNSUPPORTED;
    default:
      break;
    }

  /* Majors 0..6 map one to one onto sp_cbor_type. */
  h->type = (sp_cbor_type) major;
  if (ai >= 24 && head_len != minimal_head_len (arg))
    return SP_ERR_CBOR_NON_MINIMAL;
  return SP_OK;
}

/* Bytewise comparison of two encoded items (RFC 8949 §4.2.1). A complete
 * encoding is never a proper prefix of another, so the length only breaks
 * ties that cannot happen; it keeps the order total anyway. */
static int
compare_encoded (const dec_state *d, size_t a, size_t b)
{
  const sp_cbor_item *ia = &d->items[a];
  const sp_cbor_item *ib = &d->items[b];
  size_t la = ia->end - ia->offset;
  size_t lb = ib->end - ib->offset;
  int c;

  /* Sorted keys of different lengths or types differ in their first
   * byte (the head): settle those without a call. */
  if (d->buf[ia->offset] != d->buf[ib->offset])
    return d->buf[ia->offset] < d->buf[ib->offset] ? -1 : 1;
  c = memcmp (d->buf + ia->offset, d->buf + ib->offset, la < lb ? la : lb);
  if (c != 0)
    return c;
  return la < lb ? -1 : la > lb;
}

/* A map key just completed. Because heads are shortest-form, equal keys
 * have equal encodings, so comparing bytes finds duplicates of any type. */
static sp_err
check_key (const dec_state *d, const dec_frame *f, size_t key)
{
  size_t k;

  if (f->last_key == SP_CBOR_NONE)
    return SP_OK;
  /* Keys in strictly increasing order cannot repeat one another. */
  if (d->limits->deterministic && compare_encoded (d, f->last_key, key) < 0)
    return SP_OK;

  /* Walk the earlier keys: key, skip its value, next key... */
  for (k = f->item + 1; k < key; k = d->items[d->items[k].next].next)
    if (compare_encoded (d, k, key) == 0)
      return SP_ERR_CBOR_DUPLICATE_KEY;

  return d->limits->deterministic ? SP_ERR_CBOR_UNSORTED_KEYS : SP_OK;
}

/* Item idx (and so its subtree) ends at d->pos: close it, then every
 * container it completes. */
static sp_err
complete_item (dec_state *d, size_t idx)
{
  for (;;)
    {
      dec_frame *f;
      sp_err err;

      d->items[idx].end = (uint32_t) d->pos;
      d->items[idx].next = (uint32_t) d->n_items;
      if (d->depth == 0)
        return SP_OK;

      f = &d->stack[d->depth - 1];
      if (d->items[f->item].type == SP_CBOR_MAP)
        {
          if (f->want_key)
            {
              err = check_key (d, f, idx);
              if (err != SP_OK)
                return err;
              f->last_key = idx;
            }
          f->want_key = !f->want_key;
        }
      if (--f->left > 0)
        return SP_OK;
      idx = f->item;
      d->depth--;
    }
}

static sp_err
decode_one (dec_state *d)
{
  dec_head h;
  sp_cbor_item *it;
  uint64_t children = 0;
  size_t idx;
  sp_err err;

  if (d->pos >= d->len)
    return SP_ERR_CBOR_TRUNCATED;
  if (d->n_items >= d->item_cap)
    return SP_ERR_CBOR_TOO_MANY_ITEMS;

  err = read_head (d, &h);
  if (err != SP_OK)
    return err;

  switch (h.type)
    {
    case SP_CBOR_TEXT:
      {
        const uint8_t *t = d->buf + d->pos + h.head_len;
        size_t n = (size_t) h.arg;

        if (!(n <= 16 && short_ascii (t, n)) && !sp_cbor_utf8_valid (t, n))
          return SP_ERR_CBOR_INVALID_UTF8;
      }
      break;
    case SP_CBOR_ARRAY:
    case SP_CBOR_MAP:
      if (h.arg > d->limits->max_container_len)
        return SP_ERR_CBOR_TOO_LONG;
      /* Every child takes at least one byte: a count the rest of the
       * input cannot hold is truncated, and bounding it by the input
       * length also keeps 2 * pairs from overflowing. */
      if (h.arg > d->len - d->pos - h.total ||
          (h.type == SP_CBOR_MAP && h.arg > (d->len - d->pos - h.total) / 2))
        return SP_ERR_CBOR_TRUNCATED;
      children = h.type == SP_CBOR_MAP ? 2 * h.arg : h.arg;
      break;
    case SP_CBOR_TAG:
      children = 1;
      break;
    case SP_CBOR_UINT:
    case SP_CBOR_NINT:
    case SP_CBOR_BYTES:
    case SP_CBOR_BOOL:
    case SP_CBOR_NULL:
    default:
      break;
    }

  if (children > 0 && d->depth >= d->limits->max_depth)
    return SP_ERR_CBOR_TOO_DEEP;

  idx = d->n_items++;
  it = &d->items[idx];
  it->type = (uint8_t) h.type;
  it->value = h.arg;
  it->offset = (uint32_t) d->pos;
  it->payload = (uint32_t) (d->pos + h.head_len);
  /* total <= len - pos (checked in read_head), and len fits in 32 bits. */
  d->pos += h.total;
  it->end = (uint32_t) d->pos;
  it->next = (uint32_t) d->n_items;

  if (children == 0)
    return complete_item (d, idx);

  d->stack[d->depth].item = idx;
  d->stack[d->depth].left = children;
  d->stack[d->depth].last_key = SP_CBOR_NONE;
  d->stack[d->depth].want_key = h.type == SP_CBOR_MAP;
  d->depth++;
  return SP_OK;
}

/* Decode the item at the start of buf[0..len); with prefix, bytes may
 * follow it and *out_len says where it ends. */
static sp_err
decode (const uint8_t *buf, size_t len, const sp_cbor_limits *limits,
        sp_cbor_item *items, size_t max_items, sp_cbor_doc *doc, bool prefix,
        size_t *out_len)
{
  dec_state d;
  sp_err err;

  if (doc == NULL)
    return SP_ERR_INVALID_ARG;
  memset (doc, 0, sizeof *doc);
  if (limits == NULL)
    limits = &sp_cbor_limits_default;
  if ((buf == NULL && len > 0) || items == NULL ||
      limits->max_depth > SP_CBOR_DEPTH_MAX)
    return SP_ERR_INVALID_ARG;
  if (prefix)
    {
      /* The item may only use what a whole input could hold. */
      if (len > limits->max_size)
        len = limits->max_size;
      if (len > SP_CBOR_SIZE_MAX)
        len = SP_CBOR_SIZE_MAX;
    }
  else if (len > limits->max_size || len > SP_CBOR_SIZE_MAX)
    return SP_ERR_CBOR_TOO_LARGE;

  /* Not the stack: a frame is written before it is read, and clearing
   * all SP_CBOR_DEPTH_MAX of them was a sixth of decoding a small item. */
  d.buf = buf;
  d.len = len;
  d.pos = 0;
  d.limits = limits;
  d.items = items;
  d.n_items = 0;
  d.item_cap = max_items < limits->max_items ? max_items : limits->max_items;
  d.depth = 0;

  do
    {
      err = decode_one (&d);
      if (err != SP_OK)
        {
          doc->err_offset = d.pos;
          return err;
        }
    }
  while (d.depth > 0);

  if (!prefix && d.pos != len)
    {
      doc->err_offset = d.pos;
      return SP_ERR_CBOR_TRAILING;
    }

  doc->buf = buf;
  doc->len = d.pos;
  doc->items = items;
  doc->n_items = d.n_items;
  if (out_len != NULL)
    *out_len = d.pos;
  return SP_OK;
}

sp_err
sp_cbor_decode (const uint8_t *buf, size_t len, const sp_cbor_limits *limits,
                sp_cbor_item *items, size_t max_items, sp_cbor_doc *doc)
{
  return decode (buf, len, limits, items, max_items, doc, false, NULL);
}

sp_err
sp_cbor_decode_prefix (const uint8_t *buf, size_t len,
                       const sp_cbor_limits *limits, sp_cbor_item *items,
                       size_t max_items, sp_cbor_doc *doc, size_t *out_len)
{
  if (out_len == NULL)
    return SP_ERR_INVALID_ARG;
  return decode (buf, len, limits, items, max_items, doc, true, out_len);
}

/* ------------------------------------------------------------------ */
/* Navigation                                                          */
/* ------------------------------------------------------------------ */

static const sp_cbor_item *
doc_item (const sp_cbor_doc *doc, size_t idx)
{
  if (doc == NULL || doc->items == NULL || idx >= doc->n_items)
    return NULL;
  return &doc->items[idx];
}

sp_cbor_type
sp_cbor_item_type (const sp_cbor_doc *doc, size_t idx)
{
  const sp_cbor_item *it = doc_item (doc, idx);

  /* An out-of-range index has no type; NULL is the least useful answer
   * to act on by mistake. */
  return it != NULL ? (sp_cbor_type) it->type : SP_CBOR_NULL;
}

/* The item, if it exists and has type; *err says why not. */
static const sp_cbor_item *
typed_item (const sp_cbor_doc *doc, size_t idx, sp_cbor_type type, sp_err *err)
{
  const sp_cbor_item *it = doc_item (doc, idx);

  if (it == NULL)
    {
      *err = SP_ERR_INVALID_ARG;
      return NULL;
    }
  if (it->type != type)
    {
      *err = SP_ERR_TYPE;
      return NULL;
    }
  *err = SP_OK;
  return it;
}

sp_err
sp_cbor_get_raw (const sp_cbor_doc *doc, size_t idx, const uint8_t **p,
                 size_t *len)
{
  const sp_cbor_item *it = doc_item (doc, idx);

  if (it == NULL)
    return SP_ERR_INVALID_ARG;
  *p = doc->buf + it->offset;
  *len = it->end - it->offset;
  return SP_OK;
}

sp_err
sp_cbor_get_uint (const sp_cbor_doc *doc, size_t idx, uint64_t *v)
{
  sp_err err;
  const sp_cbor_item *it = typed_item (doc, idx, SP_CBOR_UINT, &err);

  if (it != NULL)
    *v = it->value;
  return err;
}

sp_err
sp_cbor_get_int (const sp_cbor_doc *doc, size_t idx, int64_t *v)
{
  const sp_cbor_item *it = doc_item (doc, idx);

  if (it == NULL)
    return SP_ERR_INVALID_ARG;
  if (it->type == SP_CBOR_UINT)
    {
      if (it->value > (uint64_t) INT64_MAX)
        return SP_ERR_VALUE;
      *v = (int64_t) it->value;
      return SP_OK;
    }
  if (it->type == SP_CBOR_NINT)
    {
      /* -1 - n >= INT64_MIN  <=>  n <= INT64_MAX */
      if (it->value > (uint64_t) INT64_MAX)
        return SP_ERR_VALUE;
      *v = -1 - (int64_t) it->value;
      return SP_OK;
    }
  return SP_ERR_TYPE;
}

sp_err
sp_cbor_get_bytes (const sp_cbor_doc *doc, size_t idx, const uint8_t **p,
                   size_t *len)
{
  sp_err err;
  const sp_cbor_item *it = typed_item (doc, idx, SP_CBOR_BYTES, &err);

  if (it != NULL)
    {
      *p = doc->buf + it->payload;
      *len = (size_t) it->value;
    }
  return err;
}

sp_err
sp_cbor_get_text (const sp_cbor_doc *doc, size_t idx, const char **p,
                  size_t *len)
{
  sp_err err;
  const sp_cbor_item *it = typed_item (doc, idx, SP_CBOR_TEXT, &err);

  if (it != NULL)
    {
      *p = (const char *) (doc->buf + it->payload);
      *len = (size_t) it->value;
    }
  return err;
}

sp_err
sp_cbor_get_bool (const sp_cbor_doc *doc, size_t idx, bool *v)
{
  sp_err err;
  const sp_cbor_item *it = typed_item (doc, idx, SP_CBOR_BOOL, &err);

  if (it != NULL)
    *v = it->value != 0;
  return err;
}

sp_err
sp_cbor_get_null (const sp_cbor_doc *doc, size_t idx)
{
  sp_err err;

  typed_item (doc, idx, SP_CBOR_NULL, &err);
  return err;
}

sp_err
sp_cbor_get_tag (const sp_cbor_doc *doc, size_t idx, uint64_t *tag,
                 size_t *content)
{
  sp_err err;
  const sp_cbor_item *it = typed_item (doc, idx, SP_CBOR_TAG, &err);

  if (it != NULL)
    {
      if (tag != NULL)
        *tag = it->value;
      if (content != NULL)
        *content = idx + 1;
    }
  return err;
}

sp_err
sp_cbor_get_count (const sp_cbor_doc *doc, size_t idx, sp_cbor_type type,
                   size_t *count)
{
  sp_err err;
  const sp_cbor_item *it;

  if (type != SP_CBOR_ARRAY && type != SP_CBOR_MAP)
    return SP_ERR_INVALID_ARG;
  it = typed_item (doc, idx, type, &err);
  if (it != NULL)
    /* A decoded count is bounded by the input length, so it fits. */
    *count = (size_t) it->value;
  return err;
}

static bool
text_equals (const sp_cbor_doc *doc, const sp_cbor_item *it, const char *s,
             size_t len)
{
  return it->type == SP_CBOR_TEXT && it->value == len &&
         (len == 0 || memcmp (doc->buf + it->payload, s, len) == 0);
}

bool
sp_cbor_text_equals (const sp_cbor_doc *doc, size_t idx, const char *s)
{
  const sp_cbor_item *it = doc_item (doc, idx);

  return it != NULL && s != NULL && text_equals (doc, it, s, strlen (s));
}

static bool
int_equals (const sp_cbor_item *it, int64_t key)
{
  if (key >= 0)
    return it->type == SP_CBOR_UINT && it->value == (uint64_t) key;
  return it->type == SP_CBOR_NINT && it->value == (uint64_t) (-(key + 1));
}

sp_err
sp_cbor_iter_init (sp_cbor_iter *it, const sp_cbor_doc *doc, size_t container,
                   sp_cbor_type type)
{
  size_t count;
  sp_err err = sp_cbor_get_count (doc, container, type, &count);

  if (err != SP_OK)
    return err;
  it->doc = doc;
  it->next = container + 1;
  it->left = type == SP_CBOR_MAP ? 2 * count : count;
  return SP_OK;
}

bool
sp_cbor_iter_next (sp_cbor_iter *it, size_t *child)
{
  if (it->left == 0 || it->next >= it->doc->n_items)
    return false;
  *child = it->next;
  it->next = it->doc->items[it->next].next;
  it->left--;
  return true;
}

bool
sp_cbor_iter_next_pair (sp_cbor_iter *it, size_t *key, size_t *value)
{
  if (it->left < 2)
    return false;
  return sp_cbor_iter_next (it, key) && sp_cbor_iter_next (it, value);
}

sp_err
sp_cbor_map_find_int (const sp_cbor_doc *doc, size_t map, int64_t key,
                      size_t *value)
{
  sp_cbor_iter it;
  size_t k, v;
  sp_err err = sp_cbor_iter_init (&it, doc, map, SP_CBOR_MAP);

  if (err != SP_OK)
    return err;
  while (sp_cbor_iter_next_pair (&it, &k, &v))
    if (int_equals (&doc->items[k], key))
      {
        *value = v;
        return SP_OK;
      }
  return SP_ERR_MISSING;
}

sp_err
sp_cbor_map_find_text (const sp_cbor_doc *doc, size_t map, const char *key,
                       size_t *value)
{
  sp_cbor_iter it;
  size_t k, v, key_len;
  sp_err err = sp_cbor_iter_init (&it, doc, map, SP_CBOR_MAP);

  if (err != SP_OK)
    return err;
  if (key == NULL)
    return SP_ERR_INVALID_ARG;
  key_len = strlen (key);
  while (sp_cbor_iter_next_pair (&it, &k, &v))
    if (text_equals (doc, &doc->items[k], key, key_len))
      {
        *value = v;
        return SP_OK;
      }
  return SP_ERR_MISSING;
}

sp_err
sp_cbor_map_check_keys (const sp_cbor_doc *doc, size_t map,
                        const sp_cbor_key *allowed, size_t n_allowed)
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

      for (i = 0; i < n_allowed && !known; i++)
        {
          if (allowed[i].text != NULL)
            known = text_equals (doc, key, allowed[i].text,
                                 strlen (allowed[i].text));
          else
            known = int_equals (key, allowed[i].num);
        }
      if (!known)
        return SP_ERR_UNKNOWN_FIELD;
    }
  return SP_OK;
}
