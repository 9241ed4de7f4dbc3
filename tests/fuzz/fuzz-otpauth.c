/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-otpauth: the otpauth:// URI parser, which reads what an
 * administrator pastes or a QR code carries. Oracle: an accepted URI
 * rebuilds to a URI that parses to the same fields (build ∘ parse is a
 * fixed point after one step).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signet-otpauth.h"
#include "signet-secret.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = NULL;
  g_autoptr(SignetOtpauth) parsed = NULL;
  g_autoptr(SignetOtpauth) again = NULL;
  g_auto(SignetSecretString) uri = NULL;

  if (size > 8192)
    return 0;
  text = g_strndup ((const char *) data, size);
  parsed = signet_otpauth_parse (text, NULL);
  if (parsed == NULL)
    return 0;

  uri = signet_otpauth_to_uri (parsed, NULL);
  if (uri == NULL)
    abort ();
  again = signet_otpauth_parse (uri, NULL);
  if (again == NULL ||
      g_strcmp0 (signet_otpauth_get_issuer (parsed), signet_otpauth_get_issuer (again)) != 0 ||
      g_strcmp0 (signet_otpauth_get_account (parsed), signet_otpauth_get_account (again)) != 0 ||
      !signet_secret_bytes_equal (signet_otpauth_get_secret (parsed),
                                  signet_otpauth_get_secret (again)) ||
      signet_otpauth_get_algorithm (parsed) != signet_otpauth_get_algorithm (again) ||
      signet_otpauth_get_digits (parsed) != signet_otpauth_get_digits (again) ||
      signet_otpauth_get_period (parsed) != signet_otpauth_get_period (again))
    abort ();
  return 0;
}
