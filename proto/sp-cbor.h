/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-cbor.h: a deterministic CBOR writer and a bounded, strict decoder.
 *
 * Both work on caller memory only: the writer fills a caller buffer, the
 * decoder fills a caller array of items. Nothing here allocates, so the
 * same code runs on the tool and on a device with a few KiB of RAM.
 *
 * Writer. Every put_* emits the shortest form (RFC 8949 §4.2.1 "preferred
 * serialization"; libcbor's cbor_encode_* already does that). Errors are
 * sticky: after the first failure every put_* is a no-op and
 * sp_cbor_writer_finish () reports it, so an encoder is a straight run of
 * put_* calls with one check at the end.
 *
 * The writer does not sort: a caller that opens a map must emit its keys
 * in deterministic order itself, which is the bytewise order of the
 * encoded keys. For the keys we use that is:
 *
 *     0, 1, 2, ..., 23, 24, ..., 255, 256, ...   (unsigned, smaller first)
 *     -1, -2, ..., -24, -25, ...                 (negative, closer to 0 first)
 *     "a", "z", "aa", "role", "auth_time"        (text: shorter first, then
 *                                                 bytewise)
 *
 * e.g. a COSE_Key is {1, 2, 3, -1, -2, -3, -4} and CWT claims are
 * {1, ..., 9, "amr", "role", "auth_time"}.
 *
 * The writer is built on libcbor's cbor_encode_*; the decoder reads heads
 * itself and uses nothing of libcbor (see sp-cbor.c for why).
 *
 * Decoder. sp_cbor_decode () parses one complete top-level item into a
 * flat array of items in pre-order (like jsmn's tokens): a container is
 * followed by its children, and every item records the index just past
 * its subtree, so a reader can skip a child without walking it. Items
 * point into the input buffer; nothing is copied.
 *
 * It accepts only the deterministic subset of CBOR that signed and hashed
 * messages need, and reports each violation with its own sp_err: definite
 * lengths only, shortest-form heads only, no floats, no undefined, no
 * simple values other than false/true/null, valid UTF-8 in text strings,
 * no duplicate map keys and, when limits->deterministic is set, map keys
 * in the order above. Sizes, nesting and counts are bounded by
 * sp_cbor_limits.
 *
 * Tags are items with exactly one child; the decoder accepts any tag
 * number (the message decoders decide which ones they allow).
 */
#ifndef SP_CBOR_H
#define SP_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp-error.h"

/* ------------------------------------------------------------------ */
/* Writer                                                              */
/* ------------------------------------------------------------------ */

typedef struct sp_cbor_writer {
  uint8_t *buf;
  size_t cap;
  size_t len;
  sp_err err;   /* sticky: the first error */
} sp_cbor_writer;

/* Start writing into buf[0..cap). buf may be NULL only if cap is 0. */
void   sp_cbor_writer_init   (sp_cbor_writer *w, uint8_t *buf, size_t cap);

void   sp_cbor_put_uint      (sp_cbor_writer *w, uint64_t v);
void   sp_cbor_put_int       (sp_cbor_writer *w, int64_t v);
/* The negative integer -1 - n: the whole major type 1 range, including
 * values below INT64_MIN (for re-encoding decoded items). */
void   sp_cbor_put_nint      (sp_cbor_writer *w, uint64_t n);
void   sp_cbor_put_bytes     (sp_cbor_writer *w, const void *p, size_t len);
/* Only the head of a byte string of len bytes, for a caller that hashes
 * or copies the content separately (a Sig_structure hashed in place). */
void   sp_cbor_put_bytes_head (sp_cbor_writer *w, size_t len);
/* len bytes of UTF-8 (not NUL-terminated); invalid UTF-8 fails the writer
 * with SP_ERR_CBOR_INVALID_UTF8, so it never emits what its own decoder
 * would refuse. */
void   sp_cbor_put_text      (sp_cbor_writer *w, const char *p, size_t len);
void   sp_cbor_put_textz     (sp_cbor_writer *w, const char *s);
/* Container heads: the caller then writes n items (n key/value pairs). */
void   sp_cbor_put_array     (sp_cbor_writer *w, size_t n);
void   sp_cbor_put_map       (sp_cbor_writer *w, size_t n_pairs);
void   sp_cbor_put_tag       (sp_cbor_writer *w, uint64_t tag);
void   sp_cbor_put_bool      (sp_cbor_writer *w, bool v);
void   sp_cbor_put_null      (sp_cbor_writer *w);
/* Copy an already encoded item (e.g. a nested signed object) verbatim. */
void   sp_cbor_put_raw       (sp_cbor_writer *w, const void *p, size_t len);

/* SP_OK and the number of bytes written, or the first error. */
sp_err sp_cbor_writer_finish (const sp_cbor_writer *w, size_t *out_len);

/* ------------------------------------------------------------------ */
/* Decoder                                                             */
/* ------------------------------------------------------------------ */

/* The decoder's own nesting stack lives on the C stack; this caps it. */
#define SP_CBOR_DEPTH_MAX 32

/* Offsets are 32-bit to keep items small on a device. */
#define SP_CBOR_SIZE_MAX ((size_t) UINT32_MAX - 1u)

typedef struct sp_cbor_limits {
  size_t max_size;          /* whole input, bytes (<= SP_CBOR_SIZE_MAX) */
  size_t max_depth;         /* nesting of arrays, maps and tags: the
                             * top-level item is at depth 0, its children
                             * at depth 1; no item deeper than this
                             * (<= SP_CBOR_DEPTH_MAX) */
  size_t max_items;         /* data items, counting keys, values and tags */
  size_t max_string_len;    /* bytes of one byte or text string */
  size_t max_container_len; /* elements of an array, pairs of a map */
  bool deterministic;       /* map keys must be in RFC 8949 §4.2.1 order */
} sp_cbor_limits;

/* Defaults for messages on the device link: 16 KiB, depth 8, 256 items,
 * strings up to 8 KiB, containers up to 64 entries, sorted keys. */
#define SP_CBOR_DEFAULT_MAX_SIZE          16384
#define SP_CBOR_DEFAULT_MAX_DEPTH         8
#define SP_CBOR_DEFAULT_MAX_ITEMS         256
#define SP_CBOR_DEFAULT_MAX_STRING_LEN    8192
#define SP_CBOR_DEFAULT_MAX_CONTAINER_LEN 64

extern const sp_cbor_limits sp_cbor_limits_default;

typedef enum sp_cbor_type {
  SP_CBOR_UINT = 0,   /* value: the integer */
  SP_CBOR_NINT = 1,   /* value: n, the integer being -1 - n */
  SP_CBOR_BYTES = 2,  /* value: length; payload: first byte */
  SP_CBOR_TEXT = 3,   /* value: length in bytes; payload: first byte */
  SP_CBOR_ARRAY = 4,  /* value: number of elements; children follow */
  SP_CBOR_MAP = 5,    /* value: number of pairs; key, value, key, ... follow */
  SP_CBOR_TAG = 6,    /* value: tag number; one child follows */
  SP_CBOR_BOOL = 7,   /* value: 0 or 1 */
  SP_CBOR_NULL = 8,
} sp_cbor_type;

typedef struct sp_cbor_item {
  uint64_t value;    /* see sp_cbor_type */
  uint32_t offset;   /* of the item's head */
  uint32_t payload;  /* of a string's bytes or a container's first child */
  uint32_t end;      /* just past the item and all its children */
  uint32_t next;     /* index of the item after this subtree */
  uint8_t type;      /* sp_cbor_type */
} sp_cbor_item;

typedef struct sp_cbor_doc {
  const uint8_t *buf;
  size_t len;
  const sp_cbor_item *items;  /* items[0] is the top-level item */
  size_t n_items;
  size_t err_offset;          /* where decoding stopped, on error */
} sp_cbor_doc;

/* Decode buf[0..len), which must hold exactly one item, into
 * items[0..max_items). limits may be NULL for sp_cbor_limits_default.
 * On success doc describes the item; doc->buf and the items point into
 * buf and items, which must outlive doc. On error, doc->err_offset is the
 * offset of the offending head. */
sp_err sp_cbor_decode (const uint8_t *buf, size_t len,
                       const sp_cbor_limits *limits,
                       sp_cbor_item *items, size_t max_items,
                       sp_cbor_doc *doc);

/* The same for the item at the start of buf[0..len), which other bytes
 * may follow (a CBOR sequence, RFC 8742), in one pass: no separate scan
 * for the item's end. Only the first limits->max_size bytes are looked
 * at. On success *out_len (and doc->len) is where the item ends, and doc
 * is exactly what sp_cbor_decode () gives for buf[0..*out_len). An error
 * only says that no valid item of at most len bytes starts at buf
 * (SP_ERR_CBOR_TRUNCATED: more bytes might complete one); for the error
 * of a given whole input, decode exactly that with sp_cbor_decode (). */
sp_err sp_cbor_decode_prefix (const uint8_t *buf, size_t len,
                              const sp_cbor_limits *limits,
                              sp_cbor_item *items, size_t max_items,
                              sp_cbor_doc *doc, size_t *out_len);

/* ------------------------------------------------------------------ */
/* Navigation over a decoded document                                  */
/* ------------------------------------------------------------------ */
/*
 * Items are named by their index in doc->items (0 is the root). Every
 * getter returns SP_ERR_TYPE when the item has another type, and
 * SP_ERR_INVALID_ARG for an index out of range (a caller bug).
 */

#define SP_CBOR_NONE ((size_t) -1)

/* The item's type; SP_CBOR_NULL for an index out of range. */
sp_cbor_type sp_cbor_item_type (const sp_cbor_doc *doc, size_t idx);

/* The encoded bytes of an item with all its children. */
sp_err sp_cbor_get_raw   (const sp_cbor_doc *doc, size_t idx,
                          const uint8_t **p, size_t *len);
sp_err sp_cbor_get_uint  (const sp_cbor_doc *doc, size_t idx, uint64_t *v);
/* A UINT or NINT in int64_t range; SP_ERR_VALUE outside it. */
sp_err sp_cbor_get_int   (const sp_cbor_doc *doc, size_t idx, int64_t *v);
sp_err sp_cbor_get_bytes (const sp_cbor_doc *doc, size_t idx,
                          const uint8_t **p, size_t *len);
/* A view of the UTF-8 bytes: NOT NUL-terminated. */
sp_err sp_cbor_get_text  (const sp_cbor_doc *doc, size_t idx,
                          const char **p, size_t *len);
sp_err sp_cbor_get_bool  (const sp_cbor_doc *doc, size_t idx, bool *v);
sp_err sp_cbor_get_null  (const sp_cbor_doc *doc, size_t idx);
/* A tag's number and the index of its content. */
sp_err sp_cbor_get_tag   (const sp_cbor_doc *doc, size_t idx,
                          uint64_t *tag, size_t *content);
/* Number of elements of an array or pairs of a map. */
sp_err sp_cbor_get_count (const sp_cbor_doc *doc, size_t idx,
                          sp_cbor_type type, size_t *count);

/* True if idx is a text string equal to the NUL-terminated s. */
bool   sp_cbor_text_equals (const sp_cbor_doc *doc, size_t idx, const char *s);

/* The value of key in a map: SP_ERR_TYPE if map is not a map,
 * SP_ERR_MISSING if the key is absent. */
sp_err sp_cbor_map_find_int  (const sp_cbor_doc *doc, size_t map,
                              int64_t key, size_t *value);
sp_err sp_cbor_map_find_text (const sp_cbor_doc *doc, size_t map,
                              const char *key, size_t *value);

/* Iterate the elements of an array or the pairs of a map:
 *
 *     sp_cbor_iter it;
 *     size_t k, v;
 *     if (sp_cbor_iter_init (&it, doc, map, SP_CBOR_MAP) != SP_OK) ...
 *     while (sp_cbor_iter_next_pair (&it, &k, &v)) ...
 */
typedef struct sp_cbor_iter {
  const sp_cbor_doc *doc;
  size_t next;    /* index of the next child */
  size_t left;    /* children not yet returned */
} sp_cbor_iter;

sp_err sp_cbor_iter_init      (sp_cbor_iter *it, const sp_cbor_doc *doc,
                               size_t container, sp_cbor_type type);
bool   sp_cbor_iter_next      (sp_cbor_iter *it, size_t *child);
bool   sp_cbor_iter_next_pair (sp_cbor_iter *it, size_t *key, size_t *value);

/* An allowed map key: an integer, or a text key when text is not NULL. */
typedef struct sp_cbor_key {
  int64_t num;
  const char *text;
} sp_cbor_key;

#define SP_CBOR_KEY_INT(n) { (n), NULL }
#define SP_CBOR_KEY_TEXT(s) { 0, (s) }

/* SP_ERR_UNKNOWN_FIELD if map has a key not in allowed[0..n_allowed)
 * (keys of other types are always unknown); SP_ERR_TYPE if not a map. */
sp_err sp_cbor_map_check_keys (const sp_cbor_doc *doc, size_t map,
                               const sp_cbor_key *allowed, size_t n_allowed);

/* Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
 * U+10FFFF). */
bool   sp_cbor_utf8_valid (const uint8_t *p, size_t len);

#endif /* SP_CBOR_H */
