/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-revocation.c: the revocation list decoder on arbitrary input, two
 * ways: the input as a payload (sp_revocation_decode), and the input as a
 * signed list through sp_revocation_verify with a stand-in port that
 * accepts every signature, so the fuzzer reaches the payload decoder.
 *
 * For an accepted list it checks the invariants the format promises:
 * every array strictly increasing, each entry found by the lookups, and
 * encoding the decoded content again giving the very same bytes (one
 * content, one encoding). It also runs the lookups on the fuzzer's bytes
 * and sp_revocation_supersedes against itself.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-port.h"
#include "sp-revocation.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define ITEMS SP_REVOCATION_ITEMS (SP_REVOCATION_MAX_ENTRIES)

static sp_cbor_item items[ITEMS];
static sp_revocation_view views[3][SP_REVOCATION_MAX_ENTRIES];
static uint8_t enc[SP_REVOCATION_MAX_SIZE];

static void
check (int ok)
{
  if (!ok)
    abort ();
}

static void
check_kind (const sp_revocation_list *l, sp_revocation_kind kind,
            sp_revocation_view *out, size_t *n_out)
{
  size_t n = sp_revocation_count (l, kind), i;
  sp_revocation_view e;

  check (n <= SP_REVOCATION_MAX_ENTRIES);
  for (i = 0; i < n; i++)
    {
      check (sp_revocation_get (l, kind, i, &out[i]) == SP_OK);
      check (out[i].len >= 1);
      check (out[i].len <= (kind == SP_REVOCATION_CTI ? SP_REVOCATION_CTI_MAX
                                                      : SP_REVOCATION_TEXT_MAX));
      check (sp_revocation_has (l, kind, out[i].ptr, out[i].len));
      if (i > 0)
        check (out[i - 1].len < out[i].len ||
               (out[i - 1].len == out[i].len &&
                memcmp (out[i - 1].ptr, out[i].ptr, out[i].len) < 0));
    }
  check (sp_revocation_get (l, kind, n, &e) == SP_ERR_INVALID_ARG);
  *n_out = n;
}

static void
check_list (const sp_revocation_list *l, const uint8_t *data, size_t size)
{
  sp_revocation_content c;
  size_t len, i;
  bool s = true;

  memset (&c, 0, sizeof c);
  c.version = l->version;
  c.iat = l->iat;
  check (l->iat >= 0);
  check_kind (l, SP_REVOCATION_CTI, views[0], &c.n_cti);
  check_kind (l, SP_REVOCATION_SUB, views[1], &c.n_sub);
  check_kind (l, SP_REVOCATION_SERIAL, views[2], &c.n_serial);
  c.cti = views[0];
  c.sub = views[1];
  c.serial = views[2];

  /* One content, one encoding. */
  check (sp_revocation_encode (&c, enc, sizeof enc, &len) == SP_OK);
  check (len == l->payload_len && memcmp (enc, l->payload, len) == 0);

  check (sp_revocation_supersedes (l, l, &s) == SP_OK && !s);
  check (sp_revocation_supersedes (l, NULL, &s) == SP_OK && s);

  /* Lookups of the fuzzer's own bytes, at a few lengths. */
  for (i = 0; i <= size && i <= SP_REVOCATION_TEXT_MAX; i += 7)
    {
      (void) sp_revocation_has_cti (l, data, i);
      (void) sp_revocation_has_sub (l, (const char *) data, i);
      (void) sp_revocation_has_serial (l, (const char *) data, i);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  sp_revocation_list l;
  sp_cose_key trusted[2];
  size_t idx;

  if (sp_revocation_decode (data, size, items, ITEMS, &l) == SP_OK)
    check_list (&l, data, size);
  else
    check (l.payload == NULL && l.n_cti == 0);

  /* The same input with a device-sized item array. */
  if (sp_revocation_decode (data, size, items, 40, &l) == SP_OK)
    check (sp_revocation_count (&l, SP_REVOCATION_CTI) +
           sp_revocation_count (&l, SP_REVOCATION_SUB) +
           sp_revocation_count (&l, SP_REVOCATION_SERIAL) <= 40 - 11);

  memset (trusted, 0, sizeof trusted);
  trusted[0].pub[0] = 0x04;
  memcpy (trusted[0].kid, "authority-1", 11);
  trusted[0].kid_len = 11;
  trusted[1].pub[0] = 0x04;
  memcpy (trusted[1].kid, "11", 2);
  trusted[1].kid_len = 2;
  if (sp_revocation_verify (&fuzz_accept_port, data, size, trusted, 2, items, ITEMS,
                            &l, &idx) == SP_OK)
    {
      check (idx < 2);
      check (l.payload > data && l.payload + l.payload_len <= data + size);
      check_list (&l, data, size);
    }
  return 0;
}
