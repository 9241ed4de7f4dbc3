/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-msg.c: the device protocol's codec (proto/sp-msg.h): exact bytes,
 * round trips, and -- mostly -- what the strict decoders refuse: unknown,
 * missing, duplicate and unsorted keys, wrong types and lengths, limits,
 * other content types and headers, wrong keys.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "signet-crypto-port.h"
#include "sp-msg.h"

#define assert_err(expr, want)                                          \
  G_STMT_START {                                                        \
    sp_err e_ = (expr);                                                 \
    g_assert_cmpstr (sp_strerror (e_), ==, sp_strerror (want));         \
    g_assert_cmpint (e_, ==, want);                                     \
  } G_STMT_END

static const sp_crypto_port *port;
static sp_cbor_item items[SP_CBOR_DEFAULT_MAX_ITEMS];

static GBytes *
hex (const char *h)
{
  GByteArray *b = g_byte_array_new ();

  for (; *h != '\0'; h++)
    {
      guint v;
      guint8 byte;

      if (*h == ' ')
        continue;
      g_assert_true (sscanf (h, "%2x", &v) == 1);
      byte = (guint8) v;
      g_byte_array_append (b, &byte, 1);
      h++;
    }
  return g_byte_array_free_to_bytes (b);
}

static sp_err
decode_hex (const char *h, sp_msg_request *r)
{
  g_autoptr(GBytes) b = hex (h);

  return sp_msg_request_decode (g_bytes_get_data (b, NULL), g_bytes_get_size (b), items,
                                SP_MSG_DEVICE_ITEMS, r);
}

/* ------------------------------------------------------------------ */

static void
test_request_bytes (void)
{
  sp_msg_request r = { .type = SP_MSG_HELLO, .id = 7 };
  guint8 buf[64];
  size_t len;

  /* {0: 1, 1: 7} */
  assert_err (sp_msg_request_encode (&r, buf, sizeof buf, &len), SP_OK);
  g_assert_cmpmem (buf, len, "\xa2\x00\x01\x01\x07", 5);
  assert_err (sp_msg_request_decode (buf, len, items, 8, &r), SP_OK);
  g_assert_cmpuint (r.type, ==, SP_MSG_HELLO);
  g_assert_cmpuint (r.id, ==, 7);

  /* BULK_DATA: {0: 8, 1: 9, 2: 4096, 3: h'0102'} */
  memset (&r, 0, sizeof r);
  r.type = SP_MSG_BULK_DATA;
  r.id = 9;
  r.offset = 4096;
  r.data.ptr = (const guint8 *) "\x01\x02";
  r.data.len = 2;
  assert_err (sp_msg_request_encode (&r, buf, sizeof buf, &len), SP_OK);
  g_assert_cmpmem (buf, len, "\xa4\x00\x08\x01\x09\x02\x19\x10\x00\x03\x42\x01\x02", 13);
  /* A response to it: {0: 0x88, 1: 9, 2: 25, 3: 0} */
  {
    sp_msg_response resp;

    memset (&resp, 0, sizeof resp);
    resp.type = SP_MSG_BULK_DATA | SP_MSG_RESPONSE_BIT;
    resp.id = 9;
    resp.status = SP_MSG_BULK_OFFSET;
    resp.has_next_offset = true;
    assert_err (sp_msg_response_encode (&resp, buf, sizeof buf, &len), SP_OK);
    g_assert_cmpmem (buf, len, "\xa4\x00\x18\x88\x01\x09\x02\x18\x19\x03\x00", 11);
    resp.has_next_offset = false;
    assert_err (sp_msg_response_encode (&resp, buf, sizeof buf, &len), SP_ERR_MISSING);
  }
}

static void
test_request_refused (void)
{
  sp_msg_request r;

  /* envelope */
  assert_err (decode_hex ("", &r), SP_ERR_CBOR_TRUNCATED);
  g_assert_false (r.envelope_ok);
  assert_err (decode_hex ("80", &r), SP_ERR_TYPE);
  assert_err (decode_hex ("a10001", &r), SP_ERR_MISSING);
  assert_err (decode_hex ("a2000101 61 31", &r), SP_ERR_TYPE);
  assert_err (decode_hex ("a2000101 1b0000000100000000", &r), SP_ERR_VALUE);
  g_assert_false (r.envelope_ok);
  assert_err (decode_hex ("a2010100 01", &r), SP_ERR_CBOR_UNSORTED_KEYS);
  assert_err (decode_hex ("a3000101 0101 01", &r), SP_ERR_CBOR_DUPLICATE_KEY);
  assert_err (decode_hex ("a2000101 1801", &r), SP_ERR_CBOR_NON_MINIMAL);
  assert_err (decode_hex ("a2000101 01 00", &r), SP_ERR_CBOR_TRAILING);
  /* an unknown type: the envelope was read */
  assert_err (decode_hex ("a2001863 0105", &r), SP_ERR_VALUE);
  g_assert_true (r.envelope_ok);
  g_assert_cmpuint (r.type, ==, 99);
  g_assert_cmpuint (r.id, ==, 5);
  g_assert_cmpint (sp_msg_request_status (SP_ERR_VALUE, &r), ==, SP_MSG_UNSUPPORTED);
  /* HELLO with a body key; a text key */
  assert_err (decode_hex ("a3000101 05 0200", &r), SP_ERR_UNKNOWN_FIELD);
  g_assert_true (r.envelope_ok);
  g_assert_cmpuint (r.id, ==, 5);
  g_assert_cmpint (sp_msg_request_status (SP_ERR_UNKNOWN_FIELD, &r), ==, SP_MSG_MALFORMED);
  assert_err (decode_hex ("a3000101 05 6161 00", &r), SP_ERR_UNKNOWN_FIELD);
  /* ATTEST: a challenge of 31 bytes, or none */
  assert_err (decode_hex ("a3000201 05 02581f 00000000000000000000000000000000000000000000"
                          "000000000000000000", &r), SP_ERR_VALUE);
  assert_err (decode_hex ("a2000201 05", &r), SP_ERR_MISSING);
  /* AUTHORIZE: an empty token */
  assert_err (decode_hex ("a3000301 05 0240", &r), SP_ERR_VALUE);
  /* APPLY: no sealed array; a sealed entry with a bad enc, an extra key */
  assert_err (decode_hex ("a3000401 05 024101", &r), SP_ERR_MISSING);
  assert_err (decode_hex ("a4000401 05 024101 0381a3 01616b 024104 0350"
                          "00000000000000000000000000000000", &r), SP_ERR_VALUE);
  assert_err (decode_hex ("a4000401 05 024101 0381a1 0900", &r), SP_ERR_UNKNOWN_FIELD);
  /* BULK_DATA: no data; data over the chunk limit is a limit */
  assert_err (decode_hex ("a4000801 05 0200 0340", &r), SP_ERR_VALUE);
  g_assert_cmpint (sp_msg_request_status (SP_ERR_CBOR_TOO_LONG, &r), ==, SP_MSG_TOO_LARGE);
  /* READ: a key that is not text */
  assert_err (decode_hex ("a3000a01 05 028101", &r), SP_ERR_TYPE);
  /* over the size limit */
  {
    g_autofree guint8 *big = g_malloc0 (SP_MSG_MAX + 1);

    assert_err (sp_msg_request_decode (big, SP_MSG_MAX + 1, items, SP_MSG_DEVICE_ITEMS, &r),
                SP_ERR_CBOR_TOO_LARGE);
    g_assert_cmpint (sp_msg_request_status (SP_ERR_CBOR_TOO_LARGE, &r), ==, SP_MSG_TOO_LARGE);
  }
}

static void
test_response_refused (void)
{
  static const char *const bad[] = {
    "a3000101 0101 0200",          /* not a response type */
    "a3001881 0101 0218 1a",       /* status 26: none */
    "a3001881 0101 0200",          /* HELLO, OK, no body */
    "a4001881 0101 0202 0300",     /* a refusal with a body */
    "a30018e3 0101 0200",          /* unknown type, OK */
    "a3001888 0101 0218 19",       /* BULK_OFFSET without the offset */
  };
  sp_msg_response r;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GBytes) b = hex (bad[i]);

      g_assert_cmpint (sp_msg_response_decode (g_bytes_get_data (b, NULL),
                                               g_bytes_get_size (b), &r), !=, SP_OK);
    }
  {
    g_autoptr(GBytes) ok = hex ("a30018e3 0101 0202");   /* UNSUPPORTED, echoed */

    assert_err (sp_msg_response_decode (g_bytes_get_data (ok, NULL), g_bytes_get_size (ok),
                                        &r), SP_OK);
    g_assert_cmpuint (r.status, ==, SP_MSG_UNSUPPORTED);
  }
  g_assert_cmpstr (sp_msg_status_name (SP_MSG_NO_TRANSFER), ==, "NO_TRANSFER");
  g_assert_cmpstr (sp_msg_status_name (SP_MSG_STEP_UP), ==, "STEP_UP");
  g_assert_cmpstr (sp_msg_status_name (29), ==, "?");
}

/* ------------------------------------------------------------------ */

typedef struct {
  sp_key *key, *other;
  guint8 pub[65], other_pub[65];
  guint8 nonce[32], cti[16];
  guint8 args[64];
  size_t args_len;
} Keys;

static void
keys_setup (Keys *k, gconstpointer data)
{
  memset (k, 0, sizeof *k);
  assert_err (port->p256_generate (port->ctx, &k->key), SP_OK);
  assert_err (port->p256_public (port->ctx, k->key, k->pub), SP_OK);
  assert_err (port->p256_generate (port->ctx, &k->other), SP_OK);
  assert_err (port->p256_public (port->ctx, k->other, k->other_pub), SP_OK);
  memset (k->nonce, 0x42, 32);
  memcpy (k->cti, "cti-0123456789ab", 16);
  assert_err (sp_msg_commit_args_encode (5, k->args, sizeof k->args, &k->args_len), SP_OK);
}

static void
keys_teardown (Keys *k, gconstpointer data)
{
  port->key_free (port->ctx, k->key);
  port->key_free (port->ctx, k->other);
}

static void
fill_command (Keys *k, sp_msg_command *c)
{
  memset (c, 0, sizeof *c);
  c->serial = sp_msg_text_from ("SN-1");
  c->nonce.ptr = k->nonce;
  c->nonce.len = 32;
  c->seq = 3;
  c->op = SP_MSG_OP_COMMIT;
  c->args.ptr = k->args;
  c->args.len = k->args_len;
  c->cti.ptr = k->cti;
  c->cti.len = 16;
}

static void
test_command (Keys *k, gconstpointer data)
{
  guint8 buf[1024];
  sp_msg_command c, got;
  sp_cose_sign1 m;
  uint64_t version;
  size_t len;

  fill_command (k, &c);
  assert_err (sp_msg_command_sign (port, k->key, &c, buf, sizeof buf, &len), SP_OK);
  assert_err (sp_msg_command_verify (port, buf, len, k->pub, items, SP_MSG_DEVICE_ITEMS, &got),
              SP_OK);
  g_assert_cmpmem (got.serial.ptr, got.serial.len, "SN-1", 4);
  g_assert_cmpuint (got.seq, ==, 3);
  g_assert_cmpmem (got.kid.ptr, got.kid.len, k->cti, 16);
  assert_err (sp_msg_commit_args_decode (got.args.ptr, got.args.len, items,
                                         SP_MSG_ARGS_ITEMS, &version), SP_OK);
  g_assert_cmpuint (version, ==, 5);
  /* the wrong key; a bit flipped in the payload or the signature */
  assert_err (sp_msg_command_verify (port, buf, len, k->other_pub, items, SP_MSG_DEVICE_ITEMS,
                                     &got), SP_ERR_BAD_SIGNATURE);
  buf[len - 1] ^= 1;
  assert_err (sp_msg_command_verify (port, buf, len, k->pub, items, SP_MSG_DEVICE_ITEMS, &got),
              SP_ERR_BAD_SIGNATURE);
  buf[len - 1] ^= 1;
  /* untagged; truncated */
  assert_err (sp_msg_command_decode (buf + 1, len - 1, items, SP_MSG_DEVICE_ITEMS, &got, &m),
              SP_ERR_COSE_TAG);
  assert_err (sp_msg_command_decode (buf, len - 1, items, SP_MSG_DEVICE_ITEMS, &got, &m),
              SP_ERR_CBOR_TRUNCATED);
  /* too few items for the payload */
  assert_err (sp_msg_command_decode (buf, len, items, 12, &got, &m),
              SP_ERR_CBOR_TOO_MANY_ITEMS);
  /* what the encoder refuses: a cti too long, a nonce of 31 */
  c.nonce.len = 31;
  assert_err (sp_msg_command_sign (port, k->key, &c, buf, sizeof buf, &len), SP_ERR_VALUE);
}

/* Signed objects whose header is not exactly ours. */
static void
test_sign1_strict (Keys *k, gconstpointer data)
{
  static const char *const cty_cmd = SP_MSG_COMMAND_CONTENT_TYPE;
  sp_cose_sign1_params params;
  guint8 payload[256], buf[1024];
  sp_msg_command c;
  sp_cose_sign1 m;
  size_t plen, len;

  fill_command (k, &c);
  assert_err (sp_msg_command_encode (&c, payload, sizeof payload, &plen), SP_OK);
  memset (&params, 0, sizeof params);
  params.kid = k->cti;
  params.kid_len = 16;

  /* no content type; another one */
  assert_err (sp_cose_sign1_sign (port, k->key, &params, payload, plen, buf, sizeof buf, &len),
              SP_OK);
  assert_err (sp_msg_sign1_decode (buf, len, cty_cmd, items, 32, &m), SP_ERR_COSE_HEADER);
  params.content_type = SP_MSG_RECEIPT_CONTENT_TYPE;
  assert_err (sp_cose_sign1_sign (port, k->key, &params, payload, plen, buf, sizeof buf, &len),
              SP_OK);
  assert_err (sp_msg_sign1_decode (buf, len, cty_cmd, items, 32, &m), SP_ERR_COSE_HEADER);
  params.content_type = cty_cmd;
  assert_err (sp_cose_sign1_sign (port, k->key, &params, payload, plen, buf, sizeof buf, &len),
              SP_OK);
  assert_err (sp_msg_sign1_decode (buf, len, cty_cmd, items, 13, &m), SP_OK);
  /* an unprotected header that is not empty: 18([h'..', {4: h'00'}, ...]) */
  {
    sp_cbor_doc doc;
    size_t prot, unprot;
    const guint8 *p;
    size_t n;
    sp_cbor_writer w;
    guint8 out[1024];

    assert_err (sp_cbor_decode (buf, len, NULL, items, 32, &doc), SP_OK);
    prot = 2;
    unprot = doc.items[prot].next;
    sp_cbor_writer_init (&w, out, sizeof out);
    sp_cbor_put_tag (&w, 18);
    sp_cbor_put_array (&w, 4);
    assert_err (sp_cbor_get_raw (&doc, prot, &p, &n), SP_OK);
    sp_cbor_put_raw (&w, p, n);
    sp_cbor_put_map (&w, 1);
    sp_cbor_put_uint (&w, 5);
    sp_cbor_put_bytes (&w, "\x00", 1);
    assert_err (sp_cbor_get_raw (&doc, doc.items[unprot].next, &p, &n), SP_OK);
    sp_cbor_put_raw (&w, p, buf + len - p);
    assert_err (sp_cbor_writer_finish (&w, &n), SP_OK);
    assert_err (sp_msg_sign1_decode (out, n, cty_cmd, items, 32, &m), SP_ERR_COSE_HEADER);
  }
}

static void
test_receipt (Keys *k, gconstpointer data)
{
  static const guint8 d[32] = { 1, 2, 3 };
  sp_msg_receipt r, got;
  guint8 buf[SP_MSG_RECEIPT_MAX];
  size_t len;

  memset (&r, 0, sizeof r);
  r.serial = sp_msg_text_from ("SN-1");
  r.nonce.ptr = k->nonce;
  r.nonce.len = 32;
  r.seq = 4;
  r.command_digest.ptr = d;
  r.command_digest.len = 32;
  r.op = SP_MSG_OP_APPLY;
  r.committed_version = 1;
  r.pending_version = 2;
  r.config_digest.ptr = d;
  r.config_digest.len = 32;
  r.device_time = 1750000000;
  assert_err (sp_msg_receipt_sign (port, k->key, &r, buf, sizeof buf, &len), SP_OK);
  assert_err (sp_msg_receipt_verify (port, buf, len, k->pub, &got), SP_OK);
  g_assert_cmpuint (got.pending_version, ==, 2);
  g_assert_cmpuint (got.device_time, ==, 1750000000);
  assert_err (sp_msg_receipt_verify (port, buf, len, k->other_pub, &got),
              SP_ERR_BAD_SIGNATURE);
  g_assert_null (got.serial.ptr);
  /* signed by the right key but with another kid than the serial */
  {
    sp_cose_sign1_params params;
    guint8 payload[256], out[1024];
    size_t plen, n;

    assert_err (sp_msg_receipt_encode (&r, payload, sizeof payload, &plen), SP_OK);
    memset (&params, 0, sizeof params);
    params.kid = (const guint8 *) "SN-2";
    params.kid_len = 4;
    params.content_type = SP_MSG_RECEIPT_CONTENT_TYPE;
    assert_err (sp_cose_sign1_sign (port, k->key, &params, payload, plen, out, sizeof out, &n),
                SP_OK);
    assert_err (sp_msg_receipt_verify (port, out, n, k->pub, &got), SP_ERR_COSE_HEADER);
  }
  /* payload decoding: an extra key */
  {
    g_autoptr(GBytes) b = hex ("a1 0b00");

    assert_err (sp_msg_receipt_decode (g_bytes_get_data (b, NULL), 3, &got),
                SP_ERR_UNKNOWN_FIELD);
  }
}

/* ------------------------------------------------------------------ */

static void
test_apply_args (void)
{
  static const guint8 pd[32] = { 9 };
  sp_msg_kv kv[3];
  sp_msg_digest_entry de[2];
  sp_msg_apply_args a, got;
  guint8 vals[256], digs[256], buf[1024];
  size_t vl, dl, len;
  sp_msg_cursor c;
  sp_msg_value k, v;
  int64_t i;

  memset (kv, 0, sizeof kv);
  kv[0].key = sp_msg_text_from ("a.b");
  kv[0].type = SP_CBOR_BOOL;
  kv[0].b = true;
  kv[1].key = sp_msg_text_from ("a.c");
  kv[1].type = SP_CBOR_UINT;
  kv[1].i = -5;
  kv[2].key = sp_msg_text_from ("zz.long");
  kv[2].type = SP_CBOR_TEXT;
  kv[2].text = sp_msg_text_from ("x");
  assert_err (sp_msg_values_encode (kv, 3, vals, sizeof vals, &vl), SP_OK);
  /* keys must rise */
  {
    sp_msg_kv t = kv[0];

    kv[0] = kv[2];
    kv[2] = t;
    assert_err (sp_msg_values_encode (kv, 3, buf, sizeof buf, &len), SP_ERR_VALUE);
    kv[2] = kv[0];
    kv[0] = t;
  }
  de[0].key = sp_msg_text_from ("k.1");
  de[0].digest = pd;
  de[1].key = sp_msg_text_from ("k.1");
  de[1].digest = pd;
  assert_err (sp_msg_digests_encode (de, 2, digs, sizeof digs, &dl), SP_ERR_VALUE);
  assert_err (sp_msg_digests_encode (de, 1, digs, sizeof digs, &dl), SP_OK);

  memset (&a, 0, sizeof a);
  a.config_version = 3;
  a.values.ptr = vals;
  a.values.len = vl;
  a.digests.ptr = digs;
  a.digests.len = dl;
  a.profile = sp_msg_text_from ("p");
  a.profile_digest.ptr = pd;
  a.profile_digest.len = 32;
  assert_err (sp_msg_apply_args_encode (&a, buf, sizeof buf, &len), SP_OK);
  assert_err (sp_msg_apply_args_decode (buf, len, items, SP_MSG_DEVICE_ITEMS, &got), SP_OK);
  g_assert_cmpuint (got.n_values, ==, 3);
  g_assert_cmpuint (got.n_digests, ==, 1);
  g_assert_null (got.firmware_digest.ptr);
  assert_err (sp_msg_cursor_init_bytes (&c, got.values, SP_CBOR_MAP), SP_OK);
  g_assert_true (sp_msg_cursor_next_pair (&c, &k, &v));
  g_assert_cmpint (v.type, ==, SP_CBOR_BOOL);
  g_assert_true (sp_msg_cursor_next_pair (&c, &k, &v));
  g_assert_true (sp_msg_value_int (&v, &i));
  g_assert_cmpint (i, ==, -5);
  g_assert_true (sp_msg_cursor_next_pair (&c, &k, &v));
  g_assert_cmpmem (v.ptr, v.u, "x", 1);
  g_assert_false (sp_msg_cursor_next_pair (&c, &k, &v));

  /* a value that is a float, a map or a uint past int64_t; a 31-byte digest */
  {
    static const char *const bad_values[] = {
      "a1 6161 f93c00", "a1 6161 a0", "a1 6161 1bffffffffffffffff", "a1 6161 80",
    };

    for (gsize j = 0; j < G_N_ELEMENTS (bad_values); j++)
      {
        g_autoptr(GBytes) b = hex (bad_values[j]);

        a.values.ptr = g_bytes_get_data (b, &a.values.len);
        g_assert_cmpint (sp_msg_apply_args_encode (&a, buf, sizeof buf, &len), !=, SP_OK);
      }
  }
  /* commit and bulk args */
  {
    const guint8 *digest;
    uint64_t size;

    assert_err (sp_msg_bulk_args_encode (pd, 0, buf, sizeof buf, &len), SP_ERR_VALUE);
    assert_err (sp_msg_bulk_args_encode (pd, SP_MSG_BULK_MAX + 1ull, buf, sizeof buf, &len),
                SP_ERR_VALUE);
    assert_err (sp_msg_bulk_args_encode (pd, 100, buf, sizeof buf, &len), SP_OK);
    assert_err (sp_msg_bulk_args_decode (buf, len, items, SP_MSG_ARGS_ITEMS, &digest, &size),
                SP_OK);
    g_assert_cmpuint (size, ==, 100);
    assert_err (sp_msg_rollback_args_decode (buf, len, items, SP_MSG_ARGS_ITEMS),
                SP_ERR_UNKNOWN_FIELD);
    assert_err (sp_msg_rollback_args_decode ((const guint8 *) "\xa0", 1, items,
                                             SP_MSG_ARGS_ITEMS), SP_OK);
  }
}

static void
test_sealed_and_cursor (void)
{
  static const guint8 enc[65] = { 4 }, ct[20] = { 0 };
  sp_msg_sealed e[2], got;
  guint8 buf[512];
  sp_msg_cursor c;
  sp_msg_value v;
  size_t len;
  int n = 0;

  e[0].key = sp_msg_text_from ("wifi.psk");
  e[0].enc.ptr = enc;
  e[0].enc.len = 65;
  e[0].ct.ptr = ct;
  e[0].ct.len = 20;
  e[1] = e[0];
  e[1].ct.len = 15;
  assert_err (sp_msg_sealed_encode (e, 2, buf, sizeof buf, &len), SP_ERR_VALUE);
  assert_err (sp_msg_sealed_encode (e, 1, buf, sizeof buf, &len), SP_OK);
  assert_err (sp_msg_cursor_init (&c, buf, len, SP_CBOR_ARRAY), SP_OK);
  while (sp_msg_sealed_next (&c, &got))
    n++;
  g_assert_cmpint (n, ==, 1);
  g_assert_cmpuint (got.ct.len, ==, 0);   /* after the end: cleared */
  assert_err (sp_msg_cursor_init (&c, buf, len, SP_CBOR_MAP), SP_ERR_TYPE);

  /* The cursor on bytes it cannot trust stays inside them. */
  {
    static const guint8 junk[] = { 0x83, 0x01, 0x5a, 0xff, 0xff, 0xff, 0xff };

    assert_err (sp_msg_cursor_init (&c, junk, sizeof junk, SP_CBOR_ARRAY), SP_OK);
    g_assert_true (sp_msg_cursor_next (&c, &v));
    g_assert_false (sp_msg_cursor_next (&c, &v));
    g_assert_false (sp_msg_cursor_next (&c, &v));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  port = signet_crypto_port_openssl ();

  g_test_add_func ("/signet/msg/request/bytes", test_request_bytes);
  g_test_add_func ("/signet/msg/request/refused", test_request_refused);
  g_test_add_func ("/signet/msg/response/refused", test_response_refused);
  g_test_add ("/signet/msg/command", Keys, NULL, keys_setup, test_command, keys_teardown);
  g_test_add ("/signet/msg/sign1/strict", Keys, NULL, keys_setup, test_sign1_strict,
              keys_teardown);
  g_test_add ("/signet/msg/receipt", Keys, NULL, keys_setup, test_receipt, keys_teardown);
  g_test_add_func ("/signet/msg/apply-args", test_apply_args);
  g_test_add_func ("/signet/msg/sealed-and-cursor", test_sealed_and_cursor);
  return g_test_run ();
}
