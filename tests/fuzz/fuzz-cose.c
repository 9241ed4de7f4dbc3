/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-cose.c: sp_cose_sign1_decode () on arbitrary input; for every
 * accepted object, build its Sig_structure, run the policy check and the
 * verify path (with a stand-in crypto port that reads every byte it is
 * given, so ASan sees any bad view), and decode the payload as a
 * COSE_Key.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-port.h"
#include "sp-cose.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* A Sig_structure is at most the input plus a few heads. */
static uint8_t tbs[SP_CBOR_DEFAULT_MAX_SIZE + 64];

static void
check (int ok)
{
  if (!ok)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const uint8_t pub[SP_P256_PUB_LEN] = { 0x04 };
  sp_cose_sign1 msg;
  sp_cose_key key;
  size_t len;
  sp_err err;

  if (sp_cose_sign1_decode (data, size, NULL, &msg) != SP_OK)
    return 0;

  /* Views stay inside the input. */
  check (msg.payload >= data && msg.payload + msg.payload_len <= data + size);
  check (msg.signature >= data && msg.signature + msg.signature_len <= data + size);
  check (msg.protected_len == 0 ||
         (msg.protected_hdr >= data &&
          msg.protected_hdr + msg.protected_len <= data + size));
  check (msg.kid_in == SP_COSE_ABSENT ||
         (msg.kid >= data && msg.kid + msg.kid_len <= data + size));

  err = sp_cose_sign1_sig_structure (&msg, data, size > 16 ? 16 : size,
                                     tbs, sizeof tbs, &len);
  check (err == SP_OK && len <= size + 64);

  (void) sp_cose_sign1_check_strict (&msg, NULL);
  (void) sp_cose_sign1_check_strict (&msg, "application/cwt");
  (void) sp_cose_sign1_content_type_is (&msg, "application/cwt");

  err = sp_cose_sign1_verify (&fuzz_touch_port, &msg, pub, NULL, 0);
  check (err == SP_OK || err == SP_ERR_BAD_SIGNATURE || err == SP_ERR_COSE_ALG);
  /* Only an ES256 object with a 64-byte signature reaches the port. */
  if (err == SP_OK)
    check (msg.alg_is_int && msg.alg == SP_COSE_ALG_ES256 &&
           msg.signature_len == SP_P256_SIG_LEN);

  if (sp_cose_key_decode (msg.payload, msg.payload_len, &key) == SP_OK)
    {
      uint8_t enc[SP_COSE_KEY_MAX_LEN];

      check (key.pub[0] == 0x04 && key.kid_len <= SP_COSE_KID_MAX);
      check (sp_cose_key_encode (&key, true, enc, sizeof enc, &len) == SP_OK);
      sp_wipe (&key, sizeof key);
    }
  return 0;
}
