/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-revocation.c: the signed revocation list, encoded, signed, verified
 * and searched without a heap.
 */
#include "sp-revocation.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* Order                                                               */
/* ------------------------------------------------------------------ */

/* The RFC 8949 §4.2.1 order of two entries of the same kind: their
 * encodings differ first in the length in the head, so a shorter entry
 * comes first; entries of one length compare bytewise. */
static int
view_compare (const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
  if (a_len != b_len)
    return a_len < b_len ? -1 : 1;
  return a_len == 0 ? 0 : memcmp (a, b, a_len);
}

static int
compare (const sp_revocation_view *a, const sp_revocation_view *b)
{
  return view_compare (a->ptr, a->len, b->ptr, b->len);
}

static void
sift_down (sp_revocation_view *v, size_t root, size_t n)
{
  for (;;)
    {
      size_t child = 2 * root + 1;
      sp_revocation_view t;

      if (child >= n)
        return;
      if (child + 1 < n && compare (&v[child], &v[child + 1]) < 0)
        child++;
      if (compare (&v[root], &v[child]) >= 0)
        return;
      t = v[root];
      v[root] = v[child];
      v[child] = t;
      root = child;
    }
}

size_t
sp_revocation_sort (sp_revocation_view *v, size_t n)
{
  size_t i, out;

  if (v == NULL || n < 2)
    return v == NULL ? 0 : n;

  /* Heapsort: O(n log n), no recursion, no extra memory -- what a
   * device can afford as well as the service. */
  for (i = n / 2; i-- > 0;)
    sift_down (v, i, n);
  for (i = n - 1; i > 0; i--)
    {
      sp_revocation_view t = v[0];

      v[0] = v[i];
      v[i] = t;
      sift_down (v, 0, i);
    }

  for (i = 1, out = 1; i < n; i++)
    if (compare (&v[out - 1], &v[i]) != 0)
      v[out++] = v[i];
  return out;
}

/* ------------------------------------------------------------------ */
/* Encode and sign                                                     */
/* ------------------------------------------------------------------ */

static size_t
max_entry_len (sp_revocation_kind kind)
{
  return kind == SP_REVOCATION_CTI ? SP_REVOCATION_CTI_MAX
                                   : SP_REVOCATION_TEXT_MAX;
}

/* What the decoder would refuse, refused before writing anything. */
static sp_err
check_array (sp_revocation_kind kind, const sp_revocation_view *v, size_t n)
{
  size_t i;

  if (n > SP_REVOCATION_MAX_ENTRIES)
    return SP_ERR_VALUE;
  if (v == NULL && n > 0)
    return SP_ERR_INVALID_ARG;
  for (i = 0; i < n; i++)
    {
      if (v[i].ptr == NULL && v[i].len > 0)
        return SP_ERR_INVALID_ARG;
      if (v[i].len == 0 || v[i].len > max_entry_len (kind))
        return SP_ERR_VALUE;
      if (kind != SP_REVOCATION_CTI && !sp_cbor_utf8_valid (v[i].ptr, v[i].len))
        return SP_ERR_VALUE;
      if (i > 0 && compare (&v[i - 1], &v[i]) >= 0)
        return SP_ERR_VALUE;  /* unsorted or duplicate */
    }
  return SP_OK;
}

static void
put_array (sp_cbor_writer *w, sp_revocation_kind kind,
           const sp_revocation_view *v, size_t n)
{
  size_t i;

  sp_cbor_put_uint (w, (uint64_t) kind);
  sp_cbor_put_array (w, n);
  for (i = 0; i < n; i++)
    {
      if (kind == SP_REVOCATION_CTI)
        sp_cbor_put_bytes (w, v[i].ptr, v[i].len);
      else
        sp_cbor_put_text (w, (const char *) v[i].ptr, v[i].len);
    }
}

sp_err
sp_revocation_encode (const sp_revocation_content *c, uint8_t *out,
                      size_t cap, size_t *out_len)
{
  sp_cbor_writer w;
  size_t len;
  sp_err err;

  if (c == NULL || out_len == NULL || (out == NULL && cap > 0))
    return SP_ERR_INVALID_ARG;
  if (c->iat < 0)
    return SP_ERR_VALUE;
  err = check_array (SP_REVOCATION_CTI, c->cti, c->n_cti);
  if (err == SP_OK)
    err = check_array (SP_REVOCATION_SUB, c->sub, c->n_sub);
  if (err == SP_OK)
    err = check_array (SP_REVOCATION_SERIAL, c->serial, c->n_serial);
  if (err != SP_OK)
    return err;
  /* Each count is at most the maximum, so the sum cannot overflow. */
  if (c->n_cti + c->n_sub + c->n_serial > SP_REVOCATION_MAX_ENTRIES)
    return SP_ERR_VALUE;

  sp_cbor_writer_init (&w, out, cap);
  sp_cbor_put_map (&w, 5);
  sp_cbor_put_uint (&w, SP_REVOCATION_KEY_VERSION);
  sp_cbor_put_uint (&w, c->version);
  sp_cbor_put_uint (&w, SP_REVOCATION_KEY_IAT);
  sp_cbor_put_uint (&w, (uint64_t) c->iat);
  put_array (&w, SP_REVOCATION_CTI, c->cti, c->n_cti);
  put_array (&w, SP_REVOCATION_SUB, c->sub, c->n_sub);
  put_array (&w, SP_REVOCATION_SERIAL, c->serial, c->n_serial);
  err = sp_cbor_writer_finish (&w, &len);
  if (err != SP_OK)
    return err;
  if (len > SP_REVOCATION_MAX_SIZE)
    return SP_ERR_VALUE;
  *out_len = len;
  return SP_OK;
}

sp_err
sp_revocation_sign (const sp_crypto_port *port, const sp_key *key,
                    const uint8_t *kid, size_t kid_len,
                    const sp_revocation_content *content,
                    uint8_t *out, size_t cap, size_t *out_len)
{
  sp_cose_sign1_params params;
  size_t payload_len, len;
  sp_err err;

  if (out == NULL || out_len == NULL || content == NULL)
    return SP_ERR_INVALID_ARG;
  /* Encode where no COSE prefix can reach, then let sp_cose_sign1_sign
   * move the payload into place: no second buffer. */
  if (cap <= SP_COSE_SIGN1_OVERHEAD)
    return SP_ERR_BUFFER_TOO_SMALL;
  err = sp_revocation_encode (content, out + SP_COSE_SIGN1_OVERHEAD,
                              cap - SP_COSE_SIGN1_OVERHEAD, &payload_len);
  if (err != SP_OK)
    return err;

  memset (&params, 0, sizeof params);
  params.kid = kid;
  params.kid_len = kid_len;
  params.content_type = SP_REVOCATION_CONTENT_TYPE;
  err = sp_cose_sign1_sign (port, key, &params, out + SP_COSE_SIGN1_OVERHEAD,
                            payload_len, out, cap, &len);
  if (err != SP_OK)
    return err;
  /* Never publish a list a device would refuse for its size. */
  if (len > SP_REVOCATION_MAX_SIZE)
    {
      sp_wipe (out, len);
      return SP_ERR_VALUE;
    }
  *out_len = len;
  return SP_OK;
}

/* ------------------------------------------------------------------ */
/* Decode and verify                                                   */
/* ------------------------------------------------------------------ */

/* Read the array of one kind: its first entry and count. Entries are
 * strings (leaves), so the i-th one is item first + i. */
static sp_err
read_array (const sp_cbor_doc *doc, sp_revocation_kind kind, size_t *first,
            size_t *count)
{
  sp_cbor_iter it;
  size_t arr, child, prev = SP_CBOR_NONE;
  sp_err err = sp_cbor_map_find_int (doc, 0, (int64_t) kind, &arr);

  if (err == SP_OK)
    err = sp_cbor_iter_init (&it, doc, arr, SP_CBOR_ARRAY);
  if (err != SP_OK)
    return err;
  *first = arr + 1;
  *count = it.left;
  while (sp_cbor_iter_next (&it, &child))
    {
      const sp_cbor_item *e = &doc->items[child];

      if (e->type != (kind == SP_REVOCATION_CTI ? SP_CBOR_BYTES : SP_CBOR_TEXT))
        return SP_ERR_TYPE;
      if (e->value == 0 || e->value > max_entry_len (kind))
        return SP_ERR_VALUE;
      if (prev != SP_CBOR_NONE &&
          view_compare (doc->buf + doc->items[prev].payload,
                        (size_t) doc->items[prev].value,
                        doc->buf + e->payload, (size_t) e->value) >= 0)
        return SP_ERR_VALUE;  /* unsorted or duplicate */
      prev = child;
    }
  return SP_OK;
}

sp_err
sp_revocation_decode (const uint8_t *payload, size_t len,
                      sp_cbor_item *items, size_t max_items,
                      sp_revocation_list *list)
{
  static const sp_cbor_key allowed[] = {
    SP_CBOR_KEY_INT (SP_REVOCATION_KEY_VERSION),
    SP_CBOR_KEY_INT (SP_REVOCATION_KEY_IAT),
    SP_CBOR_KEY_INT (SP_REVOCATION_KEY_CTI),
    SP_CBOR_KEY_INT (SP_REVOCATION_KEY_SUB),
    SP_CBOR_KEY_INT (SP_REVOCATION_KEY_SERIAL),
  };
  sp_cbor_limits limits;
  sp_revocation_list l;
  uint64_t iat;
  size_t v;
  sp_err err;

  if (list == NULL)
    return SP_ERR_INVALID_ARG;
  memset (list, 0, sizeof *list);
  if (items == NULL || max_items == 0)
    return SP_ERR_INVALID_ARG;
  memset (&l, 0, sizeof l);

  /* Our own limits: the defaults (64 entries per array, 16 KiB) are for
   * device-link messages; a list is one flat map of three flat arrays. */
  limits.max_size = SP_REVOCATION_MAX_SIZE;
  limits.max_depth = 2;
  limits.max_items = SP_REVOCATION_ITEMS (SP_REVOCATION_MAX_ENTRIES);
  limits.max_string_len = SP_REVOCATION_TEXT_MAX > SP_REVOCATION_CTI_MAX
                          ? SP_REVOCATION_TEXT_MAX : SP_REVOCATION_CTI_MAX;
  limits.max_container_len = SP_REVOCATION_MAX_ENTRIES;
  limits.deterministic = true;

  err = sp_cbor_decode (payload, len, &limits, items, max_items, &l.doc);
  if (err == SP_OK)
    err = sp_cbor_map_check_keys (&l.doc, 0, allowed,
                                  sizeof allowed / sizeof allowed[0]);
  if (err == SP_OK)
    err = sp_cbor_map_find_int (&l.doc, 0, SP_REVOCATION_KEY_VERSION, &v);
  if (err == SP_OK)
    err = sp_cbor_get_uint (&l.doc, v, &l.version);
  if (err == SP_OK)
    err = sp_cbor_map_find_int (&l.doc, 0, SP_REVOCATION_KEY_IAT, &v);
  if (err == SP_OK)
    err = sp_cbor_get_uint (&l.doc, v, &iat);
  if (err == SP_OK && iat > (uint64_t) INT64_MAX)
    err = SP_ERR_VALUE;
  if (err == SP_OK)
    err = read_array (&l.doc, SP_REVOCATION_CTI, &l.cti_first, &l.n_cti);
  if (err == SP_OK)
    err = read_array (&l.doc, SP_REVOCATION_SUB, &l.sub_first, &l.n_sub);
  if (err == SP_OK)
    err = read_array (&l.doc, SP_REVOCATION_SERIAL, &l.serial_first,
                      &l.n_serial);
  /* The decoder bounds each array; the sum is bounded here. */
  if (err == SP_OK &&
      l.n_cti + l.n_sub + l.n_serial > SP_REVOCATION_MAX_ENTRIES)
    err = SP_ERR_VALUE;
  if (err != SP_OK)
    return err;

  l.iat = (int64_t) iat;
  l.payload = payload;
  l.payload_len = len;
  *list = l;
  return SP_OK;
}

sp_err
sp_revocation_verify (const sp_crypto_port *port, const uint8_t *buf,
                      size_t len, const sp_cose_key *trusted,
                      size_t n_trusted, sp_cbor_item *items, size_t max_items,
                      sp_revocation_list *list, size_t *key_index)
{
  sp_cbor_limits limits = sp_cbor_limits_default;
  sp_cose_sign1 msg;
  size_t i;
  sp_err err;

  if (list == NULL)
    return SP_ERR_INVALID_ARG;
  memset (list, 0, sizeof *list);
  if (port == NULL || (trusted == NULL && n_trusted > 0))
    return SP_ERR_INVALID_ARG;

  /* The envelope is small except for the payload bstr, which may be
   * larger than the default string limit. */
  limits.max_size = SP_REVOCATION_MAX_SIZE;
  limits.max_string_len = SP_REVOCATION_MAX_SIZE;
  err = sp_cose_sign1_decode (buf, len, &limits, &msg);
  if (err == SP_OK && !msg.tagged)
    err = SP_ERR_COSE_TAG;
  if (err == SP_OK)
    err = sp_cose_sign1_check_strict (&msg, SP_REVOCATION_CONTENT_TYPE);
  if (err != SP_OK)
    return err;

  /* kids are public labels: a plain comparison is fine. */
  for (i = 0; i < n_trusted; i++)
    if (trusted[i].kid_len > 0 && trusted[i].kid_len == msg.kid_len &&
        memcmp (trusted[i].kid, msg.kid, msg.kid_len) == 0)
      break;
  if (i == n_trusted)
    return SP_ERR_UNKNOWN_KEY;

  err = sp_cose_sign1_verify (port, &msg, trusted[i].pub, NULL, 0);
  if (err == SP_OK)
    err = sp_revocation_decode (msg.payload, msg.payload_len, items, max_items,
                                list);
  if (err == SP_OK && key_index != NULL)
    *key_index = i;
  return err;
}

/* ------------------------------------------------------------------ */
/* Lookups                                                             */
/* ------------------------------------------------------------------ */

static bool
array_of (const sp_revocation_list *list, sp_revocation_kind kind,
          size_t *first, size_t *count)
{
  switch (kind)
    {
    case SP_REVOCATION_CTI:
      *first = list->cti_first;
      *count = list->n_cti;
      return true;
    case SP_REVOCATION_SUB:
      *first = list->sub_first;
      *count = list->n_sub;
      return true;
    case SP_REVOCATION_SERIAL:
      *first = list->serial_first;
      *count = list->n_serial;
      return true;
    default:
      return false;
    }
}

size_t
sp_revocation_count (const sp_revocation_list *list, sp_revocation_kind kind)
{
  size_t first, count;

  if (list == NULL || !array_of (list, kind, &first, &count))
    return 0;
  return count;
}

sp_err
sp_revocation_get (const sp_revocation_list *list, sp_revocation_kind kind,
                   size_t i, sp_revocation_view *entry)
{
  const sp_cbor_item *e;
  size_t first, count;

  if (list == NULL || entry == NULL || !array_of (list, kind, &first, &count) ||
      i >= count)
    return SP_ERR_INVALID_ARG;
  e = &list->doc.items[first + i];
  entry->ptr = list->doc.buf + e->payload;
  entry->len = (size_t) e->value;
  return SP_OK;
}

bool
sp_revocation_has (const sp_revocation_list *list, sp_revocation_kind kind,
                   const uint8_t *p, size_t len)
{
  size_t first, count, lo = 0, hi;

  if (list == NULL || (p == NULL && len > 0) ||
      !array_of (list, kind, &first, &count))
    return false;
  hi = count;
  while (lo < hi)
    {
      size_t mid = lo + (hi - lo) / 2;
      const sp_cbor_item *e = &list->doc.items[first + mid];
      int c = view_compare (list->doc.buf + e->payload, (size_t) e->value,
                            p, len);

      if (c == 0)
        return true;
      if (c < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return false;
}

bool
sp_revocation_has_cti (const sp_revocation_list *list, const uint8_t *cti,
                       size_t len)
{
  return sp_revocation_has (list, SP_REVOCATION_CTI, cti, len);
}

bool
sp_revocation_has_sub (const sp_revocation_list *list, const char *sub,
                       size_t len)
{
  return sp_revocation_has (list, SP_REVOCATION_SUB, (const uint8_t *) sub, len);
}

bool
sp_revocation_has_serial (const sp_revocation_list *list, const char *serial,
                          size_t len)
{
  return sp_revocation_has (list, SP_REVOCATION_SERIAL,
                            (const uint8_t *) serial, len);
}

sp_err
sp_revocation_supersedes (const sp_revocation_list *candidate,
                          const sp_revocation_list *current, bool *supersedes)
{
  if (candidate == NULL || supersedes == NULL)
    return SP_ERR_INVALID_ARG;
  *supersedes = false;
  if (current == NULL || candidate->version > current->version)
    {
      *supersedes = true;
      return SP_OK;
    }
  if (candidate->version < current->version)
    return SP_OK;
  /* Same version: deterministic encoding makes same content the same
   * bytes, so anything else is two different lists under one version. */
  if (candidate->payload_len == current->payload_len &&
      (candidate->payload_len == 0 ||
       memcmp (candidate->payload, current->payload,
               candidate->payload_len) == 0))
    return SP_OK;
  return SP_ERR_VALUE;
}
