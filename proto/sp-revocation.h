/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-revocation.h: the signed revocation list (docs/api.md, GET /v1/trust).
 *
 * The service publishes it, the tool fetches it and pushes it to every
 * device it meets, and a device keeps the newest one it has verified and
 * refuses tokens (by cti or sub) and peers (by serial) named in it.
 *
 *     18([ << {1: -7, 3: "application/signet-revocation+cbor", 4: kid} >>,
 *          {},
 *          << {1: version, 2: iat, 3: [cti bstr...], 4: [sub tstr...],
 *              5: [serial tstr...]} >>,
 *          signature ])
 *
 * version is an unsigned integer that rises with every change; iat the
 * issue time (seconds since the epoch, >= 0). All five keys are required;
 * an empty array is written as an empty array. No other key is allowed.
 *
 * Order. Each array is strictly increasing in the bytewise order of the
 * entries' deterministic encodings, the RFC 8949 §4.2.1 order that map
 * keys already follow: a shorter entry first, entries of the same length
 * by memcmp. So "bob" < "alice" < "carol", and h'00ff' < h'0100'. Strict
 * means no duplicates. Decoding refuses unsorted or duplicate entries
 * (SP_ERR_VALUE), so two lists with the same content have the same bytes
 * (sp_revocation_supersedes relies on it) and lookups binary-search.
 * sp_revocation_sort puts a caller's views in this order.
 *
 * Limits (a device sizes its buffers from these):
 *   SP_REVOCATION_MAX_SIZE      bytes of the whole signed list;
 *   SP_REVOCATION_MAX_ENTRIES   entries in the three arrays together;
 *   SP_REVOCATION_CTI_MAX       bytes of one cti (1.., as sp-cwt);
 *   SP_REVOCATION_TEXT_MAX      bytes of one sub or serial (1.., UTF-8).
 * Decoding needs SP_REVOCATION_ITEMS (n) CBOR items for a list of n
 * entries, in an array the caller provides (each sp_cbor_item is 32 bytes
 * on common ABIs). A device with less RAM passes a shorter item array:
 * a longer list then fails with SP_ERR_CBOR_TOO_MANY_ITEMS, and the
 * device keeps the list it has (it cannot honour a list it cannot read).
 * The default CBOR limits of sp-cbor.h (16 KiB, 64 entries per array) are
 * too small for a list; this module uses its own, documented here.
 *
 * Decoded lists are views: every pointer points into the caller's buffer
 * and item array, which must outlive the list. Nothing allocates.
 */
#ifndef SP_REVOCATION_H
#define SP_REVOCATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp-cbor.h"
#include "sp-cose-key.h"
#include "sp-cose.h"
#include "sp-crypto-port.h"
#include "sp-cwt.h"
#include "sp-error.h"

#define SP_REVOCATION_CONTENT_TYPE "application/signet-revocation+cbor"

/* Payload keys. */
#define SP_REVOCATION_KEY_VERSION 1
#define SP_REVOCATION_KEY_IAT 2
#define SP_REVOCATION_KEY_CTI 3
#define SP_REVOCATION_KEY_SUB 4
#define SP_REVOCATION_KEY_SERIAL 5

#define SP_REVOCATION_MAX_SIZE 65536
#define SP_REVOCATION_MAX_ENTRIES 2048
#define SP_REVOCATION_CTI_MAX SP_CWT_CTI_MAX
#define SP_REVOCATION_TEXT_MAX 128

/* CBOR items to decode a payload of n entries: the map, five keys, five
 * values (the version, the iat and the three arrays), and the entries. */
#define SP_REVOCATION_ITEMS(n) (11u + (size_t) (n))

/* The three kinds of entry; the values are their payload keys. */
typedef enum sp_revocation_kind {
  SP_REVOCATION_CTI = SP_REVOCATION_KEY_CTI,       /* bstr: a token's cti */
  SP_REVOCATION_SUB = SP_REVOCATION_KEY_SUB,       /* tstr: a user (a token's sub) */
  SP_REVOCATION_SERIAL = SP_REVOCATION_KEY_SERIAL, /* tstr: a device serial */
} sp_revocation_kind;

/* A view of one entry's bytes (UTF-8, not NUL-terminated, for sub and
 * serial). */
typedef struct sp_revocation_view {
  const uint8_t *ptr;
  size_t len;
} sp_revocation_view;

/* What to encode. Each array must already be in the order above, without
 * duplicates (sp_revocation_sort); the pointers may be NULL when the
 * count is 0. */
typedef struct sp_revocation_content {
  uint64_t version;
  int64_t iat;
  const sp_revocation_view *cti;
  size_t n_cti;
  const sp_revocation_view *sub;
  size_t n_sub;
  const sp_revocation_view *serial;
  size_t n_serial;
} sp_revocation_content;

/* A decoded list. Use the functions below rather than the fields after
 * iat; the i-th entry of an array is doc.items[first + i]. */
typedef struct sp_revocation_list {
  uint64_t version;
  int64_t iat;
  const uint8_t *payload;        /* the encoded payload, as signed */
  size_t payload_len;
  sp_cbor_doc doc;
  size_t cti_first, n_cti;
  size_t sub_first, n_sub;
  size_t serial_first, n_serial;
} sp_revocation_list;

/* Sort v[0..n) into the list order and drop duplicates, in place (no
 * heap, O(n log n)). Returns the new count. */
size_t sp_revocation_sort (sp_revocation_view *v, size_t n);

/* Encode the payload. SP_ERR_VALUE for an array that is not strictly
 * increasing, an empty entry, a cti longer than SP_REVOCATION_CTI_MAX, a
 * sub or serial longer than SP_REVOCATION_TEXT_MAX or not UTF-8, more than
 * SP_REVOCATION_MAX_ENTRIES entries, or a negative iat;
 * SP_ERR_BUFFER_TOO_SMALL if out is too small. We never encode what
 * sp_revocation_decode would refuse. */
sp_err sp_revocation_encode (const sp_revocation_content *content,
                             uint8_t *out, size_t cap, size_t *out_len);

/* Sign content as a tagged COSE_Sign1 with the revocation content type
 * and kid in the protected header (like sp_cwt_sign: the payload is
 * encoded in place, so cap must be SP_COSE_SIGN1_OVERHEAD plus the
 * payload). SP_ERR_VALUE also for a result over SP_REVOCATION_MAX_SIZE. */
sp_err sp_revocation_sign (const sp_crypto_port *port, const sp_key *key,
                           const uint8_t *kid, size_t kid_len,
                           const sp_revocation_content *content,
                           uint8_t *out, size_t cap, size_t *out_len);

/* Decode a payload (NOT a signed list: this checks no signature; it is
 * what sp_revocation_verify runs after the signature, exposed for tests
 * and fuzzing). Errors: the CBOR ones under the limits above;
 * SP_ERR_TYPE, SP_ERR_MISSING, SP_ERR_UNKNOWN_FIELD for the map's shape;
 * SP_ERR_VALUE for an entry that is empty, too long, unsorted or
 * duplicated, or too many entries. On error list is zeroed. */
sp_err sp_revocation_decode (const uint8_t *payload, size_t len,
                             sp_cbor_item *items, size_t max_items,
                             sp_revocation_list *list);

/* Verify a signed list from buf[0..len) and decode it. The signer must be
 * one of trusted[0..n_trusted), matched by kid (SP_ERR_UNKNOWN_KEY
 * otherwise); the object must be tagged (SP_ERR_COSE_TAG) and pass
 * sp_cose_sign1_check_strict with the revocation content type, so no
 * token or other object signed by an authority key passes as a list.
 * SP_ERR_CBOR_TOO_LARGE for more than SP_REVOCATION_MAX_SIZE bytes. If
 * key_index is not NULL it receives the index of the trusted key that
 * signed. On error list is zeroed. */
sp_err sp_revocation_verify (const sp_crypto_port *port,
                             const uint8_t *buf, size_t len,
                             const sp_cose_key *trusted, size_t n_trusted,
                             sp_cbor_item *items, size_t max_items,
                             sp_revocation_list *list, size_t *key_index);

/* The number of entries of a kind, and the i-th one (SP_ERR_INVALID_ARG
 * for i out of range). */
size_t sp_revocation_count (const sp_revocation_list *list,
                            sp_revocation_kind kind);
sp_err sp_revocation_get   (const sp_revocation_list *list,
                            sp_revocation_kind kind, size_t i,
                            sp_revocation_view *entry);

/* Is this entry in the list? (Binary search; false for a NULL list.) */
bool   sp_revocation_has        (const sp_revocation_list *list,
                                 sp_revocation_kind kind,
                                 const uint8_t *p, size_t len);
bool   sp_revocation_has_cti    (const sp_revocation_list *list,
                                 const uint8_t *cti, size_t len);
bool   sp_revocation_has_sub    (const sp_revocation_list *list,
                                 const char *sub, size_t len);
bool   sp_revocation_has_serial (const sp_revocation_list *list,
                                 const char *serial, size_t len);

/* Should candidate replace current (the list a device keeps; NULL if it
 * has none)? *supersedes is set to true when current is NULL or
 * candidate's version is higher, and to false when candidate's version is
 * lower (an old list: keep the newer one) or when both are the same list
 * (same version, same payload bytes). Same version with different
 * content is SP_ERR_VALUE: the issuer reused a version (a bug) or someone
 * holds the authority key (an attack); keep current and report it. */
sp_err sp_revocation_supersedes (const sp_revocation_list *candidate,
                                 const sp_revocation_list *current,
                                 bool *supersedes);

#endif /* SP_REVOCATION_H */
