/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <liboath/oath.h>

#include "signet-secret.h"
#include "signet-totp.h"

G_DEFINE_QUARK (signet-totp-error-quark, signet_totp_error)

/* The one place where liboath's return codes become GErrors. liboath's
 * messages describe the failure, never the data, so they are safe to show. */
static gboolean
oath_check (int          rc,
            const char  *what,
            GError     **error)
{
  SignetTotpError code;

  if (rc == OATH_OK)
    return TRUE;
  switch (rc)
    {
    case OATH_INVALID_BASE32:
      code = SIGNET_TOTP_ERROR_INVALID_BASE32;
      break;
    case OATH_INVALID_DIGITS:
      code = SIGNET_TOTP_ERROR_INVALID_DIGITS;
      break;
    default:
      code = SIGNET_TOTP_ERROR_FAILED;
      break;
    }
  g_set_error (error, SIGNET_TOTP_ERROR, code, "%s: %s (liboath error %d)",
               what, oath_strerror (rc), rc);
  return FALSE;
}

static gpointer
oath_init_once (gpointer user_data)
{
  return GINT_TO_POINTER (oath_init ());
}

gboolean
signet_totp_init (GError **error)
{
  /* liboath asks for oath_init() before anything else and it is not
   * thread-safe itself; the result is kept so a failure is reported to
   * every caller, not just the first. */
  static GOnce once = G_ONCE_INIT;
  int rc = GPOINTER_TO_INT (g_once (&once, oath_init_once, NULL));

  return oath_check (rc, "Could not initialise liboath", error);
}

const char *
signet_totp_algorithm_to_string (SignetTotpAlgorithm algorithm)
{
  switch (algorithm)
    {
    case SIGNET_TOTP_ALGORITHM_SHA1:
      return "SHA1";
    case SIGNET_TOTP_ALGORITHM_SHA256:
      return "SHA256";
    case SIGNET_TOTP_ALGORITHM_SHA512:
      return "SHA512";
    default:
      return NULL;
    }
}

gboolean
signet_totp_algorithm_from_string (const char          *name,
                                   SignetTotpAlgorithm *out_algorithm)
{
  static const SignetTotpAlgorithm all[] = {
    SIGNET_TOTP_ALGORITHM_SHA1,
    SIGNET_TOTP_ALGORITHM_SHA256,
    SIGNET_TOTP_ALGORITHM_SHA512,
  };

  g_return_val_if_fail (name != NULL, FALSE);

  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    {
      if (g_ascii_strcasecmp (name, signet_totp_algorithm_to_string (all[i])) == 0)
        {
          if (out_algorithm != NULL)
            *out_algorithm = all[i];
          return TRUE;
        }
    }
  return FALSE;
}

static gboolean
check_period (guint    period,
              GError **error)
{
  /* liboath silently turns a period of 0 into 30 s: refuse it here. */
  if (period == 0 || period > SIGNET_TOTP_PERIOD_MAX)
    {
      g_set_error (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_INVALID_PERIOD,
                   "TOTP period must be between 1 and %u seconds, not %u",
                   (guint) SIGNET_TOTP_PERIOD_MAX, period);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_time (gint64   unix_time,
            GError **error)
{
  /* liboath computes (now - start) / period in unsigned arithmetic: a time
   * before the epoch would wrap to an enormous counter, not fail. */
  if (unix_time < 0)
    {
      g_set_error_literal (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_INVALID_TIME,
                           "TOTP time is before the Unix epoch");
      return FALSE;
    }
  if (unix_time > SIGNET_TOTP_TIME_MAX)
    {
      g_set_error_literal (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_INVALID_TIME,
                           "TOTP time is after the year 9999");
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_params (GBytes               *secret,
              guint                 period,
              guint                 digits,
              SignetTotpAlgorithm   algorithm,
              int                  *out_flags,
              GError              **error)
{
  gsize len = g_bytes_get_size (secret);

  if (len < SIGNET_TOTP_SECRET_MIN_LEN || len > SIGNET_TOTP_SECRET_MAX_LEN)
    {
      g_set_error (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_INVALID_SECRET,
                   "TOTP key must be %u to %u bytes long, not %" G_GSIZE_FORMAT,
                   (guint) SIGNET_TOTP_SECRET_MIN_LEN,
                   (guint) SIGNET_TOTP_SECRET_MAX_LEN, len);
      return FALSE;
    }
  if (!check_period (period, error))
    return FALSE;
  if (digits < SIGNET_TOTP_DIGITS_MIN || digits > SIGNET_TOTP_DIGITS_MAX)
    {
      g_set_error (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_INVALID_DIGITS,
                   "TOTP codes must have %u to %u digits, not %u",
                   (guint) SIGNET_TOTP_DIGITS_MIN, (guint) SIGNET_TOTP_DIGITS_MAX,
                   digits);
      return FALSE;
    }
  /* liboath ignores flag bits it does not know, so an out-of-range value
   * would silently become some algorithm: map explicitly. */
  switch (algorithm)
    {
    case SIGNET_TOTP_ALGORITHM_SHA1:
      *out_flags = 0;
      break;
    case SIGNET_TOTP_ALGORITHM_SHA256:
      *out_flags = OATH_TOTP_HMAC_SHA256;
      break;
    case SIGNET_TOTP_ALGORITHM_SHA512:
      *out_flags = OATH_TOTP_HMAC_SHA512;
      break;
    default:
      g_set_error (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_INVALID_ALGORITHM,
                   "Unknown TOTP algorithm %d", (int) algorithm);
      return FALSE;
    }
  return signet_totp_init (error);
}

/* The code of one absolute time step. liboath takes a time, not a counter,
 * so ask for the first second of the step: (step × period) / period is
 * exactly step. Callers bound step so that the product fits in gint64;
 * time_t may be narrower (32-bit ABIs). */
static int
generate_step (gconstpointer key,
               gsize         key_len,
               guint64       step,
               guint         period,
               guint         digits,
               int           flags,
               char          out[SIGNET_TOTP_DIGITS_MAX + 1])
{
  gint64 at = (gint64) (step * period);

  if ((gint64) (time_t) at != at)
    return OATH_INVALID_TIMESTAMP;
  return oath_totp_generate2 (key, key_len, (time_t) at, period, 0,
                              digits, flags, out);
}

gboolean
signet_totp_time_step (gint64    unix_time,
                       guint     period,
                       guint64  *out_step,
                       GError  **error)
{
  g_return_val_if_fail (out_step != NULL, FALSE);

  if (!check_period (period, error) || !check_time (unix_time, error))
    return FALSE;
  *out_step = (guint64) unix_time / period;
  return TRUE;
}

char *
signet_totp_generate (GBytes               *secret,
                      gint64                unix_time,
                      guint                 period,
                      guint                 digits,
                      SignetTotpAlgorithm   algorithm,
                      GError              **error)
{
  char otp[SIGNET_TOTP_DIGITS_MAX + 1] = { 0 };
  gconstpointer key;
  gsize key_len;
  guint64 step;
  int flags = 0;
  int rc;
  char *ret;

  g_return_val_if_fail (secret != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_params (secret, period, digits, algorithm, &flags, error) ||
      !signet_totp_time_step (unix_time, period, &step, error))
    return NULL;

  key = g_bytes_get_data (secret, &key_len);
  rc = generate_step (key, key_len, step, period, digits, flags, otp);
  if (!oath_check (rc, "Could not generate a TOTP code", error))
    {
      signet_secret_wipe (otp, sizeof otp);
      return NULL;
    }
  ret = g_strndup (otp, digits);
  signet_secret_wipe (otp, sizeof otp);
  return ret;
}

/* TRUE if code is exactly digits ASCII digits. The length is public (the
 * form tells it); the characters are looked at without an early exit. */
static gboolean
code_is_well_formed (const char *code,
                     guint       digits)
{
  guint bad = 0;
  gsize len = 0;

  while (len <= digits && code[len] != '\0')
    len++;
  if (len != digits)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    bad |= (guint) ((guchar) code[i] - (guint) '0') > 9;
  return bad == 0;
}

gboolean
signet_totp_verify (GBytes               *secret,
                    const char           *code,
                    gint64                now,
                    guint                 period,
                    guint                 digits,
                    SignetTotpAlgorithm   algorithm,
                    guint                 window,
                    guint64              *out_step,
                    GError              **error)
{
  char candidate[SIGNET_TOTP_DIGITS_MAX + 1] = { 0 };
  gconstpointer key;
  gsize key_len;
  guint64 step, first, last;
  guint64 matched = 0, matched_step = 0;
  int flags = 0;
  int failed_rc = OATH_OK;

  g_return_val_if_fail (secret != NULL, FALSE);
  g_return_val_if_fail (code != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_params (secret, period, digits, algorithm, &flags, error) ||
      !signet_totp_time_step (now, period, &step, error))
    return FALSE;
  if (window > SIGNET_TOTP_WINDOW_MAX)
    {
      g_set_error (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_INVALID_WINDOW,
                   "TOTP window must be at most %u steps, not %u",
                   (guint) SIGNET_TOTP_WINDOW_MAX, window);
      return FALSE;
    }
  if (!code_is_well_formed (code, digits))
    {
      /* Never echo the code: it may be a mistyped password. */
      g_set_error (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_MALFORMED_CODE,
                   "A TOTP code must be exactly %u digits", digits);
      return FALSE;
    }

  /* Every step of the window is generated and compared, whatever matched
   * before, so the time taken does not tell which step (if any) matched.
   * Steps before 0 do not exist; how many there are depends on the public
   * clock only. */
  first = step >= window ? step - window : 0;
  last = step + window;
  key = g_bytes_get_data (secret, &key_len);
  for (guint64 s = first; s <= last; s++)
    {
      int rc = generate_step (key, key_len, s, period, digits, flags, candidate);
      guint64 eq, mask;

      if (rc != OATH_OK)
        {
          failed_rc = rc;
          signet_secret_wipe (candidate, sizeof candidate);
          continue;
        }
      eq = signet_secret_equal (candidate, code, digits) ? 1 : 0;
      mask = (guint64) 0 - eq;
      /* Later matches overwrite earlier ones: the latest step wins. */
      matched_step = (matched_step & ~mask) | (s & mask);
      matched |= eq;
      signet_secret_wipe (candidate, sizeof candidate);
    }

  if (!oath_check (failed_rc, "Could not generate a TOTP code", error))
    return FALSE;
  if (!matched)
    {
      g_set_error_literal (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_NO_MATCH,
                           "The TOTP code does not match");
      return FALSE;
    }
  if (out_step != NULL)
    *out_step = matched_step;
  return TRUE;
}

/* The value of an upper-case base32 digit (A–Z, 2–7). */
static guint
base32_value (char c)
{
  return c >= 'A' ? (guint) (c - 'A') : (guint) (c - '2') + 26;
}

GBytes *
signet_totp_secret_from_base32 (const char  *base32,
                                GError     **error)
{
  g_auto(SignetSecretString) norm = NULL;
  char *out = NULL;
  size_t out_len = 0;
  gsize len, n, pad = 0, rem;
  guint bad = 0, tail_bits;
  GBytes *bytes;
  int rc;

  g_return_val_if_fail (base32 != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!signet_totp_init (error))
    return NULL;

  len = strlen (base32);
  while (pad < len && base32[len - 1 - pad] == '=')
    pad++;
  n = len - pad;
  rem = n % 8;
  if (n == 0)
    {
      g_set_error_literal (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_INVALID_BASE32,
                           "The base32 key is empty");
      return NULL;
    }
  /* 1, 3 or 6 characters in the last group cannot encode whole bytes. */
  if (rem == 1 || rem == 3 || rem == 6)
    {
      g_set_error_literal (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_INVALID_BASE32,
                           "The base32 key has an impossible length "
                           "(it may be truncated)");
      return NULL;
    }
  /* Padding is optional (apps leave it out) but, if present, must complete
   * the last group of 8. */
  if (pad > 0 && (rem == 0 || len % 8 != 0))
    {
      g_set_error_literal (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_INVALID_BASE32,
                           "The base32 key has the wrong amount of '=' padding");
      return NULL;
    }

  /* liboath accepts lower case but also silently skips spaces and other
   * junk in places; normalise and check the alphabet here instead. */
  norm = g_malloc (n + 1);
  for (gsize i = 0; i < n; i++)
    {
      char c = g_ascii_toupper (base32[i]);

      bad |= !((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'));
      norm[i] = c;
    }
  norm[n] = '\0';
  if (bad)
    {
      g_set_error_literal (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_INVALID_BASE32,
                           "The base32 key contains characters other than "
                           "A-Z and 2-7");
      return NULL;
    }
  /* The bits of the last character beyond the last whole byte must be
   * zero in a canonical encoding; liboath ignores them, which would let a
   * mistyped or cut key decode to something. */
  tail_bits = (guint) ((n * 5) % 8);
  if ((base32_value (norm[n - 1]) & ((1u << tail_bits) - 1)) != 0)
    {
      g_set_error_literal (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_INVALID_BASE32,
                           "The base32 key does not end on a byte boundary "
                           "(it may be truncated or mistyped)");
      return NULL;
    }

  rc = oath_base32_decode (norm, n, &out, &out_len);
  if (rc != OATH_OK)
    {
      /* liboath's output is malloc()ed; wipe whatever it left. */
      if (out != NULL)
        signet_secret_wipe (out, out_len);
      free (out);
      oath_check (rc, "Could not decode the base32 key", error);
      return NULL;
    }
  bytes = signet_secret_bytes_new (out, out_len);
  signet_secret_wipe (out, out_len);
  free (out);
  return bytes;
}

char *
signet_totp_secret_to_base32 (GBytes  *secret,
                              GError **error)
{
  char *out = NULL;
  size_t out_len = 0;
  gconstpointer data;
  gsize len, n;
  char *ret;
  int rc;

  g_return_val_if_fail (secret != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!signet_totp_init (error))
    return NULL;

  data = g_bytes_get_data (secret, &len);
  if (len == 0)
    {
      g_set_error_literal (error, SIGNET_TOTP_ERROR, SIGNET_TOTP_ERROR_INVALID_SECRET,
                           "The TOTP key is empty");
      return NULL;
    }
  rc = oath_base32_encode (data, len, &out, &out_len);
  if (rc != OATH_OK)
    {
      if (out != NULL)
        signet_secret_wipe (out, out_len);
      free (out);
      oath_check (rc, "Could not encode the key in base32", error);
      return NULL;
    }
  /* liboath always pads; the Key URI format asks for no padding. */
  n = out_len;
  while (n > 0 && out[n - 1] == '=')
    n--;
  ret = g_strndup (out, n);
  signet_secret_wipe (out, out_len);
  free (out);
  return ret;
}
