/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-totp: RFC 6238 vectors, the verification window, malformed codes,
 * parameter errors and the base32 codec.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "signet-secret.h"
#include "signet-totp.h"

/* RFC 6238 Appendix B: the key is the ASCII string, repeated to the hash
 * length (20, 32, 64 bytes). */
static const char sha1_key[] = "12345678901234567890";
static const char sha256_key[] = "12345678901234567890123456789012";
static const char sha512_key[] =
  "1234567890123456789012345678901234567890123456789012345678901234";

static GBytes *
key_for (SignetTotpAlgorithm algorithm)
{
  switch (algorithm)
    {
    case SIGNET_TOTP_ALGORITHM_SHA1:
      return signet_secret_bytes_new (sha1_key, strlen (sha1_key));
    case SIGNET_TOTP_ALGORITHM_SHA256:
      return signet_secret_bytes_new (sha256_key, strlen (sha256_key));
    case SIGNET_TOTP_ALGORITHM_SHA512:
    default:
      return signet_secret_bytes_new (sha512_key, strlen (sha512_key));
    }
}

static void
test_rfc6238 (void)
{
  static const struct {
    gint64 time;
    const char *codes[3];   /* SHA1, SHA256, SHA512 */
  } vectors[] = {
    { 59,          { "94287082", "46119246", "90693936" } },
    { 1111111109,  { "07081804", "68084774", "25091201" } },
    { 1111111111,  { "14050471", "67062674", "99943326" } },
    { 1234567890,  { "89005924", "91819424", "93441116" } },
    { 2000000000,  { "69279037", "90698825", "38618901" } },
    { G_GINT64_CONSTANT (20000000000), { "65353130", "77737706", "47863826" } },
  };
  guint checked = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      for (int a = SIGNET_TOTP_ALGORITHM_SHA1; a <= SIGNET_TOTP_ALGORITHM_SHA512; a++)
        {
          g_autoptr(GBytes) key = key_for (a);
          g_autoptr(GError) error = NULL;
          g_auto(SignetSecretString) code = NULL;
          guint64 step = 0;

          code = signet_totp_generate (key, vectors[i].time, 30, 8, a, &error);
          g_assert_no_error (error);
          g_assert_cmpstr (code, ==, vectors[i].codes[a]);

          g_assert_true (signet_totp_verify (key, vectors[i].codes[a], vectors[i].time,
                                             30, 8, a, 0, &step, &error));
          g_assert_no_error (error);
          g_assert_cmpuint (step, ==, (guint64) vectors[i].time / 30);
          checked++;
        }
    }
  g_assert_cmpuint (checked, ==, 18);
}

/* Fewer digits are the same number modulo a smaller power of ten. */
static void
test_generate_digits (void)
{
  g_autoptr(GBytes) key = key_for (SIGNET_TOTP_ALGORITHM_SHA1);
  g_autoptr(GError) error = NULL;
  g_auto(SignetSecretString) code8 = NULL;

  code8 = signet_totp_generate (key, 1111111109, 30, 8, SIGNET_TOTP_ALGORITHM_SHA1, &error);
  g_assert_no_error (error);
  for (guint d = 6; d <= 7; d++)
    {
      g_auto(SignetSecretString) code = NULL;

      code = signet_totp_generate (key, 1111111109, 30, d, SIGNET_TOTP_ALGORITHM_SHA1, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (strlen (code), ==, d);
      g_assert_cmpstr (code, ==, code8 + (8 - d));
    }
}

static void
test_verify_window (void)
{
  g_autoptr(GBytes) key = key_for (SIGNET_TOTP_ALGORITHM_SHA256);
  const gint64 now = 1700000013;
  const guint period = 30;
  const guint64 now_step = (guint64) now / period;

  for (guint window = 0; window <= 3; window++)
    {
      for (int offset = -(int) window - 1; offset <= (int) window + 1; offset++)
        {
          g_autoptr(GError) error = NULL;
          g_auto(SignetSecretString) code = NULL;
          guint64 step = G_MAXUINT64;
          gboolean inside = (guint) ABS (offset) <= window;
          gboolean ok;

          code = signet_totp_generate (key, now + (gint64) offset * period, period, 6,
                                       SIGNET_TOTP_ALGORITHM_SHA256, &error);
          g_assert_no_error (error);
          ok = signet_totp_verify (key, code, now, period, 6, SIGNET_TOTP_ALGORITHM_SHA256,
                                   window, &step, &error);
          if (inside)
            {
              g_assert_no_error (error);
              g_assert_true (ok);
              g_assert_cmpuint (step, ==, now_step + offset);
            }
          else
            {
              /* A code of a step just outside the window. (A 1e-6 chance
               * that it equals an inside step's code: the key and time are
               * fixed, so the test is deterministic either way.) */
              g_assert_error (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_NO_MATCH);
              g_assert_false (ok);
              g_assert_cmpuint (step, ==, G_MAXUINT64);
            }
        }
    }
}

/* Near the epoch the window is cut at step 0, not wrapped around. */
static void
test_verify_window_at_epoch (void)
{
  g_autoptr(GBytes) key = key_for (SIGNET_TOTP_ALGORITHM_SHA1);
  g_autoptr(GError) error = NULL;
  g_auto(SignetSecretString) code = NULL;
  guint64 step = 99;

  code = signet_totp_generate (key, 0, 30, 6, SIGNET_TOTP_ALGORITHM_SHA1, &error);
  g_assert_no_error (error);
  g_assert_true (signet_totp_verify (key, code, 45, 30, 6, SIGNET_TOTP_ALGORITHM_SHA1, 2,
                                     &step, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (step, ==, 0);
}

static void
test_verify_malformed (void)
{
  g_autoptr(GBytes) key = key_for (SIGNET_TOTP_ALGORITHM_SHA1);
  static const char * const bad[] = {
    "",
    "94287",        /* short */
    "9428708",      /* short for 8 */
    "942870823",    /* long */
    "9428708a",     /* non-digit */
    "9428 082",     /* space inside */
    " 94287082",    /* leading space */
    "94287082 ",    /* trailing space */
    "94287082\n",
    "+4287082",
    "-4287082",
    "\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4", /* Arabic-Indic digits, 8 bytes */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      guint64 step = 7;

      g_assert_false (signet_totp_verify (key, bad[i], 59, 30, 8,
                                          SIGNET_TOTP_ALGORITHM_SHA1, 1, &step, &error));
      g_assert_error (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_MALFORMED_CODE);
      g_assert_cmpuint (step, ==, 7);
      if (bad[i][0] != '\0')
        g_assert_null (strstr (error->message, bad[i]));
    }
}

static void
test_verify_wrong_secret (void)
{
  g_autoptr(GBytes) key = key_for (SIGNET_TOTP_ALGORITHM_SHA1);
  g_autoptr(GBytes) other = signet_secret_bytes_new ("12345678901234567891", 20);
  g_autoptr(GError) error = NULL;

  g_assert_false (signet_totp_verify (other, "94287082", 59, 30, 8,
                                      SIGNET_TOTP_ALGORITHM_SHA1, 1, NULL, &error));
  g_assert_error (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_NO_MATCH);
  g_assert_null (strstr (error->message, "94287082"));
  g_clear_error (&error);

  /* The right key, the wrong algorithm. */
  g_assert_false (signet_totp_verify (key, "94287082", 59, 30, 8,
                                      SIGNET_TOTP_ALGORITHM_SHA256, 1, NULL, &error));
  g_assert_error (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_NO_MATCH);
  g_clear_error (&error);

  /* The right key and algorithm: sanity. */
  g_assert_true (signet_totp_verify (key, "94287082", 59, 30, 8,
                                     SIGNET_TOTP_ALGORITHM_SHA1, 1, NULL, &error));
  g_assert_no_error (error);
}

/* The same code at the same time gives the same step: what the token
 * service compares to the last step it accepted. */
static void
test_verify_replay_step (void)
{
  g_autoptr(GBytes) key = key_for (SIGNET_TOTP_ALGORITHM_SHA512);
  g_autoptr(GError) error = NULL;
  guint64 first = 0, second = 0;

  g_assert_true (signet_totp_verify (key, "90693936", 59, 30, 8,
                                     SIGNET_TOTP_ALGORITHM_SHA512, 1, &first, &error));
  g_assert_no_error (error);
  g_assert_true (signet_totp_verify (key, "90693936", 75, 30, 8,
                                     SIGNET_TOTP_ALGORITHM_SHA512, 1, &second, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (first, ==, 1);
  g_assert_cmpuint (second, ==, first);
}

typedef struct {
  gsize key_len;
  gint64 time;
  guint period;
  guint digits;
  int algorithm;
  guint window;
  SignetTotpError code;
} ParamCase;

static void
test_params (void)
{
  static const ParamCase cases[] = {
    { 20, 59, 0, 6, 0, 1, SIGNET_TOTP_ERROR_INVALID_PERIOD },
    { 20, 59, SIGNET_TOTP_PERIOD_MAX + 1, 6, 0, 1, SIGNET_TOTP_ERROR_INVALID_PERIOD },
    { 20, 59, G_MAXUINT, 6, 0, 1, SIGNET_TOTP_ERROR_INVALID_PERIOD },
    { 20, 59, 30, 5, 0, 1, SIGNET_TOTP_ERROR_INVALID_DIGITS },
    { 20, 59, 30, 9, 0, 1, SIGNET_TOTP_ERROR_INVALID_DIGITS },
    { 20, 59, 30, 0, 0, 1, SIGNET_TOTP_ERROR_INVALID_DIGITS },
    { 20, 59, 30, 6, 3, 1, SIGNET_TOTP_ERROR_INVALID_ALGORITHM },
    { 20, 59, 30, 6, -1, 1, SIGNET_TOTP_ERROR_INVALID_ALGORITHM },
    { 20, -1, 30, 6, 0, 1, SIGNET_TOTP_ERROR_INVALID_TIME },
    { 20, G_MININT64, 30, 6, 0, 1, SIGNET_TOTP_ERROR_INVALID_TIME },
    { 20, SIGNET_TOTP_TIME_MAX + 1, 30, 6, 0, 1, SIGNET_TOTP_ERROR_INVALID_TIME },
    { 20, G_MAXINT64, 30, 6, 0, 1, SIGNET_TOTP_ERROR_INVALID_TIME },
    { 0, 59, 30, 6, 0, 1, SIGNET_TOTP_ERROR_INVALID_SECRET },
    { SIGNET_TOTP_SECRET_MIN_LEN - 1, 59, 30, 6, 0, 1, SIGNET_TOTP_ERROR_INVALID_SECRET },
    { SIGNET_TOTP_SECRET_MAX_LEN + 1, 59, 30, 6, 0, 1, SIGNET_TOTP_ERROR_INVALID_SECRET },
  };
  guint8 buf[SIGNET_TOTP_SECRET_MAX_LEN + 1];

  memset (buf, 0x5a, sizeof buf);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const ParamCase *c = &cases[i];
      g_autoptr(GBytes) key = signet_secret_bytes_new (buf, c->key_len);
      g_autoptr(GError) error = NULL;
      g_auto(SignetSecretString) code = NULL;
      g_autofree char *zeros = g_strnfill (CLAMP (c->digits, 6, 8), '0');

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      code = signet_totp_generate (key, c->time, c->period, c->digits, c->algorithm, &error);
      g_assert_error (error, SIGNET_TOTP_ERROR, (int) c->code);
      g_assert_null (code);
      g_clear_error (&error);

      g_assert_false (signet_totp_verify (key, zeros, c->time, c->period, c->digits,
                                          c->algorithm, c->window, NULL, &error));
      g_assert_error (error, SIGNET_TOTP_ERROR, (int) c->code);
    }
}

static void
test_params_window (void)
{
  g_autoptr(GBytes) key = key_for (SIGNET_TOTP_ALGORITHM_SHA1);
  g_autoptr(GError) error = NULL;

  g_assert_true (signet_totp_verify (key, "94287082", 59, 30, 8, SIGNET_TOTP_ALGORITHM_SHA1,
                                     SIGNET_TOTP_WINDOW_MAX, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (signet_totp_verify (key, "94287082", 59, 30, 8, SIGNET_TOTP_ALGORITHM_SHA1,
                                      SIGNET_TOTP_WINDOW_MAX + 1, NULL, &error));
  g_assert_error (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_INVALID_WINDOW);
}

/* The edges that are accepted: the last second of year 9999, a period of
 * one second and of an hour, the longest and shortest keys. */
static void
test_params_limits (void)
{
  guint8 buf[SIGNET_TOTP_SECRET_MAX_LEN];
  const gsize lens[] = { SIGNET_TOTP_SECRET_MIN_LEN, SIGNET_TOTP_SECRET_MAX_LEN };

  memset (buf, 0xa5, sizeof buf);
  for (gsize i = 0; i < G_N_ELEMENTS (lens); i++)
    {
      g_autoptr(GBytes) key = signet_secret_bytes_new (buf, lens[i]);
      const guint periods[] = { 1, SIGNET_TOTP_PERIOD_MAX };

      for (gsize p = 0; p < G_N_ELEMENTS (periods); p++)
        {
          g_autoptr(GError) error = NULL;
          g_auto(SignetSecretString) code = NULL;
          guint64 step = 0;

          code = signet_totp_generate (key, SIGNET_TOTP_TIME_MAX, periods[p], 6,
                                       SIGNET_TOTP_ALGORITHM_SHA512, &error);
          g_assert_no_error (error);
          g_assert_true (signet_totp_verify (key, code, SIGNET_TOTP_TIME_MAX, periods[p], 6,
                                             SIGNET_TOTP_ALGORITHM_SHA512,
                                             SIGNET_TOTP_WINDOW_MAX, &step, &error));
          g_assert_no_error (error);
          g_assert_cmpuint (step, ==, (guint64) SIGNET_TOTP_TIME_MAX / periods[p]);
        }
    }
}

static void
test_time_step (void)
{
  g_autoptr(GError) error = NULL;
  guint64 step = 0;

  g_assert_true (signet_totp_time_step (0, 30, &step, &error));
  g_assert_cmpuint (step, ==, 0);
  g_assert_true (signet_totp_time_step (59, 30, &step, &error));
  g_assert_cmpuint (step, ==, 1);
  g_assert_true (signet_totp_time_step (60, 30, &step, &error));
  g_assert_cmpuint (step, ==, 2);
  g_assert_no_error (error);
  g_assert_false (signet_totp_time_step (-1, 30, &step, &error));
  g_assert_error (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_INVALID_TIME);
  g_clear_error (&error);
  g_assert_false (signet_totp_time_step (60, 0, &step, &error));
  g_assert_error (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_INVALID_PERIOD);
}

static void
test_algorithm_strings (void)
{
  SignetTotpAlgorithm a = SIGNET_TOTP_ALGORITHM_SHA1;

  g_assert_cmpstr (signet_totp_algorithm_to_string (SIGNET_TOTP_ALGORITHM_SHA1), ==, "SHA1");
  g_assert_cmpstr (signet_totp_algorithm_to_string (SIGNET_TOTP_ALGORITHM_SHA256), ==, "SHA256");
  g_assert_cmpstr (signet_totp_algorithm_to_string (SIGNET_TOTP_ALGORITHM_SHA512), ==, "SHA512");
  g_assert_null (signet_totp_algorithm_to_string (7));
  g_assert_true (signet_totp_algorithm_from_string ("sha512", &a));
  g_assert_cmpint (a, ==, SIGNET_TOTP_ALGORITHM_SHA512);
  g_assert_true (signet_totp_algorithm_from_string ("Sha256", &a));
  g_assert_cmpint (a, ==, SIGNET_TOTP_ALGORITHM_SHA256);
  g_assert_false (signet_totp_algorithm_from_string ("SHA-1", &a));
  g_assert_false (signet_totp_algorithm_from_string ("MD5", &a));
  g_assert_false (signet_totp_algorithm_from_string ("", &a));
  g_assert_cmpint (a, ==, SIGNET_TOTP_ALGORITHM_SHA256);
}

/* RFC 4648 section 10, plus the unpadded and lower-case forms apps use. */
static void
test_base32_decode (void)
{
  static const struct {
    const char *in;
    const char *out;
  } good[] = {
    { "MY======", "f" },
    { "MZXQ====", "fo" },
    { "MZXW6===", "foo" },
    { "MZXW6YQ=", "foob" },
    { "MZXW6YTB", "fooba" },
    { "MZXW6YTBOI======", "foobar" },
    { "MY", "f" },
    { "MZXW6YTBOI", "foobar" },
    { "mzxw6ytboi", "foobar" },
    { "mZxW6yTbOi======", "foobar" },
    { "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "12345678901234567890" },
  };
  static const char * const bad[] = {
    "",
    "========",
    "M",                  /* impossible lengths: 1, 3, 6 */
    "MZX",
    "MZXW6Y",
    "MZXW6YTBO",
    "MZ======",           /* trailing bits set ('Z' low 2 bits) */
    "MZXW6YTBOJ",         /* 'J' low 2 bits set */
    "MY=",                /* short padding */
    "MY=======",          /* too much padding */
    "MZXW6YTB========",   /* padding after a full group */
    "MZXW=6YQ",           /* '=' inside */
    "MZXW 6YQ",           /* space */
    "MZXW6YQ\n",
    "MZXW-6YQ",
    "MZXW6YQ1",           /* 0, 1, 8, 9 are not base32 */
    "MZXW6YQ0",
    "MZXW6YQ8",
    "MZXW\xc3\xa9\x36YQ",  /* an accented letter (\x36 is "6") */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = signet_totp_secret_from_base32 (good[i].in, &error);

      g_assert_no_error (error);
      g_assert_nonnull (bytes);
      g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                       good[i].out, strlen (good[i].out));
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = signet_totp_secret_from_base32 (bad[i], &error);

      g_test_message ("bad[%" G_GSIZE_FORMAT "]", i);
      g_assert_error (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_INVALID_BASE32);
      g_assert_null (bytes);
      if (strlen (bad[i]) >= 4)
        g_assert_null (strstr (error->message, bad[i]));
    }
}

static void
test_base32_encode (void)
{
  static const char * const inputs[] = { "f", "fo", "foo", "foob", "fooba", "foobar" };
  static const char * const outputs[] = { "MY", "MZXQ", "MZXW6", "MZXW6YQ", "MZXW6YTB",
                                          "MZXW6YTBOI" };
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(GError) error = NULL;
  g_auto(SignetSecretString) none = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr(GBytes) in = signet_secret_bytes_new (inputs[i], strlen (inputs[i]));
      g_autoptr(GBytes) back = NULL;
      g_auto(SignetSecretString) b32 = NULL;

      b32 = signet_totp_secret_to_base32 (in, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (b32, ==, outputs[i]);
      back = signet_totp_secret_from_base32 (b32, &error);
      g_assert_no_error (error);
      g_assert_true (signet_secret_bytes_equal (in, back));
    }

  none = signet_totp_secret_to_base32 (empty, &error);
  g_assert_error (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_INVALID_SECRET);
  g_assert_null (none);
}

static void
test_init (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (signet_totp_init (&error));
  g_assert_no_error (error);
  g_assert_true (signet_totp_init (&error));
  g_assert_no_error (error);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signet/totp/init", test_init);
  g_test_add_func ("/signet/totp/rfc6238", test_rfc6238);
  g_test_add_func ("/signet/totp/generate/digits", test_generate_digits);
  g_test_add_func ("/signet/totp/verify/window", test_verify_window);
  g_test_add_func ("/signet/totp/verify/window-at-epoch", test_verify_window_at_epoch);
  g_test_add_func ("/signet/totp/verify/malformed", test_verify_malformed);
  g_test_add_func ("/signet/totp/verify/wrong-secret", test_verify_wrong_secret);
  g_test_add_func ("/signet/totp/verify/replay-step", test_verify_replay_step);
  g_test_add_func ("/signet/totp/params/errors", test_params);
  g_test_add_func ("/signet/totp/params/window", test_params_window);
  g_test_add_func ("/signet/totp/params/limits", test_params_limits);
  g_test_add_func ("/signet/totp/time-step", test_time_step);
  g_test_add_func ("/signet/totp/algorithm/strings", test_algorithm_strings);
  g_test_add_func ("/signet/totp/base32/decode", test_base32_decode);
  g_test_add_func ("/signet/totp/base32/encode", test_base32_encode);

  return g_test_run ();
}
