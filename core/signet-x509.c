/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "signet-crypto.h"
#include "signet-x509.h"

/* The X.509 types are used by this module alone, so their cleanup
 * functions live here rather than in signet-crypto.h. A STACK_OF() is not
 * a type name g_autoptr can take, hence the typedef. */
typedef STACK_OF (X509) SignetX509Stack;

static void
x509_stack_free (SignetX509Stack *sk)
{
  sk_X509_pop_free (sk, X509_free);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetX509Stack, x509_stack_free)

G_DEFINE_QUARK (signet-x509-error-quark, signet_x509_error)

/* Far more than any certificate Signet deals with (a P-256 device
 * certificate is about 500 bytes): a bound for what a peer can make us
 * parse, not a format limit. */
#define MAX_CERT_LEN (16 * 1024)
#define MAX_PEM_LEN (256 * 1024)
#define MAX_PEM_CERTS 16

#define MAX_DAYS 36500
/* X.520 upper bounds (ub-common-name, ub-serial-number) */
#define MAX_CN_CHARS 64
#define MAX_SERIAL_CHARS 64
/* How much of a certificate's CN an error message quotes */
#define MAX_LABEL_CHARS 40

#define SERIAL_BYTES 16 /* 128 random bits */

/* ---- names --------------------------------------------------------------- */

/* X.520 PrintableString: what a device serial may contain. */
static gboolean
is_printable_string (const char *s)
{
  for (; *s != '\0'; s++)
    if (!g_ascii_isalnum (*s) && strchr (" '()+,-./:=?", *s) == NULL)
      return FALSE;
  return TRUE;
}

static gboolean
check_common_name (const char  *cn,
                   GError     **error)
{
  const char *p;

  if (cn[0] == '\0' || !g_utf8_validate (cn, -1, NULL)
      || g_utf8_strlen (cn, -1) > MAX_CN_CHARS)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                   "The common name must be 1 to %d UTF-8 characters",
                   MAX_CN_CHARS);
      return FALSE;
    }
  for (p = cn; *p != '\0'; p = g_utf8_next_char (p))
    if (!g_unichar_isprint (g_utf8_get_char (p)))
      {
        g_set_error_literal (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                             "The common name contains a control character");
        return FALSE;
      }
  return TRUE;
}

static gboolean
is_device_serial (const char *serial)
{
  gsize len = strlen (serial);

  return len > 0 && len <= MAX_SERIAL_CHARS && is_printable_string (serial);
}

/* A host name as RFC 1123 allows it: labels of letters, digits and
 * hyphens, no wildcard (a self-signed certificate names one server). */
static gboolean
is_dns_name (const char *name)
{
  gsize len = strlen (name);
  gsize label = 0;
  gsize i;

  if (len == 0 || len > 253)
    return FALSE;
  for (i = 0; i <= len; i++)
    {
      char c = name[i];

      if (c == '.' || c == '\0')
        {
          if (label == 0 || label > 63 || name[i - 1] == '-')
            return FALSE;
          label = 0;
          continue;
        }
      if (!g_ascii_isalnum (c) && !(c == '-' && label > 0))
        return FALSE;
      label++;
    }
  return TRUE;
}

/* The one entry of nid in name, as UTF-8: *out is NULL if there is none.
 * FALSE (INVALID) if there are several, or it is not clean UTF-8 text. */
static gboolean
name_get_entry (const X509_NAME  *name,
                int               nid,
                const char       *what,
                char            **out,
                GError          **error)
{
  int i = X509_NAME_get_index_by_NID (name, nid, -1);
  unsigned char *utf8 = NULL;
  int len;

  *out = NULL;
  if (i < 0)
    return TRUE;
  if (X509_NAME_get_index_by_NID (name, nid, i) >= 0)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                   "The %s appears more than once", what);
      return FALSE;
    }

  len = ASN1_STRING_to_UTF8 (&utf8,
                             X509_NAME_ENTRY_get_data (X509_NAME_get_entry (name, i)));
  if (len < 0 || memchr (utf8, '\0', len) != NULL
      || !g_utf8_validate ((const char *) utf8, len, NULL))
    {
      ERR_clear_error ();
      OPENSSL_free (utf8);
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                   "The %s is not valid text", what);
      return FALSE;
    }
  *out = g_strndup ((const char *) utf8, len);
  OPENSSL_free (utf8);
  return TRUE;
}

/* A name fit for an error message: the CN, escaped and shortened, since it
 * comes from a certificate nobody has verified yet. */
static char *
name_for_message (const X509_NAME *name)
{
  int i = X509_NAME_get_index_by_NID (name, NID_commonName, -1);
  unsigned char *utf8 = NULL;
  g_autofree char *valid = NULL;
  GString *out;
  const char *p;
  guint n = 0;
  int len;

  if (i < 0)
    return g_strdup ("(no common name)");
  len = ASN1_STRING_to_UTF8 (&utf8,
                             X509_NAME_ENTRY_get_data (X509_NAME_get_entry (name, i)));
  if (len < 0)
    {
      ERR_clear_error ();
      return g_strdup ("(unreadable common name)");
    }
  valid = g_utf8_make_valid ((const char *) utf8, len);
  OPENSSL_free (utf8);

  out = g_string_new ("“");
  for (p = valid; *p != '\0' && n < MAX_LABEL_CHARS; p = g_utf8_next_char (p), n++)
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isprint (c) && c != 0x201c && c != 0x201d)
        g_string_append_unichar (out, c);
      else
        g_string_append_printf (out, "\\u%04x", c);
    }
  if (*p != '\0')
    g_string_append (out, "…");
  g_string_append (out, "”");
  return g_string_free (out, FALSE);
}

/* "leaf certificate “name”" and the like */
static char *
cert_label (const X509 *x,
            const char *role)
{
  g_autofree char *name = name_for_message (X509_get_subject_name (x));

  return g_strdup_printf ("%s certificate %s", role, name);
}

/* ---- DER, PEM ---------------------------------------------------------- */

static GBytes *
x509_to_der (X509    *x,
             GError **error)
{
  int len = i2d_X509 (x, NULL);
  guint8 *buf, *p;

  if (len <= 0)
    {
      signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                       SIGNET_X509_ERROR_FAILED,
                                       "Could not encode the certificate");
      return NULL;
    }
  buf = p = g_malloc (len);
  if (i2d_X509 (x, &p) != len)
    {
      g_free (buf);
      signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                       SIGNET_X509_ERROR_FAILED,
                                       "Could not encode the certificate");
      return NULL;
    }
  return g_bytes_new_take (buf, len);
}

/* Parse one DER certificate: all of der, in DER (not BER), with
 * extensions OpenSSL can make sense of. what names it in messages. */
static X509 *
x509_from_der (GBytes      *der,
               const char  *what,
               GError     **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (der, &len);
  const unsigned char *p = data;
  g_autoptr(X509) x = NULL;
  g_autoptr(GBytes) again = NULL;

  if (len == 0 || len > MAX_CERT_LEN)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                   "The %s is %s", what, len == 0 ? "empty" : "too large");
      return NULL;
    }
  x = d2i_X509 (NULL, &p, (long) len);
  if (x == NULL)
    {
      ERR_clear_error ();
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                   "The %s is not a DER X.509 certificate", what);
      return NULL;
    }
  if (p != data + len)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                   "The %s has trailing bytes", what);
      return NULL;
    }

  /* OpenSSL keeps the to-be-signed part as received (the signature covers
   * it), but re-encodes the outer structure: a difference means the input
   * was not DER. */
  again = x509_to_der (x, NULL);
  if (again == NULL || !g_bytes_equal (again, der))
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                   "The %s is not in canonical DER", what);
      return NULL;
    }

  /* Computes the extension cache; EXFLAG_INVALID covers undecodable or
   * duplicate extensions and inconsistent key identifiers. */
  if ((X509_get_extension_flags (x) & EXFLAG_INVALID) != 0)
    {
      ERR_clear_error ();
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                   "The %s has a malformed extension", what);
      return NULL;
    }
  return g_steal_pointer (&x);
}

/* The "CERTIFICATE" blocks of pem, DER each, at most max of them. */
static GPtrArray *
pem_read_certs (const char  *pem,
                guint        max,
                GError     **error)
{
  g_autoptr(GPtrArray) certs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(BIO) bio = NULL;
  gsize pem_len = strlen (pem);

  if (pem_len > MAX_PEM_LEN)
    {
      g_set_error_literal (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                           "The PEM text is too large");
      return NULL;
    }
  bio = BIO_new_mem_buf (pem, (int) pem_len);
  if (bio == NULL)
    {
      signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                       SIGNET_X509_ERROR_FAILED, "Reading PEM");
      return NULL;
    }

  for (;;)
    {
      char *name = NULL;
      char *header = NULL;
      unsigned char *data = NULL;
      long len = 0;
      gboolean is_cert;
      gboolean has_header;
      g_autoptr(GBytes) der = NULL;
      g_autoptr(X509) x = NULL;
      g_autofree char *what = NULL;

      if (!PEM_read_bio (bio, &name, &header, &data, &len))
        {
          unsigned long e = ERR_peek_last_error ();

          ERR_clear_error ();
          /* "no start line" is how PEM_read_bio says "no more blocks" */
          if (ERR_GET_LIB (e) == ERR_LIB_PEM
              && ERR_GET_REASON (e) == PEM_R_NO_START_LINE)
            break;
          g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                       "PEM block %u is malformed", certs->len + 1);
          return NULL;
        }
      is_cert = strcmp (name, PEM_STRING_X509) == 0;
      has_header = header[0] != '\0';
      der = g_bytes_new (data, len);
      OPENSSL_free (name);
      OPENSSL_free (header);
      /* In case it was a key block: the error below says only that it is
       * not a certificate. */
      OPENSSL_clear_free (data, len);

      if (!is_cert)
        {
          g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                       "PEM block %u is not a CERTIFICATE", certs->len + 1);
          return NULL;
        }
      if (has_header)
        {
          g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                       "PEM block %u has headers", certs->len + 1);
          return NULL;
        }
      if (certs->len == max)
        {
          g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                       "More than %u certificates", max);
          return NULL;
        }
      what = g_strdup_printf ("certificate in PEM block %u", certs->len + 1);
      x = x509_from_der (der, what, error);
      if (x == NULL)
        return NULL;
      g_ptr_array_add (certs, g_steal_pointer (&der));
    }

  if (certs->len == 0)
    {
      g_set_error_literal (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                           "No CERTIFICATE PEM block");
      return NULL;
    }
  return g_steal_pointer (&certs);
}

GBytes *
signet_x509_der_from_pem (const char  *pem,
                          GError     **error)
{
  g_autoptr(GPtrArray) certs = NULL;

  g_return_val_if_fail (pem != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  certs = pem_read_certs (pem, MAX_PEM_CERTS, error);
  if (certs == NULL)
    return NULL;
  if (certs->len != 1)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                   "Expected one certificate, found %u", certs->len);
      return NULL;
    }
  return g_bytes_ref (g_ptr_array_index (certs, 0));
}

GPtrArray *
signet_x509_chain_from_pem (const char  *pem,
                            GError     **error)
{
  g_return_val_if_fail (pem != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return pem_read_certs (pem, MAX_PEM_CERTS, error);
}

char *
signet_x509_pem_from_der (GBytes  *der,
                          GError **error)
{
  g_autoptr(X509) x = NULL;
  g_autoptr(BIO) bio = NULL;
  const guint8 *data;
  gsize len;
  char *mem = NULL;
  long mem_len;

  g_return_val_if_fail (der != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Parsed only to refuse what is not a certificate: the PEM carries the
   * very bytes given. */
  x = x509_from_der (der, "certificate", error);
  if (x == NULL)
    return NULL;

  data = g_bytes_get_data (der, &len);
  bio = BIO_new (BIO_s_mem ());
  if (bio == NULL
      || PEM_write_bio (bio, PEM_STRING_X509, "", data, (long) len) <= 0)
    {
      signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                       SIGNET_X509_ERROR_FAILED,
                                       "Could not write PEM");
      return NULL;
    }
  mem_len = BIO_get_mem_data (bio, &mem);
  return g_strndup (mem, mem_len);
}

/* ---- what every accepted certificate must be -------------------------- */

/* The certificate's key as a SignetKey: P-256, on the curve. */
static SignetKey *
x509_dup_key (X509        *x,
              const char  *label,
              GError     **error)
{
  X509_PUBKEY *xpk = X509_get_X509_PUBKEY (x);
  g_autoptr(GBytes) spki = NULL;
  g_autoptr(GError) local_error = NULL;
  SignetKey *key;
  guint8 *buf, *p;
  int len;

  len = xpk != NULL ? i2d_X509_PUBKEY (xpk, NULL) : -1;
  if (len <= 0)
    {
      ERR_clear_error ();
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                   "The %s has no readable public key", label);
      return NULL;
    }
  buf = p = g_malloc (len);
  i2d_X509_PUBKEY (xpk, &p);
  spki = g_bytes_new_take (buf, len);

  key = signet_key_new_from_spki_der (spki, &local_error);
  if (key == NULL)
    {
      gint code;

      if (g_error_matches (local_error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_UNSUPPORTED))
        code = SIGNET_X509_ERROR_UNSUPPORTED_KEY;
      else if (g_error_matches (local_error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_FAILED))
        code = SIGNET_X509_ERROR_FAILED;
      else
        code = SIGNET_X509_ERROR_INVALID;
      g_set_error (error, SIGNET_X509_ERROR, code,
                   "The %s does not have a usable P-256 key: %s",
                   label, local_error->message);
      return NULL;
    }
  return key;
}

/* P-256 key, ecdsa-with-SHA256 (with absent parameters, RFC 5758 §3.2)
 * both outside and inside the signed part. */
static gboolean
x509_check_algorithms (X509        *x,
                       const char  *label,
                       GError     **error)
{
  g_autoptr(SignetKey) key = NULL;
  const X509_ALGOR *outer = NULL;
  const ASN1_OBJECT *oid = NULL;
  int ptype = V_ASN1_UNDEF;

  key = x509_dup_key (x, label, error);
  if (key == NULL)
    return FALSE;

  X509_get0_signature (NULL, &outer, x);
  X509_ALGOR_get0 (&oid, &ptype, NULL, outer);
  if (OBJ_obj2nid (oid) != NID_ecdsa_with_SHA256 || ptype != V_ASN1_UNDEF)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_UNSUPPORTED_KEY,
                   "The %s is not signed with ecdsa-with-SHA256", label);
      return FALSE;
    }
  if (X509_ALGOR_cmp (outer, X509_get0_tbs_sigalg (x)) != 0)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                   "The %s names two different signature algorithms", label);
      return FALSE;
    }
  return TRUE;
}

/* Critical CA:TRUE, a keyUsage with keyCertSign and a key identifier.
 * RFC 5280 §4.2.1.3 requires keyUsage in a CA certificate, so its absence
 * does not mean "anything". OpenSSL's X509_STRICT checks some of this,
 * but only above a leaf: check_ca looks at a CA alone. */
static gboolean
x509_check_issuer (X509        *x,
                   const char  *label,
                   GError     **error)
{
  guint32 flags = X509_get_extension_flags (x);

  if ((flags & EXFLAG_CA) == 0)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_NOT_CA,
                   "The %s is not a CA (no basicConstraints CA:TRUE)", label);
      return FALSE;
    }
  if ((flags & EXFLAG_BCONS_CRITICAL) == 0)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_NOT_CA,
                   "The %s has a non-critical basicConstraints", label);
      return FALSE;
    }
  if (X509_get0_subject_key_id (x) == NULL)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                   "The %s has no subjectKeyIdentifier", label);
      return FALSE;
    }
  if ((flags & EXFLAG_KUSAGE) == 0
      || (X509_get_key_usage (x) & KU_KEY_CERT_SIGN) == 0)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_NOT_CA,
                   "The %s may not sign certificates (no keyCertSign)", label);
      return FALSE;
    }
  return TRUE;
}

/* ---- verification -------------------------------------------------------- */

static gint
verify_error_code (int err)
{
  switch (err)
    {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return SIGNET_X509_ERROR_EXPIRED;

    case X509_V_ERR_CERT_NOT_YET_VALID:
      return SIGNET_X509_ERROR_NOT_YET_VALID;

    case X509_V_ERR_CERT_REVOKED:
      return SIGNET_X509_ERROR_REVOKED;

    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
      return SIGNET_X509_ERROR_CHAIN_TOO_LONG;

    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_SIGNATURE_ALGORITHM_MISMATCH:
      return SIGNET_X509_ERROR_BAD_SIGNATURE;

    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
    case X509_V_ERR_CA_BCONS_NOT_CRITICAL:
    case X509_V_ERR_CA_CERT_MISSING_KEY_USAGE:
    case X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA:
    case X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN:
      return SIGNET_X509_ERROR_NOT_CA;

    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
    case X509_V_ERR_EC_KEY_EXPLICIT_PARAMS:
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK:
    case X509_V_ERR_UNSUPPORTED_SIGNATURE_ALGORITHM:
      return SIGNET_X509_ERROR_UNSUPPORTED_KEY;

    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
    case X509_V_ERR_INVALID_EXTENSION:
    case X509_V_ERR_INVALID_NON_CA:
    case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
    case X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL:
    case X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL:
    case X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER:
    case X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER:
    case X509_V_ERR_EMPTY_SUBJECT_ALT_NAME:
    case X509_V_ERR_SUBJECT_NAME_EMPTY:
    case X509_V_ERR_ISSUER_NAME_EMPTY:
    case X509_V_ERR_SIGNATURE_ALGORITHM_INCONSISTENCY:
    case X509_V_ERR_EXTENSIONS_REQUIRE_VERSION_3:
    case X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA:
      return SIGNET_X509_ERROR_INVALID;

    case X509_V_ERR_OUT_OF_MEM:
    case X509_V_ERR_UNSPECIFIED:
      return SIGNET_X509_ERROR_FAILED;

    default:
      /* Unable to get the issuer, self-signed certificate not trusted,
       * and whatever else keeps a path from reaching an anchor. */
      return SIGNET_X509_ERROR_UNTRUSTED;
    }
}

/* Turn a failed X509_verify_cert into a GError that says which
 * certificate failed and why; leaf_role names the certificate verified. */
static gboolean
set_verify_error (X509_STORE_CTX  *ctx,
                  const char      *leaf_role,
                  GError         **error)
{
  int err = X509_STORE_CTX_get_error (ctx);
  int depth = X509_STORE_CTX_get_error_depth (ctx);
  X509 *cur = X509_STORE_CTX_get_current_cert (ctx);
  const char *reason = X509_verify_cert_error_string (err);
  const char *role;
  g_autofree char *label = NULL;

  ERR_clear_error ();
  if (cur == NULL)
    {
      g_set_error (error, SIGNET_X509_ERROR, verify_error_code (err),
                   "The certificate chain does not verify: %s", reason);
      return FALSE;
    }

  if (depth == 0)
    role = leaf_role;
  else if ((X509_get_extension_flags (cur) & EXFLAG_SS) != 0)
    role = "root";
  else if (depth >= X509_STORE_CTX_get_num_untrusted (ctx))
    role = "trusted CA";
  else
    role = "intermediate";
  label = cert_label (cur, role);
  g_set_error (error, SIGNET_X509_ERROR, verify_error_code (err),
               "The %s does not verify: %s", label, reason);
  return FALSE;
}

gboolean
signet_x509_verify_chain (GPtrArray          *chain,
                          GPtrArray          *anchors,
                          const char * const *revoked_serials,
                          gint64              now,
                          SignetKey         **out_leaf_key,
                          char              **out_device_serial,
                          GError            **error)
{
  g_autoptr(SignetX509Stack) untrusted = NULL;
  g_autoptr(X509_STORE) store = NULL;
  g_autoptr(X509_STORE_CTX) ctx = NULL;
  g_autoptr(X509) leaf = NULL;
  g_autoptr(SignetKey) leaf_key = NULL;
  g_autofree char *serial = NULL;
  g_autofree char *leaf_label = NULL;
  g_autoptr(GError) local_error = NULL;
  STACK_OF (X509) *verified;
  X509_VERIFY_PARAM *param;
  guint i;
  int n;

  g_return_val_if_fail (chain != NULL, FALSE);
  g_return_val_if_fail (anchors != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (chain->len == 0)
    {
      g_set_error_literal (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                           "The certificate chain is empty");
      return FALSE;
    }
  if (chain->len > SIGNET_X509_MAX_CHAIN_LEN)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_CHAIN_TOO_LONG,
                   "The certificate chain has %u certificates, more than %d",
                   chain->len, SIGNET_X509_MAX_CHAIN_LEN);
      return FALSE;
    }
  if (anchors->len == 0)
    {
      g_set_error_literal (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_UNTRUSTED,
                           "No manufacturer CA is trusted");
      return FALSE;
    }

  /* Everything is parsed and held to our algorithms before OpenSSL builds
   * a path, so that a foreign key or hash is refused as such wherever it
   * is, rather than as whatever OpenSSL trips on first. */
  untrusted = sk_X509_new_null ();
  if (untrusted == NULL)
    return signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                            SIGNET_X509_ERROR_FAILED, "Verifying");
  for (i = 0; i < chain->len; i++)
    {
      g_autofree char *what = g_strdup_printf ("certificate %u of the chain", i + 1);
      g_autofree char *label = NULL;
      g_autoptr(X509) x = x509_from_der (g_ptr_array_index (chain, i), what, error);

      if (x == NULL)
        return FALSE;
      label = cert_label (x, i == 0 ? "leaf"
                             : (X509_get_extension_flags (x) & EXFLAG_SS) != 0 ? "root"
                             : "intermediate");
      if (!x509_check_algorithms (x, label, error))
        return FALSE;
      if (i == 0)
        {
          leaf = g_steal_pointer (&x);
          leaf_label = g_steal_pointer (&label);
        }
      else if (!sk_X509_push (untrusted, x))
        return signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                                SIGNET_X509_ERROR_FAILED, "Verifying");
      else
        x = NULL; /* the stack owns it */
    }

  /* A store of the anchors and nothing else: no default paths. */
  store = X509_STORE_new ();
  if (store == NULL)
    return signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                            SIGNET_X509_ERROR_FAILED, "Verifying");
  for (i = 0; i < anchors->len; i++)
    {
      g_autofree char *what = g_strdup_printf ("trusted CA certificate %u", i + 1);
      g_autofree char *label = NULL;
      g_autoptr(X509) x = x509_from_der (g_ptr_array_index (anchors, i), what, error);

      if (x == NULL)
        return FALSE;
      label = cert_label (x, "trusted CA");
      if (!x509_check_algorithms (x, label, error))
        return FALSE;
      /* X509_STORE_add_cert takes its own reference */
      if (!X509_STORE_add_cert (store, x))
        return signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                                SIGNET_X509_ERROR_FAILED,
                                                "Adding a trusted CA");
    }

  ctx = X509_STORE_CTX_new ();
  if (ctx == NULL || !X509_STORE_CTX_init (ctx, store, leaf, untrusted))
    return signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                            SIGNET_X509_ERROR_FAILED, "Verifying");
  param = X509_STORE_CTX_get0_param (ctx);
  /* PARTIAL_CHAIN lets a path end at any certificate of the store, not
   * only a self-signed one. The store holds only the anchors, so this is
   * what lets an administrator trust a manufacturer's intermediate alone;
   * it never lets a path end at a certificate from the chain itself. */
  X509_VERIFY_PARAM_set_flags (param, X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN);
  /* OpenSSL's depth counts the certificates between leaf and anchor */
  X509_VERIFY_PARAM_set_depth (param, SIGNET_X509_MAX_CHAIN_LEN - 2);
  X509_VERIFY_PARAM_set_time (param, (time_t) now);

  n = X509_verify_cert (ctx);
  if (n < 0)
    return signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                            SIGNET_X509_ERROR_FAILED, "Verifying");
  if (n == 0)
    return set_verify_error (ctx, "leaf", error);

  verified = X509_STORE_CTX_get0_chain (ctx);
  n = sk_X509_num (verified);
  if (n < 2)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_NOT_DEVICE,
                   "The %s is itself a trusted CA", leaf_label);
      return FALSE;
    }
  if (n > SIGNET_X509_MAX_CHAIN_LEN)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_CHAIN_TOO_LONG,
                   "The certificate path has %d certificates, more than %d",
                   n, SIGNET_X509_MAX_CHAIN_LEN);
      return FALSE;
    }
  /* OpenSSL already demands CA:TRUE of issuers; keyCertSign it only checks
   * when keyUsage is present. */
  for (i = 1; i < (guint) n; i++)
    {
      X509 *x = sk_X509_value (verified, i);
      g_autofree char *label = cert_label (x, i + 1 == (guint) n ? "trusted CA" : "intermediate");

      if (!x509_check_issuer (x, label, error))
        return FALSE;
    }

  /* What makes the leaf a device identity */
  if ((X509_get_extension_flags (leaf) & EXFLAG_CA) != 0 || X509_check_ca (leaf) != 0)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_NOT_DEVICE,
                   "The %s is a CA, not a device", leaf_label);
      return FALSE;
    }
  if ((X509_get_extension_flags (leaf) & EXFLAG_KUSAGE) != 0
      && (X509_get_key_usage (leaf) & KU_DIGITAL_SIGNATURE) == 0)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_NOT_DEVICE,
                   "The %s does not allow digital signatures", leaf_label);
      return FALSE;
    }
  if (!name_get_entry (X509_get_subject_name (leaf), NID_serialNumber,
                       "device serial", &serial, &local_error)
      || serial == NULL || !is_device_serial (serial))
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_NOT_DEVICE,
                   "The %s has no valid device serial (subject serialNumber)",
                   leaf_label);
      return FALSE;
    }

  for (i = 0; revoked_serials != NULL && revoked_serials[i] != NULL; i++)
    if (strcmp (revoked_serials[i], serial) == 0)
      {
        /* A checked PrintableString: safe to show, and what an operator
         * needs to see. */
        g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_REVOKED,
                     "Device %s is revoked", serial);
        return FALSE;
      }

  if (out_leaf_key != NULL)
    {
      leaf_key = x509_dup_key (leaf, leaf_label, error);
      if (leaf_key == NULL)
        return FALSE;
      *out_leaf_key = g_steal_pointer (&leaf_key);
    }
  if (out_device_serial != NULL)
    *out_device_serial = g_steal_pointer (&serial);
  return TRUE;
}

gboolean
signet_x509_check_ca (GBytes  *der,
                      GError **error)
{
  g_autoptr(X509) x = NULL;
  g_autoptr(X509_STORE) store = NULL;
  g_autoptr(X509_STORE_CTX) ctx = NULL;
  g_autofree char *label = NULL;
  X509_VERIFY_PARAM *param;
  time_t now = time (NULL);
  int cmp;

  g_return_val_if_fail (der != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  x = x509_from_der (der, "CA certificate", error);
  if (x == NULL)
    return FALSE;
  label = cert_label (x, "CA");
  if (!x509_check_algorithms (x, label, error)
      || !x509_check_issuer (x, label, error))
    return FALSE;

  cmp = X509_cmp_time (X509_get0_notBefore (x), &now);
  if (cmp == 0)
    goto bad_time;
  if (cmp > 0)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_NOT_YET_VALID,
                   "The %s is not valid yet", label);
      return FALSE;
    }
  cmp = X509_cmp_time (X509_get0_notAfter (x), &now);
  if (cmp == 0)
    goto bad_time;
  if (cmp < 0)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_EXPIRED,
                   "The %s has expired", label);
      return FALSE;
    }

  /* OpenSSL does not check a trust anchor's self-signature: it is not
   * what makes it trusted. A broken one is still a sign of a bad file. */
  if ((X509_get_extension_flags (x) & EXFLAG_SS) != 0
      && X509_verify (x, X509_get0_pubkey (x)) != 1)
    {
      ERR_clear_error ();
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_BAD_SIGNATURE,
                   "The %s has a bad self-signature", label);
      return FALSE;
    }

  /* The same strict profile as verify_chain, on the certificate as its
   * own trust anchor, so that a CA accepted here is not refused there. */
  store = X509_STORE_new ();
  ctx = X509_STORE_CTX_new ();
  if (store == NULL || ctx == NULL || !X509_STORE_add_cert (store, x)
      || !X509_STORE_CTX_init (ctx, store, x, NULL))
    return signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                            SIGNET_X509_ERROR_FAILED,
                                            "Checking the CA");
  param = X509_STORE_CTX_get0_param (ctx);
  X509_VERIFY_PARAM_set_flags (param, X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_time (param, now);
  cmp = X509_verify_cert (ctx);
  if (cmp < 0)
    return signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                            SIGNET_X509_ERROR_FAILED,
                                            "Checking the CA");
  if (cmp == 0)
    return set_verify_error (ctx, "CA", error);
  return TRUE;

bad_time:
  ERR_clear_error ();
  g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
               "The %s has a malformed validity period", label);
  return FALSE;
}

/* ---- building ---------------------------------------------------------- */

static gboolean
add_ext (X509        *x,
         X509V3_CTX  *v3,
         int          nid,
         const char  *value,
         GError     **error)
{
  /* A NULL config is fine for values without @section references */
  g_autoptr(X509_EXTENSION) ext = X509V3_EXT_nconf_nid (NULL, v3, nid, value);

  if (ext == NULL || !X509_add_ext (x, ext, -1))
    return signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                            SIGNET_X509_ERROR_FAILED,
                                            "Could not add an extension");
  return TRUE;
}

static ASN1_INTEGER *
random_serial (GError **error)
{
  guint8 buf[SERIAL_BYTES];
  g_autoptr(BIGNUM) bn = NULL;
  ASN1_INTEGER *serial;

  /* All 128 bits random (RFC 5280 allows up to 20 octets; a set top bit
   * costs a leading zero octet), and never zero. */
  do
    {
      if (!signet_random_fill (buf, sizeof buf, error))
        return NULL;
      g_clear_pointer (&bn, BN_clear_free);
      bn = BN_bin2bn (buf, sizeof buf, NULL);
      if (bn == NULL)
        {
          signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                           SIGNET_X509_ERROR_FAILED,
                                           "Could not make a serial number");
          return NULL;
        }
    }
  while (BN_is_zero (bn));

  serial = BN_to_ASN1_INTEGER (bn, NULL);
  if (serial == NULL)
    signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                     SIGNET_X509_ERROR_FAILED,
                                     "Could not make a serial number");
  return serial;
}

static X509_NAME *
build_name (const char  *common_name,
            const char  *device_serial,
            GError     **error)
{
  g_autoptr(X509_NAME) name = X509_NAME_new ();

  if (name == NULL
      || !X509_NAME_add_entry_by_NID (name, NID_commonName, MBSTRING_UTF8,
                                      (const unsigned char *) common_name, -1, -1, 0))
    {
      signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                       SIGNET_X509_ERROR_FAILED,
                                       "Could not build the name");
      return NULL;
    }
  /* MBSTRING_ASC: OpenSSL's string table makes serialNumber a
   * PrintableString, as X.520 requires. */
  if (device_serial != NULL
      && !X509_NAME_add_entry_by_NID (name, NID_serialNumber, MBSTRING_ASC,
                                      (const unsigned char *) device_serial, -1, -1, 0))
    {
      signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                       SIGNET_X509_ERROR_FAILED,
                                       "Could not build the name");
      return NULL;
    }
  return g_steal_pointer (&name);
}

/* A v3 certificate with everything but extensions: random serial,
 * subject, issuer's subject (or subject when self-signed), validity from
 * now for days, and subject_key's public key. */
static X509 *
cert_new (X509        *issuer,
          SignetKey   *subject_key,
          X509_NAME   *subject,
          guint        days,
          GError     **error)
{
  g_autoptr(X509) x = X509_new ();
  g_autoptr(ASN1_INTEGER) serial = NULL;
  time_t now = time (NULL);

  if (x == NULL)
    {
      signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                       SIGNET_X509_ERROR_FAILED,
                                       "Could not make a certificate");
      return NULL;
    }
  serial = random_serial (error);
  if (serial == NULL)
    return NULL;

  /* X509_set_pubkey encodes only the public part of the key */
  if (!X509_set_version (x, X509_VERSION_3)
      || !X509_set_serialNumber (x, serial)
      || !X509_set_subject_name (x, subject)
      || !X509_set_issuer_name (x, issuer != NULL ? X509_get_subject_name (issuer) : subject)
      || X509_time_adj_ex (X509_getm_notBefore (x), 0, 0, &now) == NULL
      || X509_time_adj_ex (X509_getm_notAfter (x), (int) days, 0, &now) == NULL
      || !X509_set_pubkey (x, signet_key_get_pkey (subject_key)))
    {
      signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                       SIGNET_X509_ERROR_FAILED,
                                       "Could not make a certificate");
      return NULL;
    }
  return g_steal_pointer (&x);
}

static gboolean
cert_sign (X509       *x,
           SignetKey  *key,
           GError    **error)
{
  /* ECDSA over SHA-256; OpenSSL writes ecdsa-with-SHA256 without
   * parameters in both AlgorithmIdentifiers. */
  if (X509_sign (x, signet_key_get_pkey (key), EVP_sha256 ()) <= 0)
    return signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                            SIGNET_X509_ERROR_FAILED,
                                            "Could not sign the certificate");
  return TRUE;
}

static gboolean
check_days (guint    days,
            GError **error)
{
  if (days == 0 || days > MAX_DAYS)
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                   "The validity must be 1 to %d days", MAX_DAYS);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_private (SignetKey  *key,
               GError    **error)
{
  if (!signet_key_has_private (key))
    {
      g_set_error_literal (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                           "The signing key has no private part");
      return FALSE;
    }
  return TRUE;
}

/* subjectAltName from DNS names and IP literals */
static gboolean
add_alt_names (X509               *x,
               const char * const *names,
               GError            **error)
{
  g_autoptr(GENERAL_NAMES) gens = sk_GENERAL_NAME_new_null ();
  guint i;

  if (gens == NULL)
    return signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                            SIGNET_X509_ERROR_FAILED,
                                            "Could not build subjectAltName");
  for (i = 0; names[i] != NULL; i++)
    {
      g_autoptr(GENERAL_NAME) gen = GENERAL_NAME_new ();

      if (gen == NULL)
        return signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                                SIGNET_X509_ERROR_FAILED,
                                                "Could not build subjectAltName");
      if (g_hostname_is_ip_address (names[i]))
        {
          ASN1_OCTET_STRING *ip = a2i_IPADDRESS (names[i]);

          if (ip == NULL)
            {
              /* g_hostname_is_ip_address accepts IPv6 zone ids, which a
               * certificate cannot carry */
              ERR_clear_error ();
              g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                           "Alternative name %u is not an IP address a certificate can hold",
                           i + 1);
              return FALSE;
            }
          GENERAL_NAME_set0_value (gen, GEN_IPADD, ip);
        }
      else if (is_dns_name (names[i]))
        {
          ASN1_IA5STRING *dns = ASN1_IA5STRING_new ();

          if (dns == NULL || !ASN1_STRING_set (dns, names[i], -1))
            {
              ASN1_IA5STRING_free (dns);
              return signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                                      SIGNET_X509_ERROR_FAILED,
                                                      "Could not build subjectAltName");
            }
          GENERAL_NAME_set0_value (gen, GEN_DNS, dns);
        }
      else
        {
          g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                       "Alternative name %u is neither a DNS name nor an IP address",
                       i + 1);
          return FALSE;
        }
      if (!sk_GENERAL_NAME_push (gens, gen))
        return signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                                SIGNET_X509_ERROR_FAILED,
                                                "Could not build subjectAltName");
      gen = NULL; /* the stack owns it */
    }

  /* Not critical: the subject is not empty (RFC 5280 §4.2.1.6) */
  if (!X509_add1_ext_i2d (x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT))
    return signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                            SIGNET_X509_ERROR_FAILED,
                                            "Could not add subjectAltName");
  return TRUE;
}

char *
signet_x509_self_signed_pem (SignetKey          *key,
                             const char         *common_name,
                             const char * const *alt_names,
                             guint               days,
                             GError            **error)
{
  const char *cn_only[] = { common_name, NULL };
  g_autoptr(X509_NAME) name = NULL;
  g_autoptr(X509) x = NULL;
  g_autoptr(GBytes) der = NULL;
  X509V3_CTX v3;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (common_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_common_name (common_name, error) || !check_days (days, error)
      || !check_private (key, error))
    return NULL;
  /* TLS clients ignore the CN when there is a subjectAltName, and RFC
   * 6125 wants one: without alt_names the CN is the name. */
  if (alt_names == NULL || alt_names[0] == NULL)
    alt_names = cn_only;

  name = build_name (common_name, NULL, error);
  if (name == NULL)
    return NULL;
  x = cert_new (NULL, key, name, days, error);
  if (x == NULL)
    return NULL;

  X509V3_set_ctx (&v3, x, x, NULL, NULL, 0);
  if (!add_ext (x, &v3, NID_basic_constraints, "critical,CA:FALSE", error)
      || !add_ext (x, &v3, NID_key_usage, "critical,digitalSignature", error)
      || !add_ext (x, &v3, NID_ext_key_usage, "serverAuth", error)
      || !add_ext (x, &v3, NID_subject_key_identifier, "hash", error)
      || !add_alt_names (x, alt_names, error)
      || !cert_sign (x, key, error))
    return NULL;

  der = x509_to_der (x, error);
  if (der == NULL)
    return NULL;
  return signet_x509_pem_from_der (der, error);
}

GBytes *
signet_x509_issue (SignetKey  *issuer_key,
                   GBytes     *issuer_cert_der,
                   SignetKey  *subject_key,
                   const char *common_name,
                   const char *device_serial,
                   gboolean    is_ca,
                   guint       days,
                   GError    **error)
{
  g_autoptr(X509) issuer = NULL;
  g_autoptr(X509_NAME) name = NULL;
  g_autoptr(X509) x = NULL;
  X509V3_CTX v3;

  g_return_val_if_fail (issuer_key != NULL, NULL);
  g_return_val_if_fail (subject_key != NULL, NULL);
  g_return_val_if_fail (common_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_common_name (common_name, error) || !check_days (days, error)
      || !check_private (issuer_key, error))
    return NULL;
  if (device_serial != NULL && !is_device_serial (device_serial))
    {
      g_set_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                   "The device serial must be 1 to %d PrintableString characters",
                   MAX_SERIAL_CHARS);
      return NULL;
    }

  if (issuer_cert_der != NULL)
    {
      issuer = x509_from_der (issuer_cert_der, "issuer certificate", error);
      if (issuer == NULL)
        return NULL;
      if (EVP_PKEY_eq (X509_get0_pubkey (issuer), signet_key_get_pkey (issuer_key)) != 1)
        {
          ERR_clear_error ();
          g_set_error_literal (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                               "The issuer certificate is not for the issuer key");
          return NULL;
        }
    }
  else if (!signet_key_equal (issuer_key, subject_key))
    {
      g_set_error_literal (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                           "A self-signed certificate must be for the issuer key");
      return NULL;
    }

  name = build_name (common_name, device_serial, error);
  if (name == NULL)
    return NULL;
  x = cert_new (issuer, subject_key, name, days, error);
  if (x == NULL)
    return NULL;

  X509V3_set_ctx (&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
  if (is_ca)
    {
      if (!add_ext (x, &v3, NID_basic_constraints, "critical,CA:TRUE", error)
          || !add_ext (x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign", error))
        return NULL;
    }
  else if (!add_ext (x, &v3, NID_basic_constraints, "critical,CA:FALSE", error)
           || !add_ext (x, &v3, NID_key_usage, "critical,digitalSignature", error))
    return NULL;
  if (!add_ext (x, &v3, NID_subject_key_identifier, "hash", error))
    return NULL;
  /* RFC 5280 §4.2.1.1: required except in a self-signed certificate,
   * and X509_STRICT checks it. "always": fail rather than omit it. */
  if (issuer != NULL
      && !add_ext (x, &v3, NID_authority_key_identifier, "keyid:always", error))
    return NULL;
  if (!cert_sign (x, issuer_key, error))
    return NULL;

  return x509_to_der (x, error);
}

/* ---- info ---------------------------------------------------------------- */

static gboolean
time_to_unix (const ASN1_TIME  *t,
              gint64           *out,
              GError          **error)
{
  struct tm tm = { 0 };
  g_autoptr(GDateTime) dt = NULL;

  if (!ASN1_TIME_to_tm (t, &tm)
      || (dt = g_date_time_new_utc (tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                                    tm.tm_hour, tm.tm_min, tm.tm_sec)) == NULL)
    {
      ERR_clear_error ();
      g_set_error_literal (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID,
                           "The certificate has a malformed validity period");
      return FALSE;
    }
  *out = g_date_time_to_unix (dt);
  return TRUE;
}

SignetX509Info *
signet_x509_info_new (GBytes  *der,
                      GError **error)
{
  g_autoptr(SignetX509Info) info = NULL;
  g_autoptr(X509) x = NULL;
  g_autoptr(BIGNUM) bn = NULL;
  guint8 digest[SIGNET_SHA256_LEN];
  const guint8 *data;
  gsize len;
  char *hex;
  GString *fp;
  gsize i;

  g_return_val_if_fail (der != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  x = x509_from_der (der, "certificate", error);
  if (x == NULL)
    return NULL;

  info = g_new0 (SignetX509Info, 1);
  if (!name_get_entry (X509_get_subject_name (x), NID_commonName,
                       "subject common name", &info->subject_cn, error)
      || !name_get_entry (X509_get_subject_name (x), NID_serialNumber,
                          "subject serialNumber", &info->device_serial, error)
      || !name_get_entry (X509_get_issuer_name (x), NID_commonName,
                          "issuer common name", &info->issuer_cn, error)
      || !time_to_unix (X509_get0_notBefore (x), &info->not_before, error)
      || !time_to_unix (X509_get0_notAfter (x), &info->not_after, error))
    return NULL;

  bn = ASN1_INTEGER_to_BN (X509_get0_serialNumber (x), NULL);
  hex = bn != NULL ? BN_bn2hex (bn) : NULL;
  if (hex == NULL)
    {
      signet_crypto_set_openssl_error (error, SIGNET_X509_ERROR,
                                       SIGNET_X509_ERROR_FAILED,
                                       "Could not read the serial number");
      return NULL;
    }
  info->serial_hex = g_ascii_strdown (hex, -1);
  OPENSSL_free (hex);

  info->is_ca = (X509_get_extension_flags (x) & EXFLAG_CA) != 0;

  data = g_bytes_get_data (der, &len);
  signet_sha256_buf (data, len, digest);
  fp = g_string_sized_new (2 * sizeof digest);
  for (i = 0; i < sizeof digest; i++)
    g_string_append_printf (fp, "%02x", digest[i]);
  info->sha256_hex = g_string_free (fp, FALSE);

  return g_steal_pointer (&info);
}

void
signet_x509_info_free (SignetX509Info *info)
{
  if (info == NULL)
    return;
  g_free (info->subject_cn);
  g_free (info->device_serial);
  g_free (info->issuer_cn);
  g_free (info->serial_hex);
  g_free (info->sha256_hex);
  g_free (info);
}
