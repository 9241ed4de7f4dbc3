/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "signet-crypto-port.h"
#include "signet-hpke.h"
#include "signet-secret.h"
#include "sp-hpke.h"

G_DEFINE_QUARK (signet-hpke-error-quark, signet_hpke_error)

/* data and length of an optional GBytes */
static const guint8 *
opt_data (GBytes *b,
          gsize  *len)
{
  *len = 0;
  return b != NULL ? g_bytes_get_data (b, len) : NULL;
}

GBytes *
signet_hpke_seal (SignetKey  *recipient,
                  GBytes     *info,
                  GBytes     *aad,
                  GBytes     *plaintext,
                  GBytes    **out_enc,
                  GError    **error)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  g_autoptr(GBytes) pk = NULL;
  g_autofree guint8 *ct = NULL;
  guint8 enc[SP_HPKE_ENC_LEN];
  const guint8 *info_p, *aad_p, *pt;
  gsize info_len, aad_len, pt_len;
  sp_err err;

  g_return_val_if_fail (recipient != NULL, NULL);
  g_return_val_if_fail (plaintext != NULL, NULL);
  g_return_val_if_fail (out_enc != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  info_p = opt_data (info, &info_len);
  aad_p = opt_data (aad, &aad_len);
  pt = g_bytes_get_data (plaintext, &pt_len);
  if (pt_len > G_MAXSIZE - SP_HPKE_TAG_LEN)
    {
      g_set_error_literal (error, SIGNET_HPKE_ERROR, SIGNET_HPKE_ERROR_FAILED,
                           "HPKE: plaintext too large");
      return NULL;
    }

  pk = signet_key_get_public_bytes (recipient);
  ct = g_malloc (pt_len + SP_HPKE_TAG_LEN);
  err = sp_hpke_seal_base (port, g_bytes_get_data (pk, NULL), info_p, info_len,
                           aad_p, aad_len, pt, pt_len, enc, ct);
  if (err != SP_OK)
    {
      /* a SignetKey's point is always valid, so anything is the backend */
      g_set_error (error, SIGNET_HPKE_ERROR, SIGNET_HPKE_ERROR_FAILED,
                   "HPKE seal: %s", sp_strerror (err));
      return NULL;
    }

  *out_enc = g_bytes_new (enc, sizeof enc);
  return g_bytes_new_take (g_steal_pointer (&ct), pt_len + SP_HPKE_TAG_LEN);
}

GBytes *
signet_hpke_open (SignetKey  *recipient,
                  GBytes     *enc,
                  GBytes     *info,
                  GBytes     *aad,
                  GBytes     *ciphertext,
                  GError    **error)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  const guint8 *info_p, *aad_p, *ct;
  gsize info_len, aad_len, ct_len, pt_len;
  guint8 *pt;
  sp_err err;

  g_return_val_if_fail (recipient != NULL, NULL);
  g_return_val_if_fail (enc != NULL, NULL);
  g_return_val_if_fail (ciphertext != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!signet_key_has_private (recipient))
    {
      g_set_error_literal (error, SIGNET_HPKE_ERROR, SIGNET_HPKE_ERROR_INVALID_KEY,
                           "HPKE open: the recipient key has no private part");
      return NULL;
    }
  if (g_bytes_get_size (enc) != SP_HPKE_ENC_LEN)
    {
      g_set_error (error, SIGNET_HPKE_ERROR, SIGNET_HPKE_ERROR_INVALID_ENC,
                   "HPKE open: the encapsulated key is %" G_GSIZE_FORMAT
                   " bytes, not %d", g_bytes_get_size (enc), SP_HPKE_ENC_LEN);
      return NULL;
    }
  ct = g_bytes_get_data (ciphertext, &ct_len);
  if (ct_len < SP_HPKE_TAG_LEN)
    {
      g_set_error_literal (error, SIGNET_HPKE_ERROR,
                           SIGNET_HPKE_ERROR_AUTHENTICATION,
                           "HPKE open: the ciphertext is shorter than a tag");
      return NULL;
    }

  info_p = opt_data (info, &info_len);
  aad_p = opt_data (aad, &aad_len);
  pt_len = ct_len - SP_HPKE_TAG_LEN;
  pt = g_malloc (MAX (pt_len, 1));
  err = sp_hpke_open_base (port, g_bytes_get_data (enc, NULL),
                           signet_key_get_sp_key (recipient), info_p, info_len,
                           aad_p, aad_len, ct, ct_len, pt);
  if (err != SP_OK)
    {
      signet_secret_free (pt, MAX (pt_len, 1));
      switch (err)
        {
        case SP_ERR_KEY:
          g_set_error_literal (error, SIGNET_HPKE_ERROR,
                               SIGNET_HPKE_ERROR_INVALID_ENC,
                               "HPKE open: the encapsulated key is not a "
                               "point on the P-256 curve");
          break;
        case SP_ERR_AUTH:
          g_set_error_literal (error, SIGNET_HPKE_ERROR,
                               SIGNET_HPKE_ERROR_AUTHENTICATION,
                               "HPKE open: authentication failed (wrong key, "
                               "info or aad, or the message was altered)");
          break;
        default:
          g_set_error (error, SIGNET_HPKE_ERROR, SIGNET_HPKE_ERROR_FAILED,
                       "HPKE open: %s", sp_strerror (err));
          break;
        }
      return NULL;
    }

  return signet_secret_bytes_new_take (pt, pt_len);
}
