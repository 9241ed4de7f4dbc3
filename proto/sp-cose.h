/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-cose.h: COSE_Sign1 (RFC 9052 §4.2) with ES256 (RFC 9053 §2.1).
 *
 * What we sign:
 *
 *     18([ bstr .cbor {1: -7, ? 3: content type, 4: kid},   ; protected
 *          {},                                              ; unprotected
 *          payload bstr,
 *          signature bstr (raw r||s, 64 bytes) ])
 *
 * with the protected map in deterministic order (1, 3, 4) and the
 * signature over SHA-256 of the Sig_structure
 * ["Signature1", protected, external_aad, payload] exactly as RFC 9052
 * §4.4 builds it, so any COSE library verifies our objects and we verify
 * theirs.
 *
 * What we accept (sp_cose_sign1_decode): tag 18 or no tag; an array of
 * exactly four elements; a protected bstr that is empty or holds a map;
 * an unprotected map; header labels that are integers or text, none in
 * both buckets; no crit (2): we understand no critical header, and RFC
 * 9052 §3.1 says to reject what we cannot honour; a byte string payload
 * (a detached, nil payload is refused). Other header parameters are
 * ignored, as the RFC allows for non-critical ones.
 *
 * Content type. The same key may sign different kinds of objects (a
 * technician key signs device commands and proofs of possession). The
 * content type (3) in the protected header names the kind, and a verifier
 * MUST check it (sp_cose_sign1_check_strict does) before acting on a
 * payload; otherwise an object signed for one purpose can be replayed as
 * another.
 *
 * ECDSA signatures are malleable ((r, s) and (r, n - s) both verify), so
 * the bytes of a signed object do not identify it: name tokens by cti
 * and commands by (session nonce, seq), never by a hash of the object.
 *
 * An empty protected header may be sent as h'' or as h'A0' (an encoded
 * empty map); RFC 9052 §3 says to accept both and §4.4 puts a zero-length
 * bstr in the Sig_structure for either (COSE WG example sign-pass-01).
 * Our strict policy never meets this case: it requires a protected alg.
 *
 * Decoded objects are views: every pointer in sp_cose_sign1 points into
 * the caller's buffer, which must outlive it. Nothing allocates; decode
 * uses SP_COSE_MAX_ITEMS + SP_COSE_MAX_HEADER_ITEMS items on the stack.
 */
#ifndef SP_COSE_H
#define SP_COSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp-cbor.h"
#include "sp-cose-key.h"
#include "sp-crypto-port.h"
#include "sp-error.h"

#define SP_COSE_SIGN1_TAG 18

/* Header labels (RFC 9052 §3.1). */
#define SP_COSE_HDR_ALG 1
#define SP_COSE_HDR_CRIT 2
#define SP_COSE_HDR_CTY 3
#define SP_COSE_HDR_KID 4

/* Longest content type we sign. */
#define SP_COSE_CTY_MAX 64

/* Items decode may use: the whole object, then the protected header. */
#define SP_COSE_MAX_ITEMS 48
#define SP_COSE_MAX_HEADER_ITEMS 16

/* Bytes a signed object adds around its payload, at most (tag, array,
 * protected header with the longest kid and content type, unprotected
 * map, payload head, signature). */
#define SP_COSE_SIGN1_OVERHEAD (1 + 1 + 3 + (1 + 2 + 1 + 2 + SP_COSE_CTY_MAX + \
                                1 + 2 + SP_COSE_KID_MAX) + 1 + 9 + 2 + \
                                SP_P256_SIG_LEN)

/* Where a header parameter was found. */
typedef enum sp_cose_bucket {
  SP_COSE_ABSENT = 0,
  SP_COSE_PROTECTED = 1,
  SP_COSE_UNPROTECTED = 2,
} sp_cose_bucket;

typedef struct sp_cose_sign1 {
  bool tagged;                     /* had tag 18 */

  const uint8_t *protected_hdr;    /* the protected bstr's content, as sent */
  size_t protected_len;
  bool protected_empty;            /* it holds no parameters (h'' or h'A0') */
  size_t unprotected_count;        /* pairs in the unprotected map */
  const uint8_t *payload;
  size_t payload_len;
  const uint8_t *signature;
  size_t signature_len;

  sp_cose_bucket alg_in;
  bool alg_is_int;                 /* false: a text or out-of-range alg */
  int64_t alg;

  sp_cose_bucket kid_in;
  const uint8_t *kid;
  size_t kid_len;

  sp_cose_bucket cty_in;
  bool cty_is_text;                /* else a CoAP content format number */
  const char *cty_text;            /* not NUL-terminated */
  size_t cty_len;
  uint64_t cty_uint;
} sp_cose_sign1;

typedef struct sp_cose_sign1_params {
  const uint8_t *kid;              /* required: 1..SP_COSE_KID_MAX bytes */
  size_t kid_len;
  const char *content_type;        /* nullable; at most SP_COSE_CTY_MAX */
  const uint8_t *external_aad;     /* nullable */
  size_t external_aad_len;
} sp_cose_sign1_params;

/* Decode a COSE_Sign1 from buf[0..len). limits NULL: the defaults, which
 * require sorted map keys in the headers; pass limits with deterministic
 * false to take objects from encoders that do not sort. Errors:
 * the CBOR ones; SP_ERR_COSE_TAG for a tag other than 18; SP_ERR_TYPE for
 * an element of the wrong type; SP_ERR_VALUE for an array not of four;
 * SP_ERR_COSE_HEADER for a bad or conflicting header, crit, or a nil
 * payload. */
sp_err sp_cose_sign1_decode (const uint8_t *buf, size_t len,
                             const sp_cbor_limits *limits,
                             sp_cose_sign1 *msg);

/* Check the signature with the P-256 public key pub (65 bytes, SEC1
 * uncompressed) and the external AAD (may be NULL/0). SP_ERR_COSE_ALG
 * unless alg is ES256; SP_ERR_BAD_SIGNATURE for a signature that is not
 * 64 bytes or does not verify; SP_ERR_KEY for a bad public key. */
sp_err sp_cose_sign1_verify (const sp_crypto_port *port,
                             const sp_cose_sign1 *msg,
                             const uint8_t pub[SP_P256_PUB_LEN],
                             const uint8_t *external_aad,
                             size_t external_aad_len);

/* Our policy for our own objects, on top of decode and verify: alg ES256
 * and a non-empty kid in the protected header, an empty unprotected
 * header, and the content type in the protected header equal to
 * content_type -- or no content type at all when content_type is NULL.
 * SP_ERR_COSE_ALG or SP_ERR_COSE_HEADER otherwise. */
sp_err sp_cose_sign1_check_strict (const sp_cose_sign1 *msg,
                                   const char *content_type);

/* Sign payload with key (a P-256 key of port) and write the tagged
 * COSE_Sign1 to out[0..cap). payload may lie inside out (it is moved
 * into place first), so a caller can encode a payload directly into its
 * output buffer at an offset of SP_COSE_SIGN1_OVERHEAD or less. */
sp_err sp_cose_sign1_sign (const sp_crypto_port *port, const sp_key *key,
                           const sp_cose_sign1_params *params,
                           const uint8_t *payload, size_t payload_len,
                           uint8_t *out, size_t cap, size_t *out_len);

/* The Sig_structure ["Signature1", protected, external_aad, payload] as
 * bytes (signing hashes the same bytes in place, without building it). */
sp_err sp_cose_sig_structure_write (const uint8_t *protected_hdr,
                                    size_t protected_len,
                                    const uint8_t *external_aad,
                                    size_t external_aad_len,
                                    const uint8_t *payload, size_t payload_len,
                                    uint8_t *out, size_t cap, size_t *out_len);

/* The Sig_structure of a decoded msg, as verify hashes it. */
sp_err sp_cose_sign1_sig_structure (const sp_cose_sign1 *msg,
                                    const uint8_t *external_aad,
                                    size_t external_aad_len,
                                    uint8_t *out, size_t cap, size_t *out_len);

/* True if msg's content type is the text s. */
bool   sp_cose_sign1_content_type_is (const sp_cose_sign1 *msg, const char *s);

#endif /* SP_COSE_H */
