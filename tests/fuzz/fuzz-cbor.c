/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-cbor.c: sp_cbor_decode () on arbitrary input, under the default
 * (deterministic) limits and with unsorted keys allowed.
 *
 * For every accepted input it checks what the decoder promises: item
 * offsets inside the input and consistent with the tree, map lookups that
 * find every key, and -- because only shortest-form heads are accepted --
 * that re-encoding the items with the writer gives back the input byte
 * for byte. Any broken promise is an abort ().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp-cbor.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Static: the fuzzer runs one input at a time, and big arrays do not
 * belong on the stack of a harness either. */
static sp_cbor_item items[SP_CBOR_DEFAULT_MAX_ITEMS];
static uint8_t out[SP_CBOR_DEFAULT_MAX_SIZE];

static void
check (int ok)
{
  if (!ok)
    abort ();
}

/* Re-encode item idx and its subtree; returns the index after it. */
static size_t
reencode (const sp_cbor_doc *doc, size_t idx, sp_cbor_writer *w)
{
  const sp_cbor_item *it = &doc->items[idx];
  size_t child = idx + 1;
  uint64_t i, n = 0;

  check (idx < doc->n_items);
  check (it->offset < it->end && it->end <= doc->len);
  check (it->payload >= it->offset && it->payload <= it->end);
  check (it->next > idx && it->next <= doc->n_items);

  switch ((sp_cbor_type) it->type)
    {
    case SP_CBOR_UINT:
      sp_cbor_put_uint (w, it->value);
      break;
    case SP_CBOR_NINT:
      sp_cbor_put_nint (w, it->value);
      break;
    case SP_CBOR_BYTES:
      check (it->payload + it->value == it->end);
      sp_cbor_put_bytes (w, doc->buf + it->payload, (size_t) it->value);
      break;
    case SP_CBOR_TEXT:
      check (it->payload + it->value == it->end);
      sp_cbor_put_text (w, (const char *) doc->buf + it->payload, (size_t) it->value);
      break;
    case SP_CBOR_ARRAY:
      sp_cbor_put_array (w, (size_t) it->value);
      n = it->value;
      break;
    case SP_CBOR_MAP:
      sp_cbor_put_map (w, (size_t) it->value);
      n = 2 * it->value;
      break;
    case SP_CBOR_TAG:
      sp_cbor_put_tag (w, it->value);
      n = 1;
      break;
    case SP_CBOR_BOOL:
      sp_cbor_put_bool (w, it->value != 0);
      break;
    case SP_CBOR_NULL:
      sp_cbor_put_null (w);
      break;
    default:
      abort ();
    }
  for (i = 0; i < n; i++)
    {
      check (child < doc->n_items);
      child = reencode (doc, child, w);
    }
  check (child == it->next);
  return it->next;
}

/* Every key of every map is found by the lookup helpers, at its own
 * value (keys are unique, so the first match is the only one). */
static void
check_lookups (const sp_cbor_doc *doc)
{
  size_t m;

  for (m = 0; m < doc->n_items; m++)
    {
      sp_cbor_iter it;
      size_t k, v, found;

      if (sp_cbor_item_type (doc, m) != SP_CBOR_MAP)
        continue;
      check (sp_cbor_iter_init (&it, doc, m, SP_CBOR_MAP) == SP_OK);
      while (sp_cbor_iter_next_pair (&it, &k, &v))
        {
          int64_t num;
          const char *text;
          size_t len;

          if (sp_cbor_get_int (doc, k, &num) == SP_OK)
            {
              check (sp_cbor_map_find_int (doc, m, num, &found) == SP_OK);
              check (found == v);
            }
          else if (sp_cbor_get_text (doc, k, &text, &len) == SP_OK &&
                   memchr (text, '\0', len) == NULL)
            {
              char key[64];

              if (len < sizeof key)
                {
                  memcpy (key, text, len);
                  key[len] = '\0';
                  check (sp_cbor_map_find_text (doc, m, key, &found) == SP_OK);
                  check (found == v);
                }
            }
        }
    }
}

static void
check_document (const uint8_t *data, size_t size, const sp_cbor_doc *doc)
{
  sp_cbor_writer w;
  size_t len;

  check (doc->n_items > 0 && doc->items[0].offset == 0);
  check (doc->items[0].end == size && doc->items[0].next == doc->n_items);
  sp_cbor_writer_init (&w, out, sizeof out);
  check (reencode (doc, 0, &w) == doc->n_items);
  check (sp_cbor_writer_finish (&w, &len) == SP_OK);
  check (len == size && memcmp (out, data, size) == 0);
  check_lookups (doc);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  sp_cbor_limits loose = sp_cbor_limits_default;
  sp_cbor_doc doc;
  sp_err strict_err, loose_err;

  strict_err = sp_cbor_decode (data, size, NULL, items,
                               SP_CBOR_DEFAULT_MAX_ITEMS, &doc);
  if (strict_err == SP_OK)
    check_document (data, size, &doc);

  loose.deterministic = false;
  loose_err = sp_cbor_decode (data, size, &loose, items,
                              SP_CBOR_DEFAULT_MAX_ITEMS, &doc);
  if (loose_err == SP_OK)
    check_document (data, size, &doc);

  /* Sorting is the only difference between the two runs. */
  check (strict_err == loose_err || strict_err == SP_ERR_CBOR_UNSORTED_KEYS);
  return 0;
}
