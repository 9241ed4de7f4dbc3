/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-crypto: core's primitives (signet-crypto.h), proto's HKDF and every
 * entry of the OpenSSL crypto port, against published known answers:
 * FIPS 180-2 (SHA-256), RFC 4231 (HMAC-SHA-256), RFC 5869 (HKDF),
 * McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 1-4
 * and 13-16 (AES-GCM), RFC 6979 A.2.5 (a P-256 key pair and signature).
 */
#include "signet-test-util.h"
#include "config.h"

#include <string.h>

#include <openssl/err.h>

#include "signet-crypto.h"
#include "signet-crypto-port.h"
#include "signet-secret.h"
#include "sp-hkdf.h"

static void
assert_bytes_hex (GBytes     *bytes,
                  const char *hex)
{
  g_autoptr(GBytes) expected = signet_test_hex (hex);

  g_assert_nonnull (bytes);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                   g_bytes_get_data (expected, NULL),
                   g_bytes_get_size (expected));
}

static GBytes *
str_bytes (const char *s)
{
  return g_bytes_new (s, strlen (s));
}

/* ---- SHA-256 ------------------------------------------------------------ */

static const struct {
  const char *msg;
  const char *digest;
} sha256_vectors[] = {
  { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
  { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
  { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
};

static void
test_sha256_fips180 (void)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (sha256_vectors); i++)
    {
      const char *msg = sha256_vectors[i].msg;
      g_autoptr(GBytes) in = str_bytes (msg);
      g_autoptr(GBytes) out = signet_sha256 (in);
      g_autoptr(GBytes) expected = signet_test_hex (sha256_vectors[i].digest);
      gsize split;

      assert_bytes_hex (out, sha256_vectors[i].digest);

      /* the port, with the message cut into two pieces at every point */
      for (split = 0; split <= strlen (msg); split++)
        {
          sp_iovec iov[2] = {
            { msg, split },
            { msg + split, strlen (msg) - split },
          };
          guint8 digest[SP_SHA256_LEN];

          g_assert_cmpint (port->sha256 (port->ctx, iov, 2, digest), ==, SP_OK);
          g_assert_cmpmem (digest, sizeof digest,
                           g_bytes_get_data (expected, NULL), 32);
        }
    }
}

static void
test_sha256_million (void)
{
  g_autofree char *msg = g_malloc (1000000);
  g_autoptr(GBytes) in = NULL;
  g_autoptr(GBytes) out = NULL;

  memset (msg, 'a', 1000000);
  in = g_bytes_new_static (msg, 1000000);
  out = signet_sha256 (in);
  assert_bytes_hex (out,
                    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* ---- HMAC-SHA-256 (RFC 4231) --------------------------------------------- */

static void
test_hmac_rfc4231 (void)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  g_autofree guint8 *k20 = g_malloc (20);
  g_autofree guint8 *k131 = g_malloc (131);
  g_autofree guint8 *d50a = g_malloc (50);
  g_autofree guint8 *d50b = g_malloc (50);
  static const guint8 k4[25] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
    21, 22, 23, 24, 25,
  };
  struct {
    const guint8 *key;
    gsize key_len;
    const guint8 *data;
    gsize data_len;
    const char *mac;
  } cases[6];
  const char *t6 = "Test Using Larger Than Block-Size Key - Hash Key First";
  const char *t7 = "This is a test using a larger than block-size key and a "
                   "larger than block-size data. The key needs to be hashed "
                   "before being used by the HMAC algorithm.";
  g_autofree guint8 *k0b = g_malloc (20);
  gsize i;

  memset (k0b, 0x0b, 20);
  memset (k20, 0xaa, 20);
  memset (k131, 0xaa, 131);
  memset (d50a, 0xdd, 50);
  memset (d50b, 0xcd, 50);

  /* test cases 1, 2, 3, 4, 6, 7 (5 is a truncated MAC) */
  cases[0] = (typeof (cases[0])) { k0b, 20, (const guint8 *) "Hi There", 8,
    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" };
  cases[1] = (typeof (cases[0])) { (const guint8 *) "Jefe", 4,
    (const guint8 *) "what do ya want for nothing?", 28,
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" };
  cases[2] = (typeof (cases[0])) { k20, 20, d50a, 50,
    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" };
  cases[3] = (typeof (cases[0])) { k4, 25, d50b, 50,
    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" };
  cases[4] = (typeof (cases[0])) { k131, 131, (const guint8 *) t6, strlen (t6),
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" };
  cases[5] = (typeof (cases[0])) { k131, 131, (const guint8 *) t7, strlen (t7),
    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" };

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) key = g_bytes_new (cases[i].key, cases[i].key_len);
      g_autoptr(GBytes) data = g_bytes_new (cases[i].data, cases[i].data_len);
      g_autoptr(GBytes) expected = signet_test_hex (cases[i].mac);
      g_autoptr(GBytes) mac = NULL;
      g_autoptr(GError) error = NULL;
      sp_iovec iov[3] = {
        { cases[i].data, 1 },
        { cases[i].data + 1, 0 },
        { cases[i].data + 1, cases[i].data_len - 1 },
      };
      guint8 out[SP_SHA256_LEN];

      mac = signet_hmac_sha256 (key, data, &error);
      g_assert_no_error (error);
      assert_bytes_hex (mac, cases[i].mac);

      g_assert_cmpint (port->hmac_sha256 (port->ctx, cases[i].key,
                                          cases[i].key_len, iov, 3, out),
                       ==, SP_OK);
      g_assert_cmpmem (out, sizeof out, g_bytes_get_data (expected, NULL), 32);
    }
}

static void
test_hmac_empty (void)
{
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(GBytes) mac = NULL;
  g_autoptr(GError) error = NULL;

  /* HMAC-SHA-256 with an empty key over an empty message (computed by
   * Python's hmac module, an independent implementation) */
  mac = signet_hmac_sha256 (empty, empty, &error);
  g_assert_no_error (error);
  assert_bytes_hex (mac,
                    "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

/* ---- HKDF (RFC 5869 A.1-A.3) ------------------------------------------- */

typedef struct {
  GBytes *ikm;
  GBytes *salt;
  GBytes *info;
  gsize length;
  const char *prk;
  const char *okm;
} HkdfCase;

static void
hkdf_case_clear (HkdfCase *c)
{
  g_clear_pointer (&c->ikm, g_bytes_unref);
  g_clear_pointer (&c->salt, g_bytes_unref);
  g_clear_pointer (&c->info, g_bytes_unref);
}

static GBytes *
byte_range (guint first,
            guint end)
{
  GByteArray *a = g_byte_array_new ();
  guint i;

  for (i = first; i < end; i++)
    {
      guint8 b = (guint8) i;
      g_byte_array_append (a, &b, 1);
    }
  return g_byte_array_free_to_bytes (a);
}

static void
hkdf_cases (HkdfCase c[3])
{
  guint8 ikm[22];

  memset (ikm, 0x0b, sizeof ikm);
  c[0] = (HkdfCase) {
    g_bytes_new (ikm, 22), byte_range (0x00, 0x0d), byte_range (0xf0, 0xfa), 42,
    "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
    "34007208d5b887185865",
  };
  c[1] = (HkdfCase) {
    byte_range (0x00, 0x50), byte_range (0x60, 0xb0), byte_range (0xb0, 0x100), 82,
    "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
    "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
    "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
    "cc30c58179ec3e87c14c01d5c1f3434f1d87",
  };
  c[2] = (HkdfCase) {
    g_bytes_new (ikm, 22), g_bytes_new (NULL, 0), g_bytes_new (NULL, 0), 42,
    "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
    "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
    "9d201395faa4b61a96c8",
  };
}

static void
test_hkdf_core (void)
{
  HkdfCase c[3];
  gsize i;

  hkdf_cases (c);
  for (i = 0; i < G_N_ELEMENTS (c); i++)
    {
      g_autoptr(GBytes) okm = NULL;
      g_autoptr(GError) error = NULL;

      okm = signet_hkdf_sha256 (c[i].ikm, c[i].salt, c[i].info, c[i].length,
                                &error);
      g_assert_no_error (error);
      assert_bytes_hex (okm, c[i].okm);
      hkdf_case_clear (&c[i]);
    }
}

static void
test_hkdf_core_null_salt (void)
{
  HkdfCase c[3];
  g_autoptr(GBytes) okm = NULL;
  g_autoptr(GError) error = NULL;

  /* test case 3 again with NULL salt and info: the same as empty */
  hkdf_cases (c);
  okm = signet_hkdf_sha256 (c[2].ikm, NULL, NULL, c[2].length, &error);
  g_assert_no_error (error);
  assert_bytes_hex (okm, c[2].okm);
  for (gsize i = 0; i < G_N_ELEMENTS (c); i++)
    hkdf_case_clear (&c[i]);
}

static void
test_hkdf_core_bad_length (void)
{
  g_autoptr(GBytes) ikm = g_bytes_new ("k", 1);
  g_autoptr(GBytes) okm = NULL;
  g_autoptr(GError) error = NULL;

  okm = signet_hkdf_sha256 (ikm, NULL, NULL, 0, &error);
  g_assert_error (error, SIGNET_CRYPTO_ERROR, SIGNET_CRYPTO_ERROR_INVALID_ARGUMENT);
  g_assert_null (okm);
  g_clear_error (&error);

  okm = signet_hkdf_sha256 (ikm, NULL, NULL, 255 * 32 + 1, &error);
  g_assert_error (error, SIGNET_CRYPTO_ERROR, SIGNET_CRYPTO_ERROR_INVALID_ARGUMENT);
  g_assert_null (okm);
  g_clear_error (&error);

  okm = signet_hkdf_sha256 (ikm, NULL, NULL, 255 * 32, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (okm), ==, 255 * 32);
}

static void
test_hkdf_proto (void)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  HkdfCase c[3];
  gsize i;

  hkdf_cases (c);
  for (i = 0; i < G_N_ELEMENTS (c); i++)
    {
      gsize ikm_len, salt_len, info_len;
      const guint8 *ikm = g_bytes_get_data (c[i].ikm, &ikm_len);
      const guint8 *salt = g_bytes_get_data (c[i].salt, &salt_len);
      const guint8 *info = g_bytes_get_data (c[i].info, &info_len);
      g_autoptr(GBytes) prk_expected = signet_test_hex (c[i].prk);
      g_autoptr(GBytes) okm_expected = signet_test_hex (c[i].okm);
      /* ikm and info in three pieces each, one of them empty */
      sp_iovec ikm_iov[3] = {
        { ikm, ikm_len / 3 }, { ikm, 0 }, { ikm + ikm_len / 3, ikm_len - ikm_len / 3 },
      };
      sp_iovec info_iov[3] = {
        { info, info_len / 2 }, { info + info_len / 2, info_len - info_len / 2 },
        { info, 0 },
      };
      guint8 prk[SP_SHA256_LEN];
      guint8 okm[100];

      g_assert_cmpint (sp_hkdf_sha256_extract (port, salt, salt_len, ikm_iov, 3,
                                               prk), ==, SP_OK);
      g_assert_cmpmem (prk, sizeof prk, g_bytes_get_data (prk_expected, NULL),
                       g_bytes_get_size (prk_expected));

      g_assert_cmpint (sp_hkdf_sha256_expand (port, prk, sizeof prk, info_iov, 3,
                                              okm, c[i].length), ==, SP_OK);
      g_assert_cmpmem (okm, c[i].length, g_bytes_get_data (okm_expected, NULL),
                       g_bytes_get_size (okm_expected));

      memset (okm, 0, sizeof okm);
      g_assert_cmpint (sp_hkdf_sha256 (port, salt, salt_len, ikm_iov, 3,
                                       info_iov, 3, okm, c[i].length), ==, SP_OK);
      g_assert_cmpmem (okm, c[i].length, g_bytes_get_data (okm_expected, NULL),
                       g_bytes_get_size (okm_expected));
      hkdf_case_clear (&c[i]);
    }
}

static void
test_hkdf_proto_limits (void)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  guint8 prk[SP_SHA256_LEN] = { 1 };
  g_autofree guint8 *okm = g_malloc (SP_HKDF_SHA256_MAX_OKM + 1);
  sp_iovec iov[SP_HKDF_MAX_INFO_IOV + 1] = { { NULL, 0 } };
  g_autoptr(GBytes) ikm = g_bytes_new (prk, sizeof prk);
  g_autoptr(GBytes) core = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (sp_hkdf_sha256_expand (port, prk, sizeof prk, NULL, 0, okm, 0),
                   ==, SP_ERR_INVALID_ARG);
  g_assert_cmpint (sp_hkdf_sha256_expand (port, prk, sizeof prk, NULL, 0, okm,
                                          SP_HKDF_SHA256_MAX_OKM + 1),
                   ==, SP_ERR_INVALID_ARG);
  g_assert_cmpint (sp_hkdf_sha256_expand (port, prk, sizeof prk, iov,
                                          SP_HKDF_MAX_INFO_IOV + 1, okm, 32),
                   ==, SP_ERR_INVALID_ARG);
  g_assert_cmpint (sp_hkdf_sha256_expand (port, prk, sizeof prk, iov,
                                          SP_HKDF_MAX_INFO_IOV, okm, 32),
                   ==, SP_OK);

  /* the longest output agrees with OpenSSL's HKDF (its last block uses
   * counter 255) */
  g_assert_cmpint (sp_hkdf_sha256 (port, NULL, 0, &(sp_iovec) { prk, sizeof prk }, 1,
                                   NULL, 0, okm, SP_HKDF_SHA256_MAX_OKM), ==, SP_OK);
  core = signet_hkdf_sha256 (ikm, NULL, NULL, SP_HKDF_SHA256_MAX_OKM, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (okm, SP_HKDF_SHA256_MAX_OKM, g_bytes_get_data (core, NULL),
                   g_bytes_get_size (core));
}

/* ---- AES-GCM (McGrew & Viega test cases) ------------------------------- */

static const struct {
  const char *name;
  const char *key;
  const char *iv;
  const char *pt;
  const char *aad;
  const char *ct_tag;
} gcm_vectors[] = {
#define GCM_K "feffe9928665731c6d6a8f9467308308"
#define GCM_IV "cafebabefacedbaddecaf888"
#define GCM_P60 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
                "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_P64 GCM_P60 "1aafd255"
#define GCM_A "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define GCM_C128 "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e" \
                 "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
#define GCM_C256 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" \
                 "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
  { "1", "00000000000000000000000000000000", "000000000000000000000000", "", "",
    "58e2fccefa7e3061367f1d57a4e7455a" },
  { "2", "00000000000000000000000000000000", "000000000000000000000000",
    "00000000000000000000000000000000", "",
    "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf" },
  { "3", GCM_K, GCM_IV, GCM_P64, "",
    GCM_C128 "473f5985" "4d5c2af327cd64a62cf35abd2ba6fab4" },
  { "4", GCM_K, GCM_IV, GCM_P60, GCM_A,
    GCM_C128 "5bc94fbc3221a5db94fae95ae7121a47" },
  { "13", "0000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000", "", "", "530f8afbc74536b9a963b4f1c4cb738b" },
  { "14", "0000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000", "00000000000000000000000000000000", "",
    "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919" },
  { "15", GCM_K GCM_K, GCM_IV, GCM_P64, "",
    GCM_C256 "898015ad" "b094dac5d93471bdec1a502270e3cc6c" },
  { "16", GCM_K GCM_K, GCM_IV, GCM_P60, GCM_A,
    GCM_C256 "76fc6ece0f4e1768cddf8853bb2d551b" },
};

static void
test_gcm_vectors (void)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (gcm_vectors); i++)
    {
      g_autoptr(GBytes) key = signet_test_hex (gcm_vectors[i].key);
      g_autoptr(GBytes) iv = signet_test_hex (gcm_vectors[i].iv);
      g_autoptr(GBytes) pt = signet_test_hex (gcm_vectors[i].pt);
      g_autoptr(GBytes) aad = signet_test_hex (gcm_vectors[i].aad);
      g_autoptr(GBytes) expected = signet_test_hex (gcm_vectors[i].ct_tag);
      g_autoptr(GBytes) ct = NULL;
      g_autoptr(GBytes) back = NULL;
      g_autoptr(GError) error = NULL;

      g_test_message ("GCM test case %s", gcm_vectors[i].name);
      ct = signet_aes_gcm_seal (key, iv, g_bytes_get_size (aad) > 0 ? aad : NULL,
                                pt, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (ct, expected));

      back = signet_aes_gcm_open (key, iv, aad, ct, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (back, pt));
    }
}

static void
test_gcm_tamper (void)
{
  gsize v;

  /* every single-bit flip of ct||tag, of the aad and of the nonce fails,
   * for both key sizes (test cases 4 and 16) */
  for (v = 0; v < G_N_ELEMENTS (gcm_vectors); v++)
    {
      g_autoptr(GBytes) key = NULL;
      g_autoptr(GBytes) iv = NULL;
      g_autoptr(GBytes) aad = NULL;
      g_autoptr(GBytes) ct = NULL;
      gsize which, i;

      if (*gcm_vectors[v].aad == '\0')
        continue;
      key = signet_test_hex (gcm_vectors[v].key);
      iv = signet_test_hex (gcm_vectors[v].iv);
      aad = signet_test_hex (gcm_vectors[v].aad);
      ct = signet_test_hex (gcm_vectors[v].ct_tag);

      for (which = 0; which < 3; which++)
        {
          GBytes *target = which == 0 ? ct : which == 1 ? aad : iv;
          gsize len = g_bytes_get_size (target);

          for (i = 0; i < len * 8; i++)
            {
              g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (target, NULL), len);
              g_autoptr(GBytes) flipped = NULL;
              g_autoptr(GBytes) pt = NULL;
              g_autoptr(GError) error = NULL;

              copy[i / 8] ^= (guint8) (1u << (i % 8));
              flipped = g_bytes_new (copy, len);
              pt = signet_aes_gcm_open (key,
                                        which == 2 ? flipped : iv,
                                        which == 1 ? flipped : aad,
                                        which == 0 ? flipped : ct,
                                        &error);
              g_assert_error (error, SIGNET_CRYPTO_ERROR,
                              SIGNET_CRYPTO_ERROR_AUTHENTICATION);
              g_assert_null (pt);
            }
        }

      /* dropping the aad, or truncating, fails too */
      {
        g_autoptr(GBytes) pt = NULL;
        g_autoptr(GBytes) shorter = g_bytes_new_from_bytes (ct, 0, g_bytes_get_size (ct) - 1);
        g_autoptr(GError) error = NULL;

        pt = signet_aes_gcm_open (key, iv, NULL, ct, &error);
        g_assert_error (error, SIGNET_CRYPTO_ERROR, SIGNET_CRYPTO_ERROR_AUTHENTICATION);
        g_clear_error (&error);
        pt = signet_aes_gcm_open (key, iv, aad, shorter, &error);
        g_assert_error (error, SIGNET_CRYPTO_ERROR, SIGNET_CRYPTO_ERROR_AUTHENTICATION);
      }
    }
}

static void
test_gcm_bad_args (void)
{
  g_autoptr(GBytes) key15 = g_bytes_new_take (g_malloc0 (15), 15);
  g_autoptr(GBytes) key24 = g_bytes_new_take (g_malloc0 (24), 24);
  g_autoptr(GBytes) key16 = g_bytes_new_take (g_malloc0 (16), 16);
  g_autoptr(GBytes) iv12 = g_bytes_new_take (g_malloc0 (12), 12);
  g_autoptr(GBytes) iv16 = g_bytes_new_take (g_malloc0 (16), 16);
  g_autoptr(GBytes) tag15 = g_bytes_new_take (g_malloc0 (15), 15);
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GError) error = NULL;

  out = signet_aes_gcm_seal (key15, iv12, NULL, empty, &error);
  g_assert_error (error, SIGNET_CRYPTO_ERROR, SIGNET_CRYPTO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "16 or 32"));
  g_clear_error (&error);

  /* AES-192 is not offered */
  out = signet_aes_gcm_seal (key24, iv12, NULL, empty, &error);
  g_assert_error (error, SIGNET_CRYPTO_ERROR, SIGNET_CRYPTO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  out = signet_aes_gcm_open (key16, iv16, NULL, empty, &error);
  g_assert_error (error, SIGNET_CRYPTO_ERROR, SIGNET_CRYPTO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "nonce"));
  g_clear_error (&error);

  out = signet_aes_gcm_open (key16, iv12, NULL, tag15, &error);
  g_assert_error (error, SIGNET_CRYPTO_ERROR, SIGNET_CRYPTO_ERROR_AUTHENTICATION);
  g_assert_null (out);
}

static void
test_random (void)
{
  g_autoptr(GBytes) a = NULL;
  g_autoptr(GBytes) b = NULL;
  g_autoptr(GBytes) z = NULL;
  g_autoptr(GError) error = NULL;

  a = signet_random_bytes (32, &error);
  g_assert_no_error (error);
  b = signet_random_bytes (32, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (a), ==, 32);
  g_assert_false (g_bytes_equal (a, b));
  z = signet_random_bytes (0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (z), ==, 0);
}

static void
test_openssl_error (void)
{
  g_autoptr(GError) error = NULL;

  /* The free-form data of an error (here: something that looks like key
   * material) must not reach the message; the reason string must. */
  ERR_raise_data (ERR_LIB_EVP, EVP_R_BAD_DECRYPT, "secret=%s", "c0ffee");
  g_assert_false (signet_crypto_set_openssl_error (&error, SIGNET_CRYPTO_ERROR,
                                                   SIGNET_CRYPTO_ERROR_FAILED,
                                                   "Unwrapping"));
  g_assert_error (error, SIGNET_CRYPTO_ERROR, SIGNET_CRYPTO_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "Unwrapping: "));
  g_assert_null (strstr (error->message, "c0ffee"));
  g_assert_nonnull (strstr (error->message, "bad decrypt"));
  g_assert_cmpuint (ERR_peek_error (), ==, 0);
  g_clear_error (&error);

  /* an empty queue still gives a sentence */
  signet_crypto_set_openssl_error (&error, SIGNET_CRYPTO_ERROR,
                                   SIGNET_CRYPTO_ERROR_FAILED, "X");
  g_assert_cmpstr (error->message, ==, "X: OpenSSL failed");
}

/* ---- the OpenSSL crypto port ---------------------------------------------- */

/* RFC 6979 A.2.5: the P-256 key, and its deterministic signature of
 * "sample" with SHA-256 (any ECDSA verifier accepts it). */
#define RFC6979_X "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"
#define RFC6979_U "04" \
  "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6" \
  "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"
#define RFC6979_SIG \
  "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716" \
  "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"
#define P256_N "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
#define P256_G "04" \
  "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296" \
  "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"

/* -G = (Gx, p - Gy), the public key of d = n - 1 */
#define P256_MINUS_G "04" \
  "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296" \
  "b01cbd1c01e58065711814b583f061e9d431cca994cea1313449bf97c840ae0a"

static void
sample_digest (guint8 digest[SP_SHA256_LEN])
{
  signet_sha256_buf ("sample", 6, digest);
}

static void
test_port_rfc6979 (void)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  guint8 d[32], pub[65], expected_pub[65], sig[64], digest[32], mine[64];
  sp_key *key = NULL;

  signet_test_hex_fill (RFC6979_X, d, 32);
  signet_test_hex_fill (RFC6979_U, expected_pub, 65);
  signet_test_hex_fill (RFC6979_SIG, sig, 64);
  sample_digest (digest);

  g_assert_cmpint (port->p256_import_private (port->ctx, d, &key), ==, SP_OK);
  g_assert_cmpint (port->p256_public (port->ctx, key, pub), ==, SP_OK);
  g_assert_cmpmem (pub, 65, expected_pub, 65);

  g_assert_cmpint (port->ecdsa_p256_verify (port->ctx, pub, digest, sig), ==, SP_OK);

  /* OpenSSL 3.0 signs with a random k, so only verify our own signature */
  g_assert_cmpint (port->ecdsa_p256_sign (port->ctx, key, digest, mine), ==, SP_OK);
  g_assert_cmpint (port->ecdsa_p256_verify (port->ctx, pub, digest, mine), ==, SP_OK);
  port->key_free (port->ctx, key);
}

static void
test_port_sign_bit_flips (void)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  guint8 pub[65], sig[64], digest[32];
  sp_key *key = NULL;
  guint i;

  sample_digest (digest);
  g_assert_cmpint (port->p256_generate (port->ctx, &key), ==, SP_OK);
  g_assert_cmpint (port->p256_public (port->ctx, key, pub), ==, SP_OK);
  g_assert_cmpint (pub[0], ==, 0x04);
  g_assert_cmpint (port->ecdsa_p256_sign (port->ctx, key, digest, sig), ==, SP_OK);
  g_assert_cmpint (port->ecdsa_p256_verify (port->ctx, pub, digest, sig), ==, SP_OK);

  for (i = 0; i < 64 * 8; i++)
    {
      guint8 bad[64];

      memcpy (bad, sig, 64);
      bad[i / 8] ^= (guint8) (1u << (i % 8));
      g_assert_cmpint (port->ecdsa_p256_verify (port->ctx, pub, digest, bad),
                       ==, SP_ERR_BAD_SIGNATURE);
    }
  for (i = 0; i < 32 * 8; i++)
    {
      guint8 bad[32];

      memcpy (bad, digest, 32);
      bad[i / 8] ^= (guint8) (1u << (i % 8));
      g_assert_cmpint (port->ecdsa_p256_verify (port->ctx, pub, bad, sig),
                       ==, SP_ERR_BAD_SIGNATURE);
    }
  port->key_free (port->ctx, key);
}

static void
test_port_sig_range (void)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  guint8 pub[65], sig[64], digest[32], n[32];
  const char *bad_scalars[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    P256_N,
    "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632552",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
  };
  gsize i;

  signet_test_hex_fill (RFC6979_U, pub, 65);
  signet_test_hex_fill (RFC6979_SIG, sig, 64);
  signet_test_hex_fill (P256_N, n, 32);
  sample_digest (digest);

  for (i = 0; i < G_N_ELEMENTS (bad_scalars); i++)
    {
      guint8 bad[64];

      /* r out of range */
      memcpy (bad, sig, 64);
      signet_test_hex_fill (bad_scalars[i], bad, 32);
      g_assert_cmpint (port->ecdsa_p256_verify (port->ctx, pub, digest, bad),
                       ==, SP_ERR_BAD_SIGNATURE);
      /* s out of range */
      memcpy (bad, sig, 64);
      signet_test_hex_fill (bad_scalars[i], bad + 32, 32);
      g_assert_cmpint (port->ecdsa_p256_verify (port->ctx, pub, digest, bad),
                       ==, SP_ERR_BAD_SIGNATURE);
    }

  /* r + n: the same residue mod n, but not the same signature (a verifier
   * that reduced r first would accept it) */
  {
    guint8 bad[64];
    guint carry = 0;
    int j;

    memcpy (bad, sig, 64);
    for (j = 31; j >= 0; j--)
      {
        guint sum = (guint) bad[j] + n[j] + carry;

        bad[j] = (guint8) sum;
        carry = sum >> 8;
      }
    if (carry == 0)
      g_assert_cmpint (port->ecdsa_p256_verify (port->ctx, pub, digest, bad),
                       ==, SP_ERR_BAD_SIGNATURE);
  }
}

static void
test_port_bad_points (void)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  guint8 pub[65], sig[64], digest[32], shared[32];
  sp_key *key = NULL;
  const char *bad_points[] = {
    /* y + 1: off the curve */
    "04" "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
    "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d446229a",
    /* compressed prefix on an uncompressed body */
    "02" "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
    "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299",
    /* (0, 0), which some encoders use for the point at infinity */
    "04" "0000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000",
    /* x = p: not a field element (a lax decoder would reduce it to 0) */
    "04" "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
    /* all ones */
    "04" "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
  };
  gsize i;

  signet_test_hex_fill (RFC6979_SIG, sig, 64);
  sample_digest (digest);
  g_assert_cmpint (port->p256_generate (port->ctx, &key), ==, SP_OK);

  for (i = 0; i < G_N_ELEMENTS (bad_points); i++)
    {
      memset (shared, 0xa5, sizeof shared);
      signet_test_hex_fill (bad_points[i], pub, 65);
      g_assert_cmpint (port->ecdsa_p256_verify (port->ctx, pub, digest, sig),
                       ==, SP_ERR_KEY);
      g_assert_cmpint (port->ecdh_p256 (port->ctx, key, pub, shared),
                       ==, SP_ERR_KEY);
      /* outputs are untouched on failure */
      for (gsize j = 0; j < sizeof shared; j++)
        g_assert_cmpint (shared[j], ==, 0xa5);
    }
  port->key_free (port->ctx, key);
}

static void
test_port_import_private (void)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  guint8 d[32], pub[65], g[65], n[32], shared[32];
  sp_key *key = NULL;
  const char *bad[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    P256_N,
    "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632552",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      signet_test_hex_fill (bad[i], d, 32);
      key = NULL;
      g_assert_cmpint (port->p256_import_private (port->ctx, d, &key), ==, SP_ERR_KEY);
      g_assert_null (key);
    }

  /* d = 1: the public key is the generator, and ECDH with G gives Gx */
  signet_test_hex_fill (P256_G, g, 65);
  memset (d, 0, 32);
  d[31] = 1;
  g_assert_cmpint (port->p256_import_private (port->ctx, d, &key), ==, SP_OK);
  g_assert_cmpint (port->p256_public (port->ctx, key, pub), ==, SP_OK);
  g_assert_cmpmem (pub, 65, g, 65);
  g_assert_cmpint (port->ecdh_p256 (port->ctx, key, g, shared), ==, SP_OK);
  g_assert_cmpmem (shared, 32, g + 1, 32);
  port->key_free (port->ctx, key);

  /* d = n - 1: the largest valid scalar; its point is -G (same x) */
  signet_test_hex_fill (P256_N, n, 32);
  memcpy (d, n, 32);
  d[31] -= 1;
  g_assert_cmpint (port->p256_import_private (port->ctx, d, &key), ==, SP_OK);
  g_assert_cmpint (port->p256_public (port->ctx, key, pub), ==, SP_OK);
  signet_test_hex_fill (P256_MINUS_G, g, 65);
  g_assert_cmpmem (pub, 65, g, 65);
  port->key_free (port->ctx, key);
  port->key_free (port->ctx, NULL);
}

static void
test_port_ecdh (void)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  sp_key *a = NULL, *b = NULL;
  guint8 pa[65], pb[65], sab[32], sba[32];

  g_assert_cmpint (port->p256_generate (port->ctx, &a), ==, SP_OK);
  g_assert_cmpint (port->p256_generate (port->ctx, &b), ==, SP_OK);
  g_assert_cmpint (port->p256_public (port->ctx, a, pa), ==, SP_OK);
  g_assert_cmpint (port->p256_public (port->ctx, b, pb), ==, SP_OK);
  g_assert_cmpint (port->ecdh_p256 (port->ctx, a, pb, sab), ==, SP_OK);
  g_assert_cmpint (port->ecdh_p256 (port->ctx, b, pa, sba), ==, SP_OK);
  g_assert_cmpmem (sab, 32, sba, 32);
  port->key_free (port->ctx, a);
  port->key_free (port->ctx, b);
}

static void
test_port_aead (void)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  gsize v;

  for (v = 0; v < G_N_ELEMENTS (gcm_vectors); v++)
    {
      g_autoptr(GBytes) key = signet_test_hex (gcm_vectors[v].key);
      g_autoptr(GBytes) iv = signet_test_hex (gcm_vectors[v].iv);
      g_autoptr(GBytes) pt = signet_test_hex (gcm_vectors[v].pt);
      g_autoptr(GBytes) aad = signet_test_hex (gcm_vectors[v].aad);
      g_autoptr(GBytes) expected = signet_test_hex (gcm_vectors[v].ct_tag);
      sp_aead_alg alg = g_bytes_get_size (key) == 16 ? SP_AEAD_AES_128_GCM
                                                     : SP_AEAD_AES_256_GCM;
      gsize pt_len = g_bytes_get_size (pt);
      gsize aad_len = g_bytes_get_size (aad);
      guint8 ct[100], out[100], bad[100];
      gsize i;

      g_assert_cmpint (port->aead_seal (port->ctx, alg, g_bytes_get_data (key, NULL),
                                        g_bytes_get_data (iv, NULL),
                                        g_bytes_get_data (aad, NULL), aad_len,
                                        g_bytes_get_data (pt, NULL), pt_len, ct),
                       ==, SP_OK);
      g_assert_cmpmem (ct, pt_len + 16, g_bytes_get_data (expected, NULL),
                       g_bytes_get_size (expected));

      g_assert_cmpint (port->aead_open (port->ctx, alg, g_bytes_get_data (key, NULL),
                                        g_bytes_get_data (iv, NULL),
                                        g_bytes_get_data (aad, NULL), aad_len,
                                        ct, pt_len + 16, out),
                       ==, SP_OK);
      g_assert_cmpmem (out, pt_len, g_bytes_get_data (pt, NULL), pt_len);

      /* a wrong tag: SP_ERR_AUTH, and nothing written to pt */
      for (i = 0; i < (pt_len + 16) * 8; i += 7)
        {
          memcpy (bad, ct, pt_len + 16);
          bad[i / 8] ^= (guint8) (1u << (i % 8));
          memset (out, 0x5a, sizeof out);
          g_assert_cmpint (port->aead_open (port->ctx, alg,
                                            g_bytes_get_data (key, NULL),
                                            g_bytes_get_data (iv, NULL),
                                            g_bytes_get_data (aad, NULL), aad_len,
                                            bad, pt_len + 16, out),
                           ==, SP_ERR_AUTH);
          for (gsize j = 0; j < sizeof out; j++)
            g_assert_cmpint (out[j], ==, 0x5a);
        }

      /* shorter than a tag */
      g_assert_cmpint (port->aead_open (port->ctx, alg, g_bytes_get_data (key, NULL),
                                        g_bytes_get_data (iv, NULL), NULL, 0,
                                        ct, 15, out),
                       ==, SP_ERR_AUTH);
    }

  /* an unknown algorithm */
  {
    guint8 k[32] = { 0 }, n[12] = { 0 }, ct[16];

    g_assert_cmpint (port->aead_seal (port->ctx, (sp_aead_alg) 99, k, n, NULL, 0,
                                      NULL, 0, ct), ==, SP_ERR_INVALID_ARG);
  }
}

static void
test_port_aead_in_place (void)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  guint8 key[16] = { 7 }, nonce[12] = { 9 };
  guint8 buf[64 + 16];
  guint8 orig[64];
  gsize i;

  for (i = 0; i < 64; i++)
    orig[i] = buf[i] = (guint8) i;
  g_assert_cmpint (port->aead_seal (port->ctx, SP_AEAD_AES_128_GCM, key, nonce,
                                    NULL, 0, buf, 64, buf), ==, SP_OK);
  g_assert_cmpint (port->aead_open (port->ctx, SP_AEAD_AES_128_GCM, key, nonce,
                                    NULL, 0, buf, sizeof buf, buf), ==, SP_OK);
  g_assert_cmpmem (buf, 64, orig, 64);
}

static void
test_port_random (void)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  guint8 a[32] = { 0 }, b[32] = { 0 };

  g_assert_cmpint (port->random (port->ctx, a, sizeof a), ==, SP_OK);
  g_assert_cmpint (port->random (port->ctx, b, sizeof b), ==, SP_OK);
  g_assert_cmpint (memcmp (a, b, 32), !=, 0);
  g_assert_cmpint (port->random (port->ctx, a, 0), ==, SP_OK);
}

static void
test_port_key_wrap (void)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  g_autoptr(EVP_PKEY) pkey = EVP_EC_gen ("P-256");
  sp_key *key;
  guint8 pub[65];

  key = signet_crypto_port_key_new (pkey);
  g_assert_true (signet_crypto_port_key_get_pkey (key) == pkey);
  g_assert_cmpint (port->p256_public (port->ctx, key, pub), ==, SP_OK);
  port->key_free (port->ctx, key);
  /* the handle held its own reference */
  g_assert_true (EVP_PKEY_is_a (pkey, "EC"));
}

static void
test_port_error_queue (void)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  guint8 pub[65], sig[64] = { 0 }, digest[32] = { 0 };

  /* an expected failure leaves nothing on the thread's error queue */
  ERR_clear_error ();
  signet_test_hex_fill (RFC6979_U, pub, 65);
  pub[64] ^= 1;
  g_assert_cmpint (port->ecdsa_p256_verify (port->ctx, pub, digest, sig), ==, SP_ERR_KEY);
  pub[64] ^= 1;
  sig[0] = 1;
  sig[32] = 1;
  g_assert_cmpint (port->ecdsa_p256_verify (port->ctx, pub, digest, sig),
                   ==, SP_ERR_BAD_SIGNATURE);
  g_assert_cmpuint (ERR_peek_error (), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signet/crypto/sha256/fips180", test_sha256_fips180);
  g_test_add_func ("/signet/crypto/sha256/million-a", test_sha256_million);
  g_test_add_func ("/signet/crypto/hmac/rfc4231", test_hmac_rfc4231);
  g_test_add_func ("/signet/crypto/hmac/empty", test_hmac_empty);
  g_test_add_func ("/signet/crypto/hkdf/rfc5869/core", test_hkdf_core);
  g_test_add_func ("/signet/crypto/hkdf/rfc5869/core-null-salt", test_hkdf_core_null_salt);
  g_test_add_func ("/signet/crypto/hkdf/core-bad-length", test_hkdf_core_bad_length);
  g_test_add_func ("/signet/crypto/hkdf/rfc5869/proto", test_hkdf_proto);
  g_test_add_func ("/signet/crypto/hkdf/proto-limits", test_hkdf_proto_limits);
  g_test_add_func ("/signet/crypto/aes-gcm/vectors", test_gcm_vectors);
  g_test_add_func ("/signet/crypto/aes-gcm/tamper", test_gcm_tamper);
  g_test_add_func ("/signet/crypto/aes-gcm/bad-args", test_gcm_bad_args);
  g_test_add_func ("/signet/crypto/random", test_random);
  g_test_add_func ("/signet/crypto/openssl-error", test_openssl_error);
  g_test_add_func ("/signet/crypto/port/ecdsa/rfc6979", test_port_rfc6979);
  g_test_add_func ("/signet/crypto/port/ecdsa/bit-flips", test_port_sign_bit_flips);
  g_test_add_func ("/signet/crypto/port/ecdsa/r-s-range", test_port_sig_range);
  g_test_add_func ("/signet/crypto/port/bad-points", test_port_bad_points);
  g_test_add_func ("/signet/crypto/port/import-private", test_port_import_private);
  g_test_add_func ("/signet/crypto/port/ecdh", test_port_ecdh);
  g_test_add_func ("/signet/crypto/port/aead", test_port_aead);
  g_test_add_func ("/signet/crypto/port/aead-in-place", test_port_aead_in_place);
  g_test_add_func ("/signet/crypto/port/random", test_port_random);
  g_test_add_func ("/signet/crypto/port/key-wrap", test_port_key_wrap);
  g_test_add_func ("/signet/crypto/port/error-queue", test_port_error_queue);

  return g_test_run ();
}
