/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-evidence.c: the attestation evidence decoder on arbitrary input,
 * two ways: the input as a payload (sp_evidence_decode), and the input as
 * signed evidence through sp_evidence_verify with a stand-in port that
 * accepts every signature, so the fuzzer reaches the header and payload
 * checks behind it.
 *
 * For accepted evidence it checks what the format promises: every length
 * within its bounds, the pointers inside the input, and encoding the
 * decoded evidence again giving the very same payload bytes (one content,
 * one encoding).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-port.h"
#include "sp-evidence.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static uint8_t enc[SP_EVIDENCE_PAYLOAD_MAX];

static void
check (int ok)
{
  if (!ok)
    abort ();
}

static int
inside (const void *p, size_t len, const uint8_t *data, size_t size)
{
  const uint8_t *q = p;

  return q >= data && len <= size && q - data <= (ptrdiff_t) (size - len);
}

static void
check_evidence (const sp_evidence *ev, const uint8_t *data, size_t size,
                const uint8_t *payload, size_t payload_len)
{
  size_t len;

  check (ev->serial_len >= 1 && ev->serial_len <= SP_EVIDENCE_TEXT_MAX);
  check (ev->model_len >= 1 && ev->model_len <= SP_EVIDENCE_TEXT_MAX);
  check (ev->firmware_len >= 1 && ev->firmware_len <= SP_EVIDENCE_TEXT_MAX);
  check (inside (ev->serial, ev->serial_len, data, size));
  check (inside (ev->model, ev->model_len, data, size));
  check (inside (ev->firmware, ev->firmware_len, data, size));
  check (inside (ev->challenge, SP_EVIDENCE_CHALLENGE_LEN, data, size));
  check (inside (ev->kem_pub, SP_EVIDENCE_KEM_PUB_LEN, data, size));
  check (inside (ev->session_nonce, SP_EVIDENCE_NONCE_LEN, data, size));
  check (ev->kem_pub[0] == 0x04);

  /* One content, one encoding. */
  check (sp_evidence_encode (ev, enc, sizeof enc, &len) == SP_OK);
  check (len == payload_len && memcmp (enc, payload, len) == 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const uint8_t pub[SP_P256_PUB_LEN] = { 0x04 };
  sp_evidence ev;
  sp_cose_sign1 msg;

  if (sp_evidence_decode (data, size, &ev) == SP_OK)
    check_evidence (&ev, data, size, data, size);
  else
    check (ev.serial == NULL && ev.kem_pub == NULL);

  if (sp_evidence_verify (&fuzz_accept_port, data, size, pub, &ev) == SP_OK)
    {
      check (size <= SP_EVIDENCE_MAX_SIZE);
      check (sp_cose_sign1_decode (data, size, NULL, &msg) == SP_OK);
      check (msg.tagged && msg.kid_len == ev.serial_len &&
             memcmp (msg.kid, ev.serial, ev.serial_len) == 0);
      check_evidence (&ev, data, size, msg.payload, msg.payload_len);
    }
  else
    check (ev.serial == NULL);
  return 0;
}
