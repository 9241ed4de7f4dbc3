/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-evidence.h: attestation evidence, what a device answers to
 * ATTEST(challenge) (DESIGN.md §3, device session step 2; docs/protocol.md
 * "Attestation evidence").
 *
 *     18([ << {1: -7, 3: "application/signet-attest+cbor", 4: serial} >>,
 *          {},
 *          << {1: serial tstr, 2: model tstr, 3: challenge bstr .size 32,
 *              4: kem_pub bstr .size 65, 5: firmware tstr,
 *              6: config_version uint, 7: session_nonce bstr .size 32,
 *              8: device_time uint} >>,
 *          signature by the device identity key ])
 *
 * The kid is the device serial as UTF-8, the same bytes as payload key 1:
 * a verifier finds the certificate by it, and the payload repeats it so a
 * signed payload never depends on an unauthenticated label. kem_pub is
 * the device's HPKE KEM public key (P-256, uncompressed SEC1), which this
 * signature binds to the certified identity: the service seals secrets to
 * it. challenge is the verifier's fresh 32 bytes, session_nonce the
 * nonce of the device's HELLO; device_time its clock, or its clock floor
 * when it has no trusted clock.
 *
 * Strict, as everything we sign: all eight keys, no other; each of its
 * type; exact lengths for the byte strings; text 1..SP_EVIDENCE_TEXT_MAX
 * bytes of UTF-8; deterministic CBOR (sorted keys, shortest forms); a
 * tagged COSE_Sign1 whose protected header is exactly
 * {1: -7, 3: content type, 4: serial} in deterministic encoding (compared
 * byte for byte with the one we would write, so a kid that is not the
 * payload's serial, or any extra header parameter, is refused) and whose
 * unprotected header is empty. The signature is checked before the
 * payload is parsed.
 *
 * The verifier does not check that kem_pub is on the curve (proto has no
 * point check without an operation); the first operation with it (HPKE
 * encap) does, and refuses it. Nor does it judge the challenge's
 * freshness, the nonce or the time: that is the caller's, who knows what
 * it asked.
 *
 * Decoded evidence is a view: every pointer points into the caller's
 * buffer. Nothing allocates.
 */
#ifndef SP_EVIDENCE_H
#define SP_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp-cbor.h"
#include "sp-cose.h"
#include "sp-crypto-port.h"
#include "sp-error.h"

#define SP_EVIDENCE_CONTENT_TYPE "application/signet-attest+cbor"

/* Payload keys. */
#define SP_EVIDENCE_KEY_SERIAL 1
#define SP_EVIDENCE_KEY_MODEL 2
#define SP_EVIDENCE_KEY_CHALLENGE 3
#define SP_EVIDENCE_KEY_KEM_PUB 4
#define SP_EVIDENCE_KEY_FIRMWARE 5
#define SP_EVIDENCE_KEY_CONFIG_VERSION 6
#define SP_EVIDENCE_KEY_SESSION_NONCE 7
#define SP_EVIDENCE_KEY_DEVICE_TIME 8

#define SP_EVIDENCE_CHALLENGE_LEN 32
#define SP_EVIDENCE_NONCE_LEN 32
#define SP_EVIDENCE_KEM_PUB_LEN SP_P256_PUB_LEN
/* Longest serial, model and firmware version, in bytes. The serial is
 * also the kid (SP_COSE_KID_MAX) and an X.509 serialNumber (64). */
#define SP_EVIDENCE_TEXT_MAX 64

/* The longest payload: a map head, eight one-byte keys, three texts of
 * SP_EVIDENCE_TEXT_MAX (2-byte heads), the byte strings with their heads
 * and two 64-bit integers. */
#define SP_EVIDENCE_PAYLOAD_MAX (1 + 8 + 3 * (2 + SP_EVIDENCE_TEXT_MAX) + \
                                 (2 + SP_EVIDENCE_CHALLENGE_LEN) + \
                                 (2 + SP_EVIDENCE_KEM_PUB_LEN) + \
                                 (2 + SP_EVIDENCE_NONCE_LEN) + 2 * 9)
/* The longest signed evidence; anything longer is refused unread. */
#define SP_EVIDENCE_MAX_SIZE (SP_COSE_SIGN1_OVERHEAD + SP_EVIDENCE_PAYLOAD_MAX)

/* CBOR items of a payload: the map, eight keys, eight values. */
#define SP_EVIDENCE_ITEMS 17

typedef struct sp_evidence {
  const char *serial;              /* UTF-8, not NUL-terminated */
  size_t serial_len;
  const char *model;
  size_t model_len;
  const uint8_t *challenge;        /* SP_EVIDENCE_CHALLENGE_LEN bytes */
  const uint8_t *kem_pub;          /* SP_EVIDENCE_KEM_PUB_LEN bytes, 0x04 || x || y */
  const char *firmware;
  size_t firmware_len;
  uint64_t config_version;
  const uint8_t *session_nonce;    /* SP_EVIDENCE_NONCE_LEN bytes */
  uint64_t device_time;
} sp_evidence;

/* Encode the payload. SP_ERR_VALUE for a text that is empty, longer than
 * SP_EVIDENCE_TEXT_MAX or not UTF-8, or a kem_pub that does not start
 * with 0x04; SP_ERR_INVALID_ARG for a NULL pointer;
 * SP_ERR_BUFFER_TOO_SMALL. We never encode what decode would refuse. */
sp_err sp_evidence_encode (const sp_evidence *ev, uint8_t *out, size_t cap,
                           size_t *out_len);

/* Sign ev with the device identity key (a P-256 key of port) as a tagged
 * COSE_Sign1 with the evidence content type and kid = serial. cap of
 * SP_EVIDENCE_MAX_SIZE always suffices. */
sp_err sp_evidence_sign (const sp_crypto_port *port, const sp_key *key,
                         const sp_evidence *ev, uint8_t *out, size_t cap,
                         size_t *out_len);

/* Decode a payload (NOT signed evidence: no signature is checked; this is
 * what sp_evidence_verify runs after the signature, exposed for tests
 * and fuzzing). Errors: the CBOR ones (deterministic limits);
 * SP_ERR_TYPE, SP_ERR_MISSING, SP_ERR_UNKNOWN_FIELD for the map's shape;
 * SP_ERR_VALUE for a wrong length or an empty or too long text. On error
 * ev is zeroed. */
sp_err sp_evidence_decode (const uint8_t *payload, size_t len,
                           sp_evidence *ev);

/* Verify signed evidence buf[0..len) with the leaf certificate's public
 * key leaf_pub and decode it. Errors: SP_ERR_CBOR_TOO_LARGE beyond
 * SP_EVIDENCE_MAX_SIZE; the COSE decode errors; SP_ERR_COSE_TAG if not
 * tagged; SP_ERR_COSE_ALG / SP_ERR_COSE_HEADER for a header other than
 * the one described above (a kid that is not the serial included);
 * SP_ERR_BAD_SIGNATURE; SP_ERR_KEY for a bad leaf_pub; the payload
 * errors of sp_evidence_decode. On error ev is zeroed. */
sp_err sp_evidence_verify (const sp_crypto_port *port,
                           const uint8_t *buf, size_t len,
                           const uint8_t leaf_pub[SP_P256_PUB_LEN],
                           sp_evidence *ev);

#endif /* SP_EVIDENCE_H */
