/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-otpauth: otpauth://totp/ Key URIs: round trips, defaults, the
 * variants apps emit, one test per malformed URI and its error code, and
 * that no error message ever quotes the secret.
 */
#include "config.h"

#include <string.h>

#include <glib-object.h>

#include "signet-otpauth.h"
#include "signet-secret.h"

/* "12345678901234567890" (RFC 6238's SHA-1 key) and its base32. */
#define KEY_ASCII "12345678901234567890"
#define KEY_B32   "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

static GBytes *
rfc_key (void)
{
  return signet_secret_bytes_new (KEY_ASCII, strlen (KEY_ASCII));
}

static void
assert_same (SignetOtpauth *a,
             SignetOtpauth *b)
{
  g_assert_cmpstr (signet_otpauth_get_issuer (a), ==, signet_otpauth_get_issuer (b));
  g_assert_cmpstr (signet_otpauth_get_account (a), ==, signet_otpauth_get_account (b));
  g_assert_true (signet_secret_bytes_equal (signet_otpauth_get_secret (a),
                                            signet_otpauth_get_secret (b)));
  g_assert_cmpint (signet_otpauth_get_algorithm (a), ==, signet_otpauth_get_algorithm (b));
  g_assert_cmpuint (signet_otpauth_get_digits (a), ==, signet_otpauth_get_digits (b));
  g_assert_cmpuint (signet_otpauth_get_period (a), ==, signet_otpauth_get_period (b));
}

static void
test_round_trip (void)
{
  static const struct {
    const char *issuer;
    const char *account;
  } names[] = {
    { "Signet", "alice" },
    { NULL, "alice@example.com" },
    { "ACME Co", "alice@example.com" },
    { "ACME: Field Service", "bob:tech 7" },
    { "Zoë & Søn / Paris", "José Ñúñez" },
    { "日本電気", "技術者 1" },
    { "100% + #?=&", "a/b?c#d&e=f%g+h" },
    { "  padded  ", "trailing  " },
  };
  static const SignetTotpAlgorithm algorithms[] = {
    SIGNET_TOTP_ALGORITHM_SHA1, SIGNET_TOTP_ALGORITHM_SHA256, SIGNET_TOTP_ALGORITHM_SHA512,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      for (gsize a = 0; a < G_N_ELEMENTS (algorithms); a++)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(GBytes) secret = signet_otpauth_secret_new_random (10 + 11 * i, &error);
          g_autoptr(SignetOtpauth) otp = NULL;
          g_autoptr(SignetOtpauth) parsed = NULL;
          g_auto(SignetSecretString) uri = NULL;
          g_auto(SignetSecretString) again = NULL;
          guint digits = 6 + (guint) a;
          guint period = 30 * (guint) (i + 1);

          g_assert_no_error (error);
          otp = signet_otpauth_new (names[i].issuer, names[i].account, secret,
                                    algorithms[a], digits, period, &error);
          g_assert_no_error (error);
          uri = signet_otpauth_to_uri (otp, &error);
          g_assert_no_error (error);
          g_assert_true (g_str_has_prefix (uri, "otpauth://totp/"));
          /* Printable ASCII only: everything else is escaped. */
          for (const char *p = uri; *p != '\0'; p++)
            g_assert_true (g_ascii_isgraph (*p));
          parsed = signet_otpauth_parse (uri, &error);
          g_assert_no_error (error);
          assert_same (otp, parsed);
          again = signet_otpauth_to_uri (parsed, &error);
          g_assert_no_error (error);
          g_assert_cmpstr (uri, ==, again);
        }
    }
}

/* The exact string, so a change of form is a deliberate one. */
static void
test_build (void)
{
  g_autoptr(GBytes) key = rfc_key ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetOtpauth) otp = NULL;
  g_autoptr(SignetOtpauth) bare = NULL;
  g_auto(SignetSecretString) uri = NULL;
  g_auto(SignetSecretString) bare_uri = NULL;

  otp = signet_otpauth_new ("ACME Co", "alice@example.com", key,
                            SIGNET_TOTP_ALGORITHM_SHA256, 8, 60, &error);
  g_assert_no_error (error);
  uri = signet_otpauth_to_uri (otp, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (uri, ==,
                   "otpauth://totp/ACME%20Co:alice%40example.com?secret=" KEY_B32
                   "&issuer=ACME%20Co&algorithm=SHA256&digits=8&period=60");

  bare = signet_otpauth_new (NULL, "alice", key, SIGNET_TOTP_ALGORITHM_SHA1, 6, 30, &error);
  g_assert_no_error (error);
  bare_uri = signet_otpauth_to_uri (bare, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bare_uri, ==,
                   "otpauth://totp/alice?secret=" KEY_B32 "&algorithm=SHA1&digits=6&period=30");

  /* Unpadded: 11 bytes would end in "=" padding from liboath. */
  {
    g_autoptr(GBytes) odd = signet_secret_bytes_new ("12345678901", 11);
    g_autoptr(SignetOtpauth) o = signet_otpauth_new (NULL, "a", odd,
                                                     SIGNET_TOTP_ALGORITHM_SHA1, 6, 30,
                                                     &error);
    g_auto(SignetSecretString) s = NULL;

    g_assert_no_error (error);
    s = signet_otpauth_to_uri (o, &error);
    g_assert_no_error (error);
    g_assert_true (g_str_has_prefix (s, "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGE&"));
  }
}

static void
test_defaults (void)
{
  g_autoptr(GBytes) key = rfc_key ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetOtpauth) otp = NULL;

  otp = signet_otpauth_parse ("otpauth://totp/alice?secret=" KEY_B32, &error);
  g_assert_no_error (error);
  g_assert_null (signet_otpauth_get_issuer (otp));
  g_assert_cmpstr (signet_otpauth_get_account (otp), ==, "alice");
  g_assert_true (signet_secret_bytes_equal (signet_otpauth_get_secret (otp), key));
  g_assert_cmpint (signet_otpauth_get_algorithm (otp), ==, SIGNET_TOTP_ALGORITHM_SHA1);
  g_assert_cmpuint (signet_otpauth_get_digits (otp), ==, 6);
  g_assert_cmpuint (signet_otpauth_get_period (otp), ==, 30);
}

/* Forms that other generators emit and that must be understood. */
static void
test_variants (void)
{
  static const struct {
    const char *uri;
    const char *issuer;
    const char *account;
    SignetTotpAlgorithm algorithm;
    guint digits;
    guint period;
  } cases[] = {
    /* The format's own example: an 80-bit key, the floor. */
    { "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
      "Example", "alice@google.com", SIGNET_TOTP_ALGORITHM_SHA1, 6, 30 },
    { "otpauth://totp/ACME%20Co:john.doe@email.com?secret=" KEY_B32
      "&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30",
      "ACME Co", "john.doe@email.com", SIGNET_TOTP_ALGORITHM_SHA1, 6, 30 },
    /* An encoded separator, and spaces after it. */
    { "otpauth://totp/Example%3Aalice?secret=" KEY_B32, "Example", "alice",
      SIGNET_TOTP_ALGORITHM_SHA1, 6, 30 },
    { "otpauth://totp/Example:%20%20alice?secret=" KEY_B32, "Example", "alice",
      SIGNET_TOTP_ALGORITHM_SHA1, 6, 30 },
    { "otpauth://totp/Example%3A%20alice?secret=" KEY_B32 "&issuer=Example", "Example",
      "alice", SIGNET_TOTP_ALGORITHM_SHA1, 6, 30 },
    /* Issuer only as a parameter (older apps). */
    { "otpauth://totp/alice?issuer=Example&secret=" KEY_B32, "Example", "alice",
      SIGNET_TOTP_ALGORITHM_SHA1, 6, 30 },
    /* Lower case, padded secret; lower-case algorithm; upper-case type. */
    { "OTPAUTH://TOTP/alice?secret=gezdgnbvgy3tqojqgezdgnbvgy3tqojq&algorithm=sha512",
      NULL, "alice", SIGNET_TOTP_ALGORITHM_SHA512, 6, 30 },
    { "otpauth://totp/alice?secret=GEZDGNBVGY3TQOJQGE======&digits=7&period=60",
      NULL, "alice", SIGNET_TOTP_ALGORITHM_SHA1, 7, 60 },
    /* Unknown parameters are other apps' business; a fragment is ignored. */
    { "otpauth://totp/alice?secret=" KEY_B32 "&image=https%3A%2F%2Fx%2Fy.png&lock=false"
      "&algorithm=SHA256&digits=8&period=3600#frag",
      NULL, "alice", SIGNET_TOTP_ALGORITHM_SHA256, 8, 3600 },
    /* Raw UTF-8 and spaces, as some generators leave them. */
    { "otpauth://totp/Zo\xc3\xab Ops:j\xc3\xa9r\xc3\xb4me?secret=" KEY_B32,
      "Zo\xc3\xab Ops", "j\xc3\xa9r\xc3\xb4me", SIGNET_TOTP_ALGORITHM_SHA1, 6, 30 },
    /* Account containing a literal ':' after the separator. */
    { "otpauth://totp/ACME:bob:7?secret=" KEY_B32, "ACME", "bob:7",
      SIGNET_TOTP_ALGORITHM_SHA1, 6, 30 },
    /* A '+' is a '+' (RFC 3986), not a space. */
    { "otpauth://totp/C++:dev?secret=" KEY_B32 "&issuer=C%2B%2B", "C++", "dev",
      SIGNET_TOTP_ALGORITHM_SHA1, 6, 30 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SignetOtpauth) otp = signet_otpauth_parse (cases[i].uri, &error);

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      g_assert_no_error (error);
      g_assert_cmpstr (signet_otpauth_get_issuer (otp), ==, cases[i].issuer);
      g_assert_cmpstr (signet_otpauth_get_account (otp), ==, cases[i].account);
      g_assert_cmpint (signet_otpauth_get_algorithm (otp), ==, cases[i].algorithm);
      g_assert_cmpuint (signet_otpauth_get_digits (otp), ==, cases[i].digits);
      g_assert_cmpuint (signet_otpauth_get_period (otp), ==, cases[i].period);
    }
}

/* The secrets used by the error cases: none may appear in a message, in
 * any case. */
static const char * const leak_markers[] = {
  KEY_B32,
  "gezdgnbvgy3tqojq",
  KEY_ASCII,
  "JBSWY3DPEHPK3PX1",
  "JBSWY3DPEHPK3PX",
  "JBSWY3DP",
  "GEZDGNBVGY3TQOJQ",
};

static void
assert_no_leak (const GError *error)
{
  g_autofree char *lower = g_ascii_strdown (error->message, -1);

  for (gsize i = 0; i < G_N_ELEMENTS (leak_markers); i++)
    {
      g_autofree char *marker = g_ascii_strdown (leak_markers[i], -1);

      g_assert_null (strstr (lower, marker));
    }
}

#define S "secret=" KEY_B32

static void
test_errors (void)
{
  static const struct {
    const char *uri;
    SignetOtpauthError code;
  } cases[] = {
    { "", SIGNET_OTPAUTH_ERROR_NOT_A_URI },
    { KEY_B32, SIGNET_OTPAUTH_ERROR_NOT_A_URI },
    { "alice?" S, SIGNET_OTPAUTH_ERROR_NOT_A_URI },
    { "otpauth://totp/a%zz?" S, SIGNET_OTPAUTH_ERROR_NOT_A_URI },
    { "otpauth://totp/alice?" S "%zz", SIGNET_OTPAUTH_ERROR_NOT_A_URI },
    { "otpauth://user@totp/alice?" S, SIGNET_OTPAUTH_ERROR_NOT_A_URI },
    { "otpauth://totp:443/alice?" S, SIGNET_OTPAUTH_ERROR_NOT_A_URI },
    { "otpauth://totp:x/alice?" S, SIGNET_OTPAUTH_ERROR_NOT_A_URI },

    { "https://totp/alice?" S, SIGNET_OTPAUTH_ERROR_WRONG_SCHEME },
    { "otpauth2://totp/alice?" S, SIGNET_OTPAUTH_ERROR_WRONG_SCHEME },
    { "mailto:alice?" S, SIGNET_OTPAUTH_ERROR_WRONG_SCHEME },

    { "otpauth://hotp/alice?" S "&counter=0", SIGNET_OTPAUTH_ERROR_WRONG_TYPE },
    { "otpauth://HOTP/alice?" S, SIGNET_OTPAUTH_ERROR_WRONG_TYPE },
    { "otpauth://motp/alice?" S, SIGNET_OTPAUTH_ERROR_WRONG_TYPE },
    { "otpauth://steam/alice?" S, SIGNET_OTPAUTH_ERROR_WRONG_TYPE },
    { "otpauth:totp/alice?" S, SIGNET_OTPAUTH_ERROR_WRONG_TYPE },
    { "otpauth:///alice?" S, SIGNET_OTPAUTH_ERROR_WRONG_TYPE },

    { "otpauth://totp?" S, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { "otpauth://totp/?" S, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { "otpauth://totp/ACME:?" S, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { "otpauth://totp/ACME:%20%20?" S, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { "otpauth://totp/ACME%3A?" S, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { "otpauth://totp/:alice?" S, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { "otpauth://totp/%3Aalice?" S, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { "otpauth://totp/%20?" S, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { "otpauth://totp/al%00ice?" S, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { "otpauth://totp/al%FFice?" S, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { "otpauth://totp/al%0Aice?" S, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { "otpauth://totp/AC%1BME:alice?" S, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { "otpauth://totp/AC%C3ME:alice?" S, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { "otpauth://totp/alice%E2%80%AEexe?" S, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { "otpauth://totp/ACME%E2%80%A8:alice?" S, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },

    { "otpauth://totp/alice?" S "&&digits=6", SIGNET_OTPAUTH_ERROR_INVALID_QUERY },
    { "otpauth://totp/alice?" S "&digits", SIGNET_OTPAUTH_ERROR_INVALID_QUERY },
    /* GLib's parameter parser refuses non-UTF-8 and NUL in any value. */
    { "otpauth://totp/alice?" S "&issuer=a%00b", SIGNET_OTPAUTH_ERROR_INVALID_QUERY },
    { "otpauth://totp/alice?" S "&issuer=%FF", SIGNET_OTPAUTH_ERROR_INVALID_QUERY },

    { "otpauth://totp/alice?" S "&" S, SIGNET_OTPAUTH_ERROR_DUPLICATE_PARAMETER },
    { "otpauth://totp/alice?" S "&SECRET=JBSWY3DPEHPK3PXP",
      SIGNET_OTPAUTH_ERROR_DUPLICATE_PARAMETER },
    { "otpauth://totp/alice?" S "&digits=6&digits=6", SIGNET_OTPAUTH_ERROR_DUPLICATE_PARAMETER },
    { "otpauth://totp/alice?" S "&period=30&period=60", SIGNET_OTPAUTH_ERROR_DUPLICATE_PARAMETER },
    { "otpauth://totp/alice?" S "&algorithm=SHA1&algorithm=SHA512",
      SIGNET_OTPAUTH_ERROR_DUPLICATE_PARAMETER },
    { "otpauth://totp/alice?issuer=A&" S "&issuer=A", SIGNET_OTPAUTH_ERROR_DUPLICATE_PARAMETER },

    { "otpauth://totp/alice", SIGNET_OTPAUTH_ERROR_MISSING_SECRET },
    { "otpauth://totp/alice?", SIGNET_OTPAUTH_ERROR_MISSING_SECRET },
    { "otpauth://totp/alice?issuer=ACME&digits=6", SIGNET_OTPAUTH_ERROR_MISSING_SECRET },
    { "otpauth://totp/alice?secret=", SIGNET_OTPAUTH_ERROR_MISSING_SECRET },
    { "otpauth://totp/alice?secrets=" KEY_B32, SIGNET_OTPAUTH_ERROR_MISSING_SECRET },

    { "otpauth://totp/alice?secret=JBSWY3DPEHPK3PX1", SIGNET_OTPAUTH_ERROR_INVALID_SECRET },
    { "otpauth://totp/alice?secret=JBSWY3DP%20EHPK3PXP", SIGNET_OTPAUTH_ERROR_INVALID_SECRET },
    { "otpauth://totp/alice?secret=JBSWY3DP-EHPK3PXP", SIGNET_OTPAUTH_ERROR_INVALID_SECRET },
    { "otpauth://totp/alice?secret=JBSWY3DPEHPK3PX", SIGNET_OTPAUTH_ERROR_INVALID_SECRET },
    { "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP%3D", SIGNET_OTPAUTH_ERROR_INVALID_SECRET },
    { "otpauth://totp/alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ",
      SIGNET_OTPAUTH_ERROR_INVALID_SECRET },
    { "otpauth://totp/alice?secret=%3D%3D%3D%3D%3D%3D%3D%3D", SIGNET_OTPAUTH_ERROR_INVALID_SECRET },

    { "otpauth://totp/alice?secret=JBSWY3DP", SIGNET_OTPAUTH_ERROR_SECRET_TOO_SHORT },
    { "otpauth://totp/alice?secret=GEZDGNBVGY3TQOI", SIGNET_OTPAUTH_ERROR_SECRET_TOO_SHORT },

    { "otpauth://totp/alice?" S "&algorithm=MD5", SIGNET_OTPAUTH_ERROR_UNKNOWN_ALGORITHM },
    { "otpauth://totp/alice?" S "&algorithm=SHA-1", SIGNET_OTPAUTH_ERROR_UNKNOWN_ALGORITHM },
    { "otpauth://totp/alice?" S "&algorithm=", SIGNET_OTPAUTH_ERROR_UNKNOWN_ALGORITHM },
    { "otpauth://totp/alice?" S "&algorithm=SHA384", SIGNET_OTPAUTH_ERROR_UNKNOWN_ALGORITHM },

    { "otpauth://totp/alice?" S "&digits=5", SIGNET_OTPAUTH_ERROR_INVALID_DIGITS },
    { "otpauth://totp/alice?" S "&digits=9", SIGNET_OTPAUTH_ERROR_INVALID_DIGITS },
    { "otpauth://totp/alice?" S "&digits=0", SIGNET_OTPAUTH_ERROR_INVALID_DIGITS },
    { "otpauth://totp/alice?" S "&digits=-6", SIGNET_OTPAUTH_ERROR_INVALID_DIGITS },
    { "otpauth://totp/alice?" S "&digits=six", SIGNET_OTPAUTH_ERROR_INVALID_DIGITS },
    { "otpauth://totp/alice?" S "&digits=6.0", SIGNET_OTPAUTH_ERROR_INVALID_DIGITS },
    { "otpauth://totp/alice?" S "&digits=%206", SIGNET_OTPAUTH_ERROR_INVALID_DIGITS },
    { "otpauth://totp/alice?" S "&digits=", SIGNET_OTPAUTH_ERROR_INVALID_DIGITS },
    { "otpauth://totp/alice?" S "&digits=0x6", SIGNET_OTPAUTH_ERROR_INVALID_DIGITS },
    { "otpauth://totp/alice?" S "&digits=4294967302", SIGNET_OTPAUTH_ERROR_INVALID_DIGITS },

    { "otpauth://totp/alice?" S "&period=0", SIGNET_OTPAUTH_ERROR_INVALID_PERIOD },
    { "otpauth://totp/alice?" S "&period=-30", SIGNET_OTPAUTH_ERROR_INVALID_PERIOD },
    { "otpauth://totp/alice?" S "&period=thirty", SIGNET_OTPAUTH_ERROR_INVALID_PERIOD },
    { "otpauth://totp/alice?" S "&period=30s", SIGNET_OTPAUTH_ERROR_INVALID_PERIOD },
    { "otpauth://totp/alice?" S "&period=", SIGNET_OTPAUTH_ERROR_INVALID_PERIOD },
    { "otpauth://totp/alice?" S "&period=3601", SIGNET_OTPAUTH_ERROR_INVALID_PERIOD },
    { "otpauth://totp/alice?" S "&period=4294967326", SIGNET_OTPAUTH_ERROR_INVALID_PERIOD },
    { "otpauth://totp/alice?" S "&period=99999999999999999999999",
      SIGNET_OTPAUTH_ERROR_INVALID_PERIOD },

    { "otpauth://totp/alice?" S "&issuer=", SIGNET_OTPAUTH_ERROR_INVALID_ISSUER },
    { "otpauth://totp/alice?" S "&issuer=A%07B", SIGNET_OTPAUTH_ERROR_INVALID_ISSUER },
    { "otpauth://totp/alice?" S "&issuer=%E2%81%A6A", SIGNET_OTPAUTH_ERROR_INVALID_ISSUER },

    { "otpauth://totp/ACME:alice?" S "&issuer=Evil", SIGNET_OTPAUTH_ERROR_CONFLICTING_ISSUER },
    { "otpauth://totp/ACME:alice?" S "&issuer=acme", SIGNET_OTPAUTH_ERROR_CONFLICTING_ISSUER },
    { "otpauth://totp/ACME%20Co:alice?" S "&issuer=ACME+Co",
      SIGNET_OTPAUTH_ERROR_CONFLICTING_ISSUER },
    { "otpauth://totp/ACME%3Aalice?" S "&issuer=ACME%3Aalice",
      SIGNET_OTPAUTH_ERROR_CONFLICTING_ISSUER },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SignetOtpauth) otp = NULL;

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, cases[i].uri);
      otp = signet_otpauth_parse (cases[i].uri, &error);
      g_assert_error (error, SIGNET_OTPAUTH_ERROR, (int) cases[i].code);
      g_assert_null (otp);
      g_assert_cmpstr (error->message, !=, "");
      assert_no_leak (error);
    }
}

#undef S

static char *
uri_for_key_len (gsize len)
{
  g_autofree guint8 *raw = g_malloc (len);
  g_autoptr(GBytes) key = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(SignetSecretString) b32 = NULL;

  memset (raw, 0x42, len);
  key = g_bytes_new (raw, len);
  b32 = signet_totp_secret_to_base32 (key, &error);
  g_assert_no_error (error);
  return g_strconcat ("otpauth://totp/alice?secret=", b32, NULL);
}

static void
test_secret_length (void)
{
  static const struct {
    gsize len;
    int code;   /* -1: accepted */
  } cases[] = {
    { SIGNET_TOTP_SECRET_MIN_LEN - 1, SIGNET_OTPAUTH_ERROR_SECRET_TOO_SHORT },
    { SIGNET_TOTP_SECRET_MIN_LEN, -1 },
    { SIGNET_TOTP_SECRET_MAX_LEN, -1 },
    { SIGNET_TOTP_SECRET_MAX_LEN + 1, SIGNET_OTPAUTH_ERROR_SECRET_TOO_LONG },
    { 1000, SIGNET_OTPAUTH_ERROR_SECRET_TOO_LONG },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(SignetSecretString) uri = uri_for_key_len (cases[i].len);
      g_autoptr(GError) error = NULL;
      g_autoptr(SignetOtpauth) otp = signet_otpauth_parse (uri, &error);

      if (cases[i].code < 0)
        {
          g_assert_no_error (error);
          g_assert_cmpuint (g_bytes_get_size (signet_otpauth_get_secret (otp)), ==,
                            cases[i].len);
        }
      else
        {
          g_assert_error (error, SIGNET_OTPAUTH_ERROR, cases[i].code);
          g_assert_null (strstr (error->message, "IJBEEQSCIJBE"));
        }
    }
}

static void
test_too_long (void)
{
  g_autoptr(GString) uri = g_string_new ("otpauth://totp/");
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetOtpauth) otp = NULL;

  while (uri->len <= SIGNET_OTPAUTH_URI_MAX_LEN)
    g_string_append_c (uri, 'a');
  g_string_append (uri, "?secret=" KEY_B32);
  otp = signet_otpauth_parse (uri->str, &error);
  g_assert_error (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_NOT_A_URI);
  assert_no_leak (error);
}

static void
test_new_errors (void)
{
  g_autoptr(GBytes) key = rfc_key ();
  g_autoptr(GBytes) short_key = signet_secret_bytes_new (KEY_ASCII, 9);
  g_autoptr(GBytes) long_key = g_bytes_new_take (g_malloc0 (SIGNET_TOTP_SECRET_MAX_LEN + 1),
                                                 SIGNET_TOTP_SECRET_MAX_LEN + 1);
  static const struct {
    const char *issuer;
    const char *account;
    int which_key;   /* 0 good, 1 short, 2 long */
    int algorithm;
    guint digits;
    guint period;
    SignetOtpauthError code;
  } cases[] = {
    { NULL, "", 0, 0, 6, 30, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { NULL, " alice", 0, 0, 6, 30, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { NULL, "al\nice", 0, 0, 6, 30, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { NULL, "al\xffice", 0, 0, 6, 30, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { NULL, "ACME:alice", 0, 0, 6, 30, SIGNET_OTPAUTH_ERROR_INVALID_LABEL },
    { "", "alice", 0, 0, 6, 30, SIGNET_OTPAUTH_ERROR_INVALID_ISSUER },
    { "AC\tME", "alice", 0, 0, 6, 30, SIGNET_OTPAUTH_ERROR_INVALID_ISSUER },
    { "ACME", "alice", 1, 0, 6, 30, SIGNET_OTPAUTH_ERROR_SECRET_TOO_SHORT },
    { "ACME", "alice", 2, 0, 6, 30, SIGNET_OTPAUTH_ERROR_SECRET_TOO_LONG },
    { "ACME", "alice", 0, 3, 6, 30, SIGNET_OTPAUTH_ERROR_UNKNOWN_ALGORITHM },
    { "ACME", "alice", 0, 0, 5, 30, SIGNET_OTPAUTH_ERROR_INVALID_DIGITS },
    { "ACME", "alice", 0, 0, 9, 30, SIGNET_OTPAUTH_ERROR_INVALID_DIGITS },
    { "ACME", "alice", 0, 0, 6, 0, SIGNET_OTPAUTH_ERROR_INVALID_PERIOD },
    { "ACME", "alice", 0, 0, 6, SIGNET_TOTP_PERIOD_MAX + 1, SIGNET_OTPAUTH_ERROR_INVALID_PERIOD },
  };
  GBytes *keys[] = { key, short_key, long_key };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SignetOtpauth) otp = NULL;

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      otp = signet_otpauth_new (cases[i].issuer, cases[i].account, keys[cases[i].which_key],
                                cases[i].algorithm, cases[i].digits, cases[i].period, &error);
      g_assert_error (error, SIGNET_OTPAUTH_ERROR, (int) cases[i].code);
      g_assert_null (otp);
      assert_no_leak (error);
    }
}

/* The object keeps its own copy: changing the caller's buffer afterwards
 * changes nothing. */
static void
test_new_copies_secret (void)
{
  char buf[] = KEY_ASCII;
  g_autoptr(GBytes) key = g_bytes_new_static (buf, strlen (buf));
  g_autoptr(GBytes) expected = rfc_key ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetOtpauth) otp = NULL;

  otp = signet_otpauth_new ("ACME", "alice", key, SIGNET_TOTP_ALGORITHM_SHA1, 6, 30, &error);
  g_assert_no_error (error);
  memset (buf, 'x', strlen (buf));
  g_assert_true (signet_secret_bytes_equal (signet_otpauth_get_secret (otp), expected));
}

static void
test_random_secret (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) a = signet_otpauth_secret_new_random (0, &error);
  g_autoptr(GBytes) b = signet_otpauth_secret_new_random (SIGNET_OTPAUTH_SECRET_DEFAULT_LEN,
                                                          &error);
  g_autoptr(GBytes) c = signet_otpauth_secret_new_random (64, &error);
  g_autoptr(GBytes) too_short = NULL;
  g_autoptr(GBytes) too_long = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (a), ==, 20);
  g_assert_cmpuint (g_bytes_get_size (b), ==, 20);
  g_assert_cmpuint (g_bytes_get_size (c), ==, 64);
  g_assert_false (signet_secret_bytes_equal (a, b));

  too_short = signet_otpauth_secret_new_random (SIGNET_TOTP_SECRET_MIN_LEN - 1, &error);
  g_assert_error (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_SECRET_TOO_SHORT);
  g_assert_null (too_short);
  g_clear_error (&error);
  too_long = signet_otpauth_secret_new_random (SIGNET_TOTP_SECRET_MAX_LEN + 1, &error);
  g_assert_error (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_SECRET_TOO_LONG);
  g_assert_null (too_long);
}

/* A parsed key generates the codes of RFC 6238 (the URI, not just the
 * codec, carries the key intact). */
static void
test_parsed_key_works (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetOtpauth) otp = NULL;
  g_auto(SignetSecretString) code = NULL;

  otp = signet_otpauth_parse ("otpauth://totp/ACME:alice?secret=" KEY_B32 "&digits=8", &error);
  g_assert_no_error (error);
  code = signet_totp_generate (signet_otpauth_get_secret (otp), 59,
                               signet_otpauth_get_period (otp),
                               signet_otpauth_get_digits (otp),
                               signet_otpauth_get_algorithm (otp), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (code, ==, "94287082");
}

static void
test_boxed (void)
{
  g_autoptr(GBytes) key = rfc_key ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetOtpauth) otp = NULL;
  SignetOtpauth *copy;
  GType type = SIGNET_TYPE_OTPAUTH;

  g_assert_true (G_TYPE_IS_BOXED (type));
  g_assert_cmpstr (g_type_name (type), ==, "SignetOtpauth");
  otp = signet_otpauth_new ("ACME", "alice", key, SIGNET_TOTP_ALGORITHM_SHA1, 6, 30, &error);
  g_assert_no_error (error);
  copy = g_boxed_copy (type, otp);
  assert_same (otp, copy);
  g_boxed_free (type, copy);
  g_assert_cmpstr (signet_otpauth_get_account (otp), ==, "alice");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signet/otpauth/round-trip", test_round_trip);
  g_test_add_func ("/signet/otpauth/build", test_build);
  g_test_add_func ("/signet/otpauth/defaults", test_defaults);
  g_test_add_func ("/signet/otpauth/variants", test_variants);
  g_test_add_func ("/signet/otpauth/parse/errors", test_errors);
  g_test_add_func ("/signet/otpauth/parse/secret-length", test_secret_length);
  g_test_add_func ("/signet/otpauth/parse/too-long", test_too_long);
  g_test_add_func ("/signet/otpauth/parse/key-works", test_parsed_key_works);
  g_test_add_func ("/signet/otpauth/new/errors", test_new_errors);
  g_test_add_func ("/signet/otpauth/new/copies-secret", test_new_copies_secret);
  g_test_add_func ("/signet/otpauth/random-secret", test_random_secret);
  g_test_add_func ("/signet/otpauth/boxed", test_boxed);

  return g_test_run ();
}
