/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-msg.c: every decoder of proto/sp-msg.h on the same input -- the
 * request and response envelopes, the signed command (also behind an
 * accept-all signature port), the receipt payload, the arguments of
 * APPLY, COMMIT, ROLLBACK and BULK_BEGIN, the device's COSE_Sign1 -- and
 * the item-less cursor on arbitrary bytes.
 *
 * Oracles: what decodes re-encodes to the very same bytes (one content,
 * one encoding), every view stays inside the input, the cursor never
 * leaves the bytes it was given, and the decoders agree with themselves
 * when given fewer items (then they may only fail with
 * SP_ERR_CBOR_TOO_MANY_ITEMS).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-port.h"
#include "sp-msg.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static sp_cbor_item items[SP_CBOR_DEFAULT_MAX_ITEMS];
static uint8_t out[2 * SP_MSG_MAX];

static void
check (int ok)
{
  if (!ok)
    abort ();
}

static void
check_view (const void *p, size_t len, const uint8_t *data, size_t size)
{
  const uint8_t *b = p;

  if (b == NULL)
    {
      check (len == 0);
      return;
    }
  check (b >= data && len <= size && b - data <= (ptrdiff_t) (size - len));
}

/* An encoder's result: OK, and out[0..*len) the very input. */
static void
check_same (sp_err err, const size_t *len, const uint8_t *data, size_t size)
{
  check (err == SP_OK);
  check (*len == size && memcmp (out, data, size) == 0);
}

/* Walk any bytes as a container: stay inside, end. */
static void
walk (const uint8_t *data, size_t size, sp_cbor_type type)
{
  sp_msg_cursor c;
  sp_msg_value v;
  size_t steps = 0;
  int64_t i;

  if (sp_msg_cursor_init (&c, data, size, type) != SP_OK)
    return;
  while (sp_msg_cursor_next (&c, &v))
    {
      check_view (v.raw, v.raw_len, data, size);
      if (v.type == SP_CBOR_BYTES || v.type == SP_CBOR_TEXT)
        check_view (v.ptr, (size_t) v.u, data, size);
      (void) sp_msg_value_int (&v, &i);
      check (++steps <= size);
    }
}

static void
fuzz_request (const uint8_t *data, size_t size)
{
  sp_msg_request r, r2;
  sp_msg_cursor c;
  sp_msg_sealed e;
  size_t len, n = 0;
  sp_err err = sp_msg_request_decode (data, size, items, SP_CBOR_DEFAULT_MAX_ITEMS, &r);
  sp_err err2 = sp_msg_request_decode (data, size, items, SP_MSG_DEVICE_ITEMS, &r2);

  (void) sp_msg_request_status (err, &r);
  check (err2 == err || (err == SP_OK && err2 == SP_ERR_CBOR_TOO_MANY_ITEMS) ||
         (err != SP_OK && err2 == SP_ERR_CBOR_TOO_MANY_ITEMS));
  if (err != SP_OK)
    return;
  check (r.envelope_ok && sp_msg_type_is_request (r.type));
  check_view (r.challenge.ptr, r.challenge.len, data, size);
  check_view (r.token.ptr, r.token.len, data, size);
  check_view (r.command.ptr, r.command.len, data, size);
  check_view (r.sealed.ptr, r.sealed.len, data, size);
  check_view (r.data.ptr, r.data.len, data, size);
  check_view (r.keys.ptr, r.keys.len, data, size);
  check_view (r.list.ptr, r.list.len, data, size);
  if (r.sealed.ptr != NULL)
    {
      check (sp_msg_cursor_init_bytes (&c, r.sealed, SP_CBOR_ARRAY) == SP_OK);
      while (sp_msg_sealed_next (&c, &e))
        {
          check (e.enc.len == SP_MSG_ENC_LEN && e.ct.len >= SP_MSG_CT_MIN);
          check (e.key.len >= 1 && e.key.len <= SP_MSG_TEXT_MAX);
          n++;
        }
      check (n == r.n_sealed);
    }
  check_same (sp_msg_request_encode (&r, out, sizeof out, &len), &len, data, size);
}

static void
fuzz_response (const uint8_t *data, size_t size)
{
  sp_msg_response r;
  size_t len;

  if (sp_msg_response_decode (data, size, &r) != SP_OK)
    return;
  check ((r.type & SP_MSG_RESPONSE_BIT) != 0);
  check_view (r.evidence.ptr, r.evidence.len, data, size);
  check_view (r.config.ptr, r.config.len, data, size);
  check_view (r.diagnostics.ptr, r.diagnostics.len, data, size);
  check (r.n_chain <= SP_MSG_CHAIN_MAX);
  walk (r.config.ptr != NULL ? r.config.ptr : data, r.config.len, SP_CBOR_MAP);
  check_same (sp_msg_response_encode (&r, out, sizeof out, &len), &len, data, size);
}

static void
fuzz_command (const uint8_t *data, size_t size)
{
  static const uint8_t pub[SP_P256_PUB_LEN] = { 4 };
  sp_msg_command cmd;
  sp_cose_sign1 m;
  sp_cbor_item few[13];
  size_t len;
  sp_err err = sp_msg_command_decode (data, size, items, SP_CBOR_DEFAULT_MAX_ITEMS, &cmd,
                                      &m);

  if (err == SP_OK)
    {
      check_view (cmd.args.ptr, cmd.args.len, data, size);
      check_view (cmd.kid.ptr, cmd.kid.len, data, size);
      check_view (m.payload, m.payload_len, data, size);
      check (sp_msg_command_encode (&cmd, out, sizeof out, &len) == SP_OK);
      check (len == m.payload_len && memcmp (out, m.payload, len) == 0);
      check (sp_msg_command_verify (&fuzz_accept_port, data, size, pub, items,
                                    SP_CBOR_DEFAULT_MAX_ITEMS, &cmd) ==
             (m.signature_len == SP_P256_SIG_LEN ? SP_OK : SP_ERR_BAD_SIGNATURE));
    }
  /* The envelope alone fits 13 items. */
  if (sp_msg_sign1_decode (data, size, SP_MSG_COMMAND_CONTENT_TYPE, few, 13, &m) == SP_OK)
    {
      check_view (m.protected_hdr, m.protected_len, data, size);
      check_view (m.kid, m.kid_len, data, size);
      check (m.kid_len >= 1 && m.kid_len <= SP_COSE_KID_MAX);
    }
  (void) sp_msg_sign1_decode (data, size, "application/cwt", items,
                              SP_CBOR_DEFAULT_MAX_ITEMS, &m);
}

static void
fuzz_payloads (const uint8_t *data, size_t size)
{
  sp_msg_receipt rc;
  sp_msg_apply_args a;
  const uint8_t *digest;
  uint64_t v;
  size_t len;

  if (sp_msg_receipt_decode (data, size, &rc) == SP_OK)
    {
      check (rc.nonce.len == 32 && rc.command_digest.len == 32 && rc.config_digest.len == 32);
      check_same (sp_msg_receipt_encode (&rc, out, sizeof out, &len), &len, data, size);
    }
  if (sp_msg_apply_args_decode (data, size, items, SP_CBOR_DEFAULT_MAX_ITEMS, &a) == SP_OK)
    {
      check (a.n_values <= SP_MSG_VALUES_MAX && a.n_digests <= SP_MSG_VALUES_MAX);
      walk (a.values.ptr, a.values.len, SP_CBOR_MAP);
      walk (a.digests.ptr, a.digests.len, SP_CBOR_MAP);
      check_same (sp_msg_apply_args_encode (&a, out, sizeof out, &len), &len, data, size);
    }
  if (sp_msg_commit_args_decode (data, size, items, SP_MSG_ARGS_ITEMS, &v) == SP_OK)
    check_same (sp_msg_commit_args_encode (v, out, sizeof out, &len), &len, data, size);
  if (sp_msg_rollback_args_decode (data, size, items, SP_MSG_ARGS_ITEMS) == SP_OK)
    check (size == 1 && data[0] == 0xA0);
  if (sp_msg_bulk_args_decode (data, size, items, SP_MSG_ARGS_ITEMS, &digest, &v) == SP_OK)
    check_same (sp_msg_bulk_args_encode (digest, v, out, sizeof out, &len), &len, data,
                size);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_request (data, size);
  fuzz_response (data, size);
  fuzz_command (data, size);
  fuzz_payloads (data, size);
  walk (data, size, SP_CBOR_MAP);
  walk (data, size, SP_CBOR_ARRAY);
  return 0;
}
