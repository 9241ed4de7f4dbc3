/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-x509: the certificates Signet makes (a TLS server certificate, a
 * manufacturer CA, device identities) and the chains it accepts.
 *
 * Most tests are refusals, each with its error code: every way a device
 * chain can be wrong. What signet_x509_issue will not build (RSA and
 * P-384 keys, other hashes, odd validity periods, CAs without
 * keyCertSign) is built here with OpenSSL directly. The certificates are
 * shown to be standard by a real TLS handshake (glib-networking, GnuTLS),
 * by `openssl verify -x509_strict` and by python3-cryptography, which also
 * makes a chain of its own for us to verify.
 */
#include "config.h"

#include <locale.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "signet-test-util.h"
#include "signet-crypto.h"
#include "signet-key.h"
#include "signet-secret.h"
#include "signet-x509.h"

/* Only core's own X.509 module defines these for itself */

#define DAY (24 * 60 * 60)

static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static X509 *
parse_der (GBytes *der)
{
  gsize len;
  const unsigned char *p = g_bytes_get_data (der, &len);
  X509 *x = d2i_X509 (NULL, &p, (long) len);

  g_assert_nonnull (x);
  return x;
}

static GBytes *
to_der (X509 *x)
{
  unsigned char *buf = NULL;
  int len = i2d_X509 (x, &buf);
  GBytes *der;

  g_assert_cmpint (len, >, 0);
  der = g_bytes_new (buf, len);
  OPENSSL_free (buf);
  return der;
}

static SignetKey *
new_key (void)
{
  g_autoptr(GError) error = NULL;
  SignetKey *key = signet_key_generate (&error);

  g_assert_no_error (error);
  return key;
}

static GBytes *
issue (SignetKey  *issuer_key,
       GBytes     *issuer_der,
       SignetKey  *subject_key,
       const char *cn,
       const char *serial,
       gboolean    is_ca,
       guint       days)
{
  g_autoptr(GError) error = NULL;
  GBytes *der = signet_x509_issue (issuer_key, issuer_der, subject_key, cn, serial,
                                   is_ca, days, &error);

  g_assert_no_error (error);
  g_assert_nonnull (der);
  g_assert_cmpuint (ERR_peek_error (), ==, 0);
  return der;
}

static EVP_PKEY *
foreign_key (const char *kind)
{
  EVP_PKEY *pkey;

  if (g_str_equal (kind, "RSA"))
    pkey = EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t) 2048);
  else
    pkey = EVP_PKEY_Q_keygen (NULL, NULL, "EC", kind);
  g_assert_nonnull (pkey);
  return pkey;
}

static void
add_ext (X509       *x,
         X509V3_CTX *v3,
         int         nid,
         const char *value)
{
  X509_EXTENSION *ext = X509V3_EXT_nconf_nid (NULL, v3, nid, value);

  g_assert_nonnull (ext);
  g_assert_true (X509_add_ext (x, ext, -1));
  X509_EXTENSION_free (ext);
}

static gboolean
is_printable (const char *s)
{
  for (; *s != '\0'; s++)
    if (!g_ascii_isalnum (*s) && strchr (" '()+,-./:=?", *s) == NULL)
      return FALSE;
  return TRUE;
}

/* A certificate built with OpenSSL alone, for what signet_x509_issue will
 * not make. basic_constraints and key_usage are OpenSSL config values
 * (key_usage nullable: none); validity is [now + not_before, now +
 * not_after] seconds. */
static GBytes *
raw_cert (EVP_PKEY     *signer,
          GBytes       *issuer_der,
          EVP_PKEY     *subject,
          const char   *cn,
          const char   *serial,
          const char   *basic_constraints,
          const char   *key_usage,
          const EVP_MD *md,
          long          not_before,
          long          not_after)
{
  g_autoptr(X509) x = X509_new ();
  g_autoptr(X509) issuer = issuer_der != NULL ? parse_der (issuer_der) : NULL;
  X509_NAME *name = X509_get_subject_name (x);
  time_t now = time (NULL);
  X509V3_CTX v3;

  g_assert_true (X509_set_version (x, X509_VERSION_3));
  g_assert_true (ASN1_INTEGER_set (X509_get_serialNumber (x),
                                   g_random_int_range (1, G_MAXINT32)));
  g_assert_true (X509_NAME_add_entry_by_NID (name, NID_commonName, MBSTRING_UTF8,
                                             (const unsigned char *) cn, -1, -1, 0));
  if (serial != NULL)
    {
      /* a raw string type, so OpenSSL's string table (which would refuse
       * "" and non-printable text) is not consulted */
      int type = is_printable (serial) ? V_ASN1_PRINTABLESTRING : V_ASN1_UTF8STRING;

      g_assert_true (X509_NAME_add_entry_by_NID (name, NID_serialNumber, type,
                                                 (const unsigned char *) serial, -1, -1, 0));
    }
  g_assert_true (X509_set_issuer_name (x, issuer != NULL ? X509_get_subject_name (issuer) : name));
  g_assert_nonnull (X509_time_adj_ex (X509_getm_notBefore (x), 0, not_before, &now));
  g_assert_nonnull (X509_time_adj_ex (X509_getm_notAfter (x), 0, not_after, &now));
  g_assert_true (X509_set_pubkey (x, subject));

  X509V3_set_ctx (&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
  add_ext (x, &v3, NID_basic_constraints, basic_constraints);
  if (key_usage != NULL)
    add_ext (x, &v3, NID_key_usage, key_usage);
  add_ext (x, &v3, NID_subject_key_identifier, "hash");
  if (issuer != NULL)
    add_ext (x, &v3, NID_authority_key_identifier, "keyid:always");
  g_assert_cmpint (X509_sign (x, signer, md), >, 0);
  return to_der (x);
}

#define CA_BC "critical,CA:TRUE"
#define CA_KU "critical,keyCertSign,cRLSign"
#define LEAF_BC "critical,CA:FALSE"
#define LEAF_KU "critical,digitalSignature"

/* A GPtrArray of GBytes from a NULL-terminated list */
static GPtrArray *
certs (GBytes *first,
       ...)
{
  GPtrArray *a = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  va_list ap;
  GBytes *b;

  va_start (ap, first);
  for (b = first; b != NULL; b = va_arg (ap, GBytes *))
    g_ptr_array_add (a, g_bytes_ref (b));
  va_end (ap);
  return a;
}

/* root → intermediate → leaf, all made by signet_x509_issue */
typedef struct {
  SignetKey *root_key, *int_key, *leaf_key;
  GBytes *root, *inter, *leaf;
} Pki;

static void
pki_init (Pki        *p,
          guint       root_days,
          guint       int_days,
          guint       leaf_days,
          const char *serial)
{
  p->root_key = new_key ();
  p->int_key = new_key ();
  p->leaf_key = new_key ();
  p->root = issue (p->root_key, NULL, p->root_key, "Acme Root CA", NULL, TRUE, root_days);
  p->inter = issue (p->root_key, p->root, p->int_key, "Acme Devices CA", NULL, TRUE, int_days);
  p->leaf = issue (p->int_key, p->inter, p->leaf_key, "Acme Sensor", serial, FALSE, leaf_days);
}

static void
pki_clear (Pki *p)
{
  g_clear_pointer (&p->root_key, signet_key_unref);
  g_clear_pointer (&p->int_key, signet_key_unref);
  g_clear_pointer (&p->leaf_key, signet_key_unref);
  g_clear_pointer (&p->root, g_bytes_unref);
  g_clear_pointer (&p->inter, g_bytes_unref);
  g_clear_pointer (&p->leaf, g_bytes_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Pki, pki_clear)

static void
verify_ok_at (GPtrArray  *chain,
              GPtrArray  *anchors,
              gint64      now,
              SignetKey  *expected_key,
              const char *expected_serial)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetKey) key = NULL;
  g_autofree char *serial = NULL;
  gboolean ok;

  ok = signet_x509_verify_chain (chain, anchors, NULL, now, &key, &serial, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_true (signet_key_equal (key, expected_key));
  g_assert_false (signet_key_has_private (key));
  g_assert_cmpstr (serial, ==, expected_serial);
  g_assert_cmpuint (ERR_peek_error (), ==, 0);
}

static void
verify_ok (GPtrArray  *chain,
           GPtrArray  *anchors,
           SignetKey  *expected_key,
           const char *expected_serial)
{
  verify_ok_at (chain, anchors, now_s (), expected_key, expected_serial);
}

/* Refused with code, and a message that contains needle (nullable) */
static void
verify_fails (GPtrArray          *chain,
              GPtrArray          *anchors,
              const char * const *revoked,
              gint64              now,
              gint                code,
              const char         *needle)
{
  g_autoptr(GError) error = NULL;
  SignetKey *key = NULL;
  char *serial = NULL;

  g_assert_false (signet_x509_verify_chain (chain, anchors, revoked, now, &key, &serial, &error));
  g_assert_error (error, SIGNET_X509_ERROR, code);
  g_assert_null (key);
  g_assert_null (serial);
  /* nothing left behind for the next OpenSSL caller to misreport */
  g_assert_cmpuint (ERR_peek_error (), ==, 0);
  if (needle != NULL && strstr (error->message, needle) == NULL)
    g_error ("“%s” does not mention “%s”", error->message, needle);
  g_test_message ("refused: %s", error->message);
}

/* ---- the TLS server certificate --------------------------------------- */

static char *
make_tls_pem (SignetKey *key)
{
  const char *names[] = { "signet.test", "127.0.0.1", "::1", NULL };
  g_autoptr(GError) error = NULL;
  char *pem = signet_x509_self_signed_pem (key, "signet.test", names, 30, &error);

  g_assert_no_error (error);
  g_assert_nonnull (pem);
  return pem;
}

static void
test_self_signed_parse (void)
{
  g_autoptr(SignetKey) key = new_key ();
  g_autofree char *pem = make_tls_pem (key);
  g_autofree char *pem2 = make_tls_pem (key);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) der = NULL;
  g_autoptr(GBytes) der2 = NULL;
  g_autoptr(X509) x = NULL;
  g_autoptr(X509) x2 = NULL;
  g_autoptr(GENERAL_NAMES) gens = NULL;
  g_autoptr(SignetX509Info) info = NULL;
  const ASN1_INTEGER *serial;
  gboolean dns = FALSE, ip4 = FALSE, ip6 = FALSE;
  int i;

  g_assert_true (g_str_has_prefix (pem, "-----BEGIN CERTIFICATE-----\n"));
  der = signet_x509_der_from_pem (pem, &error);
  g_assert_no_error (error);
  x = parse_der (der);

  /* the key it certifies, and signed by it */
  g_assert_cmpint (EVP_PKEY_eq (X509_get0_pubkey (x), signet_key_get_pkey (key)), ==, 1);
  g_assert_cmpint (X509_verify (x, X509_get0_pubkey (x)), ==, 1);
  g_assert_cmpint (X509_get_signature_nid (x), ==, NID_ecdsa_with_SHA256);
  g_assert_cmpint (X509_get_version (x), ==, X509_VERSION_3);

  /* a TLS server certificate, not a CA */
  g_assert_true ((X509_get_extension_flags (x) & EXFLAG_XKUSAGE) != 0);
  g_assert_cmphex (X509_get_extended_key_usage (x), ==, XKU_SSL_SERVER);
  g_assert_cmphex (X509_get_key_usage (x), ==, KU_DIGITAL_SIGNATURE);
  g_assert_cmpint (X509_check_ca (x), ==, 0);
  g_assert_nonnull (X509_get0_subject_key_id (x));

  gens = X509_get_ext_d2i (x, NID_subject_alt_name, NULL, NULL);
  g_assert_nonnull (gens);
  g_assert_cmpint (sk_GENERAL_NAME_num (gens), ==, 3);
  for (i = 0; i < sk_GENERAL_NAME_num (gens); i++)
    {
      GENERAL_NAME *gen = sk_GENERAL_NAME_value (gens, i);
      int type;
      ASN1_STRING *s = GENERAL_NAME_get0_value (gen, &type);

      if (type == GEN_DNS)
        dns = ASN1_STRING_length (s) == 11
              && memcmp (ASN1_STRING_get0_data (s), "signet.test", 11) == 0;
      else if (type == GEN_IPADD && ASN1_STRING_length (s) == 4)
        ip4 = memcmp (ASN1_STRING_get0_data (s), "\x7f\0\0\x01", 4) == 0;
      else if (type == GEN_IPADD && ASN1_STRING_length (s) == 16)
        ip6 = memcmp (ASN1_STRING_get0_data (s), "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16) == 0;
    }
  g_assert_true (dns && ip4 && ip6);
  g_assert_cmpint (X509_check_host (x, "signet.test", 0, 0, NULL), ==, 1);
  g_assert_cmpint (X509_check_host (x, "other.test", 0, 0, NULL), ==, 0);
  g_assert_cmpint (X509_check_ip_asc (x, "127.0.0.1", 0), ==, 1);

  /* a positive serial of up to 128 bits, different every time */
  serial = X509_get0_serialNumber (x);
  g_assert_cmpint (ASN1_STRING_type (serial), ==, V_ASN1_INTEGER);
  g_assert_cmpint (ASN1_STRING_length (serial), <=, 16);
  g_assert_cmpint (ASN1_STRING_length (serial), >=, 8);
  der2 = signet_x509_der_from_pem (pem2, &error);
  g_assert_no_error (error);
  x2 = parse_der (der2);
  g_assert_cmpint (ASN1_INTEGER_cmp (serial, X509_get0_serialNumber (x2)), !=, 0);

  info = signet_x509_info_new (der, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->subject_cn, ==, "signet.test");
  g_assert_cmpstr (info->issuer_cn, ==, "signet.test");
  g_assert_null (info->device_serial);
  g_assert_false (info->is_ca);
  g_assert_cmpint (info->not_after - info->not_before, ==, 30 * DAY);
  g_assert_cmpint (ABS (info->not_before - now_s ()), <=, 5);
}

static void
test_self_signed_default_name (void)
{
  g_autoptr(SignetKey) key = new_key ();
  g_autoptr(GError) error = NULL;
  g_autofree char *pem = NULL;
  g_autofree char *pem_ip = NULL;
  g_autoptr(GBytes) der = NULL;
  g_autoptr(X509) x = NULL;
  const char *none[] = { NULL };

  pem = signet_x509_self_signed_pem (key, "signetd.example.org", NULL, 1, &error);
  g_assert_no_error (error);
  der = signet_x509_der_from_pem (pem, &error);
  g_assert_no_error (error);
  x = parse_der (der);
  g_assert_cmpint (X509_check_host (x, "signetd.example.org", 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL), ==, 1);

  /* an IP literal as the name works too; an empty list means "the CN" */
  pem_ip = signet_x509_self_signed_pem (key, "192.0.2.7", none, 1, &error);
  g_assert_no_error (error);
  g_clear_pointer (&der, g_bytes_unref);
  g_clear_pointer (&x, X509_free);
  der = signet_x509_der_from_pem (pem_ip, &error);
  g_assert_no_error (error);
  x = parse_der (der);
  g_assert_cmpint (X509_check_ip_asc (x, "192.0.2.7", 0), ==, 1);
}

static void
test_self_signed_bad_args (void)
{
  g_autoptr(SignetKey) key = new_key ();
  g_autoptr(SignetKey) pub = NULL;
  g_autoptr(GBytes) point = signet_key_get_public_bytes (key);
  g_autofree char *long_cn = g_strnfill (65, 'a');
  const char *bad_names[][3] = {
    { "ok.test", "", NULL },
    { "under_score.test", NULL, NULL },
    { "-leading.test", NULL, NULL },
    { "trailing-.test", NULL, NULL },
    { "double..dot", NULL, NULL },
    { "*.wildcard.test", NULL, NULL },
    { "fe80::1%eth0", NULL, NULL },
    { "sp ace", NULL, NULL },
  };
  gsize i;

  pub = signet_key_new_from_public_bytes (point, NULL);
  g_assert_nonnull (pub);

  for (i = 0; i < G_N_ELEMENTS (bad_names); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *pem = signet_x509_self_signed_pem (key, "cn", bad_names[i], 1, &error);

      g_assert_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID);
      g_assert_null (pem);
      /* the message says which name, not what it is */
      g_assert_null (strstr (error->message, bad_names[i][0]));
    }

  {
    g_autoptr(GError) error = NULL;
    g_autofree char *pem = signet_x509_self_signed_pem (key, "x.test", NULL, 0, &error);
    g_assert_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID);
    g_assert_null (pem);
  }
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *pem = signet_x509_self_signed_pem (key, "x.test", NULL, 36501, &error);
    g_assert_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID);
    g_assert_null (pem);
  }
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *pem = signet_x509_self_signed_pem (key, "", NULL, 1, &error);
    g_assert_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID);
    g_assert_null (pem);
  }
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *pem = signet_x509_self_signed_pem (key, long_cn, NULL, 1, &error);
    g_assert_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID);
    g_assert_null (pem);
  }
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *pem = signet_x509_self_signed_pem (key, "tab\there", NULL, 1, &error);
    g_assert_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID);
    g_assert_null (pem);
  }
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *pem = signet_x509_self_signed_pem (pub, "x.test", NULL, 1, &error);
    g_assert_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID);
    g_assert_null (pem);
  }
}

static gpointer
server_thread (gpointer data)
{
  GIOStream *server = data;
  GError *error = NULL;
  char buf[4];
  gsize n = 0;

  /* A server whose client gave up fails here: that is the client's
   * verdict, which the caller checks. */
  if (g_tls_connection_handshake (G_TLS_CONNECTION (server), NULL, &error)
      && g_input_stream_read_all (g_io_stream_get_input_stream (server),
                                  buf, sizeof buf, &n, NULL, &error)
      && n == sizeof buf)
    g_output_stream_write_all (g_io_stream_get_output_stream (server),
                               buf, n, NULL, NULL, &error);
  g_clear_error (&error);
  g_io_stream_close (server, NULL, NULL);
  return NULL;
}

/* A TLS handshake over a socket pair: a server with cert (in a thread), a
 * client that trusts only db and expects host. Returns the client's
 * verdict, after an echo round trip when it accepted. */
static gboolean
tls_handshake (GTlsCertificate  *cert,
               GTlsDatabase     *db,
               const char       *host,
               GError          **client_error)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) s0 = NULL;
  g_autoptr(GSocket) s1 = NULL;
  g_autoptr(GSocketConnection) c0 = NULL;
  g_autoptr(GSocketConnection) c1 = NULL;
  g_autoptr(GIOStream) server = NULL;
  g_autoptr(GIOStream) client = NULL;
  g_autoptr(GSocketConnectable) identity = g_network_address_new (host, 443);
  GThread *thread;
  gboolean ok;
  int fds[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM, 0, fds), ==, 0);
  s0 = g_socket_new_from_fd (fds[0], &error);
  g_assert_no_error (error);
  s1 = g_socket_new_from_fd (fds[1], &error);
  g_assert_no_error (error);
  /* a hung peer fails the test instead of hanging it */
  g_socket_set_timeout (s0, 30);
  g_socket_set_timeout (s1, 30);
  c0 = g_socket_connection_factory_create_connection (s0);
  c1 = g_socket_connection_factory_create_connection (s1);

  server = g_tls_server_connection_new (G_IO_STREAM (c0), cert, &error);
  g_assert_no_error (error);
  client = g_tls_client_connection_new (G_IO_STREAM (c1), identity, &error);
  g_assert_no_error (error);
  g_tls_connection_set_database (G_TLS_CONNECTION (client), db);

  thread = g_thread_new ("tls-server", server_thread, server);
  ok = g_tls_connection_handshake (G_TLS_CONNECTION (client), NULL, client_error);
  if (ok)
    {
      char buf[4];
      gsize n = 0;

      g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (client),
                                                "ping", 4, NULL, NULL, &error));
      g_assert_no_error (error);
      g_assert_true (g_input_stream_read_all (g_io_stream_get_input_stream (client),
                                              buf, 4, &n, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (buf, n, "ping", 4);
    }
  g_io_stream_close (client, NULL, NULL);
  g_thread_join (thread);
  return ok;
}

static void
tls_checks (void)
{
  g_autoptr(SignetKey) key = new_key ();
  g_autoptr(SignetKey) other_key = new_key ();
  g_autofree char *pem = make_tls_pem (key);
  g_autofree char *other_pem = make_tls_pem (other_key);
  g_auto(SignetSecretString) pkcs8 = NULL;
  g_auto(SignetSecretString) both = NULL;
  g_autoptr(GTlsCertificate) cert = NULL;
  g_autoptr(GTlsCertificate) same = NULL;
  g_autoptr(GTlsDatabase) db = NULL;
  g_autoptr(GTlsDatabase) other_db = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *other_path = NULL;
  int fd;

  pkcs8 = signet_key_to_pkcs8_pem (key, &error);
  g_assert_no_error (error);
  both = g_strconcat (pem, pkcs8, NULL);
  cert = g_tls_certificate_new_from_pem (both, -1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cert);
  same = g_tls_certificate_new_from_pem (pem, -1, &error);
  g_assert_no_error (error);
  g_assert_true (g_tls_certificate_is_same (cert, same));

  /* A client that trusts exactly this certificate */
  fd = g_file_open_tmp ("signet-x509-XXXXXX.pem", &path, &error);
  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, pem, -1, &error));
  db = g_tls_file_database_new (path, &error);
  g_assert_no_error (error);
  fd = g_file_open_tmp ("signet-x509-XXXXXX.pem", &other_path, &error);
  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (other_path, other_pem, -1, &error));
  other_db = g_tls_file_database_new (other_path, &error);
  g_assert_no_error (error);

  /* by DNS name and by IP address, as in the subjectAltName */
  g_assert_true (tls_handshake (cert, db, "signet.test", &error));
  g_assert_no_error (error);
  g_assert_true (tls_handshake (cert, db, "127.0.0.1", &error));
  g_assert_no_error (error);

  /* a name it does not carry, or a client that trusts another certificate */
  g_assert_false (tls_handshake (cert, db, "other.test", &error));
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_clear_error (&error);
  g_assert_false (tls_handshake (cert, other_db, "signet.test", &error));
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_clear_error (&error);

  g_unlink (path);
  g_unlink (other_path);
}

static void
test_self_signed_tls (void)
{
  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_test_skip ("No TLS backend (install glib-networking)");
      return;
    }

  /* In a child process: GCC 12's LeakSanitizer crashes ("Tracer caught
   * signal 11") on the dynamic TLS that GnuTLS leaves in GLib's worker
   * threads, so under ASan the child leaves without the exit-time leak
   * check. Our code in it is leak-checked by the other tests. */
  if (g_test_subprocess ())
    {
      tls_checks ();
#ifdef __SANITIZE_ADDRESS__
      _exit (0);
#endif
      return;
    }
  g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* ---- issue ------------------------------------------------------------- */

static void
test_issue_extensions (void)
{
  g_auto(Pki) p = { 0 };
  g_autoptr(X509) root = NULL;
  g_autoptr(X509) inter = NULL;
  g_autoptr(X509) leaf = NULL;
  X509_NAME *subject;
  int i;

  pki_init (&p, 3650, 1825, 365, "SN-0042");
  root = parse_der (p.root);
  inter = parse_der (p.inter);
  leaf = parse_der (p.leaf);

  /* CAs: critical CA:TRUE, critical keyCertSign + cRLSign */
  g_assert_true ((X509_get_extension_flags (root) & EXFLAG_CA) != 0);
  g_assert_true ((X509_get_extension_flags (root) & EXFLAG_SS) != 0);
  g_assert_cmphex (X509_get_key_usage (root), ==, KU_KEY_CERT_SIGN | KU_CRL_SIGN);
  g_assert_cmpint (X509_EXTENSION_get_critical (X509_get_ext (root, X509_get_ext_by_NID (root, NID_basic_constraints, -1))), ==, 1);
  g_assert_cmpint (X509_EXTENSION_get_critical (X509_get_ext (root, X509_get_ext_by_NID (root, NID_key_usage, -1))), ==, 1);
  g_assert_null (X509_get0_authority_key_id (root));
  g_assert_true ((X509_get_extension_flags (inter) & EXFLAG_CA) != 0);
  g_assert_false ((X509_get_extension_flags (inter) & EXFLAG_SS) != 0);
  g_assert_cmphex (X509_get_key_usage (inter), ==, KU_KEY_CERT_SIGN | KU_CRL_SIGN);

  /* the device: digitalSignature only, not a CA, serialNumber in the subject */
  g_assert_false ((X509_get_extension_flags (leaf) & EXFLAG_CA) != 0);
  g_assert_cmpint (X509_check_ca (leaf), ==, 0);
  g_assert_cmphex (X509_get_key_usage (leaf), ==, KU_DIGITAL_SIGNATURE);
  subject = X509_get_subject_name (leaf);
  i = X509_NAME_get_index_by_NID (subject, NID_serialNumber, -1);
  g_assert_cmpint (i, >=, 0);
  g_assert_cmpint (ASN1_STRING_type (X509_NAME_ENTRY_get_data (X509_NAME_get_entry (subject, i))),
                   ==, V_ASN1_PRINTABLESTRING);

  /* SKI everywhere; AKI = the issuer's SKI */
  g_assert_nonnull (X509_get0_subject_key_id (leaf));
  g_assert_cmpint (ASN1_OCTET_STRING_cmp (X509_get0_authority_key_id (leaf),
                                          X509_get0_subject_key_id (inter)), ==, 0);
  g_assert_cmpint (ASN1_OCTET_STRING_cmp (X509_get0_authority_key_id (inter),
                                          X509_get0_subject_key_id (root)), ==, 0);

  /* names and signatures link up */
  g_assert_cmpint (X509_NAME_cmp (X509_get_issuer_name (leaf), X509_get_subject_name (inter)), ==, 0);
  g_assert_cmpint (X509_verify (leaf, X509_get0_pubkey (inter)), ==, 1);
  g_assert_cmpint (X509_verify (inter, X509_get0_pubkey (root)), ==, 1);
  g_assert_cmpint (X509_verify (root, X509_get0_pubkey (root)), ==, 1);
  g_assert_cmpint (EVP_PKEY_eq (X509_get0_pubkey (leaf), signet_key_get_pkey (p.leaf_key)), ==, 1);
  g_assert_cmpint (X509_check_issued (inter, leaf), ==, X509_V_OK);
}

typedef struct {
  SignetKey *issuer_key;
  GBytes *issuer;
  SignetKey *subject;
  const char *cn;
  const char *serial;
  guint days;
} IssueCase;

static void
test_issue_bad_args (void)
{
  g_auto(Pki) p = { 0 };
  g_autoptr(SignetKey) stranger = new_key ();
  g_autoptr(GBytes) point = NULL;
  g_autoptr(SignetKey) pub = NULL;
  g_autoptr(GBytes) junk = g_bytes_new_static ("junk", 4);
  g_autofree char *long_serial = g_strnfill (65, '1');
  gsize i;

  pki_init (&p, 10, 10, 10, "S1");
  point = signet_key_get_public_bytes (p.root_key);
  pub = signet_key_new_from_public_bytes (point, NULL);

  {
    const IssueCase cases[] = {
      /* self-signed for a key that is not the signer's */
      { p.root_key, NULL, stranger, "x", NULL, 10 },
      /* an issuer certificate for another key */
      { stranger, p.root, stranger, "x", NULL, 10 },
      /* device serials that are not a short PrintableString */
      { p.root_key, p.root, stranger, "x", "caf\xc3\xa9", 10 },
      { p.root_key, p.root, stranger, "x", "", 10 },
      { p.root_key, p.root, stranger, "x", long_serial, 10 },
      /* an issuer certificate that is not one */
      { p.root_key, junk, stranger, "x", NULL, 10 },
      /* a signer without its private key */
      { pub, NULL, pub, "x", NULL, 10 },
      /* no validity, no name */
      { p.root_key, p.root, stranger, "x", NULL, 0 },
      { p.root_key, p.root, stranger, "", NULL, 10 },
    };

    for (i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) der = signet_x509_issue (cases[i].issuer_key, cases[i].issuer,
                                                   cases[i].subject, cases[i].cn, cases[i].serial,
                                                   FALSE, cases[i].days, &error);

        g_assert_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID);
        g_assert_null (der);
      }
  }
}

/* ---- PEM, DER, info ----------------------------------------------------- */

static void
test_pem_round_trip (void)
{
  g_auto(Pki) p = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *leaf_pem = NULL;
  g_autofree char *int_pem = NULL;
  g_autofree char *root_pem = NULL;
  g_autofree char *chain_pem = NULL;
  g_autofree char *noisy = NULL;
  g_autoptr(GBytes) der = NULL;
  g_autoptr(GPtrArray) chain = NULL;

  pki_init (&p, 10, 10, 10, "S1");
  leaf_pem = signet_x509_pem_from_der (p.leaf, &error);
  g_assert_no_error (error);
  int_pem = signet_x509_pem_from_der (p.inter, &error);
  g_assert_no_error (error);
  root_pem = signet_x509_pem_from_der (p.root, &error);
  g_assert_no_error (error);

  der = signet_x509_der_from_pem (leaf_pem, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (der, p.leaf));

  chain_pem = g_strconcat (leaf_pem, int_pem, root_pem, NULL);
  chain = signet_x509_chain_from_pem (chain_pem, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (chain->len, ==, 3);
  g_assert_true (g_bytes_equal (g_ptr_array_index (chain, 0), p.leaf));
  g_assert_true (g_bytes_equal (g_ptr_array_index (chain, 1), p.inter));
  g_assert_true (g_bytes_equal (g_ptr_array_index (chain, 2), p.root));
  g_clear_pointer (&chain, g_ptr_array_unref);

  /* text around the blocks, as `openssl x509 -text` leaves it, is fine */
  noisy = g_strconcat ("subject=CN = Acme Sensor\n", leaf_pem, "\nissuer: Acme\n", int_pem, "trailer\n", NULL);
  chain = signet_x509_chain_from_pem (noisy, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (chain->len, ==, 2);

  /* one certificate means one */
  g_clear_pointer (&der, g_bytes_unref);
  der = signet_x509_der_from_pem (chain_pem, &error);
  g_assert_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID);
  g_assert_null (der);
}

static void
test_pem_garbage (void)
{
  g_auto(Pki) p = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *leaf_pem = NULL;
  g_autofree char *truncated = NULL;
  g_autofree char *headers = NULL;
  g_autofree char *bad_b64 = NULL;
  g_autofree char *junk_cert = NULL;
  g_auto(SignetSecretString) key_pem = NULL;
  g_autofree char *with_key = NULL;
  g_autoptr(GString) lots = g_string_new (NULL);
  const char *pems[8];
  gsize i;

  pki_init (&p, 10, 10, 10, "S1");
  leaf_pem = signet_x509_pem_from_der (p.leaf, &error);
  g_assert_no_error (error);
  truncated = g_strndup (leaf_pem, strlen (leaf_pem) - 30);
  headers = g_strdup_printf ("-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n"
                             "DEK-Info: AES-128-CBC,00000000000000000000000000000000\n\n%s",
                             leaf_pem + strlen ("-----BEGIN CERTIFICATE-----\n"));
  bad_b64 = g_strdup (leaf_pem);
  bad_b64[40] = '!';
  /* well-formed PEM around something that is not a certificate */
  junk_cert = g_strdup ("-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n");
  key_pem = signet_key_to_pkcs8_pem (p.leaf_key, &error);
  g_assert_no_error (error);
  with_key = g_strconcat (leaf_pem, key_pem, NULL);
  for (i = 0; i < 17; i++)
    g_string_append (lots, leaf_pem);

  pems[0] = "";
  pems[1] = "hello";
  pems[2] = truncated;
  pems[3] = headers;
  pems[4] = bad_b64;
  pems[5] = junk_cert;
  pems[6] = with_key;
  pems[7] = lots->str;

  for (i = 0; i < G_N_ELEMENTS (pems); i++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GPtrArray) chain = signet_x509_chain_from_pem (pems[i], &local_error);

      g_assert_error (local_error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID);
      g_assert_null (chain);
      g_test_message ("PEM %zu: %s", i, local_error->message);
      /* nothing of a key block reaches the message */
      g_assert_null (strstr (local_error->message, "PRIVATE"));
      g_clear_error (&local_error);
      g_assert_null (signet_x509_der_from_pem (pems[i], &local_error));
      g_assert_error (local_error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID);
    }
}

static void
test_der_garbage (void)
{
  g_auto(Pki) p = { 0 };
  gsize len;
  const guint8 *data;
  g_autoptr(GBytes) trailing = NULL;
  g_autoptr(GBytes) truncated = NULL;
  g_autoptr(GBytes) ber = NULL;
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);
  g_autoptr(GBytes) junk = g_bytes_new_static ("\x30\x03\x02\x01\x01", 5);
  g_autofree guint8 *buf = NULL;
  g_autofree guint8 *long_form = NULL;
  GBytes *bad[5];
  gsize i;

  pki_init (&p, 10, 10, 10, "S1");
  data = g_bytes_get_data (p.leaf, &len);
  buf = g_malloc (len + 1);
  memcpy (buf, data, len);
  buf[len] = 0;
  trailing = g_bytes_new (buf, len + 1);
  truncated = g_bytes_new (data, len - 1);

  /* The same certificate with its outer length in a needlessly long form
   * (BER, not DER): 30 82 LL LL → 30 83 00 LL LL */
  g_assert_cmphex (data[0], ==, 0x30);
  g_assert_cmphex (data[1], ==, 0x82);
  long_form = g_malloc (len + 1);
  long_form[0] = 0x30;
  long_form[1] = 0x83;
  long_form[2] = 0x00;
  memcpy (long_form + 3, data + 2, len - 2);
  ber = g_bytes_new (long_form, len + 1);

  bad[0] = trailing;
  bad[1] = truncated;
  bad[2] = ber;
  bad[3] = empty;
  bad[4] = junk;
  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *pem = signet_x509_pem_from_der (bad[i], &error);
      g_autoptr(SignetX509Info) info = NULL;
      g_autoptr(GPtrArray) chain = certs (bad[i], NULL);
      g_autoptr(GPtrArray) anchors = certs (p.root, NULL);

      g_assert_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID);
      g_assert_null (pem);
      g_clear_error (&error);
      info = signet_x509_info_new (bad[i], &error);
      g_assert_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID);
      g_assert_null (info);
      g_clear_error (&error);
      g_assert_false (signet_x509_check_ca (bad[i], &error));
      g_assert_error (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_INVALID);
      verify_fails (chain, anchors, NULL, now_s (), SIGNET_X509_ERROR_INVALID, NULL);
      /* garbage as a trust anchor is refused too, not skipped */
      g_clear_pointer (&chain, g_ptr_array_unref);
      g_clear_pointer (&anchors, g_ptr_array_unref);
      chain = certs (p.leaf, p.inter, NULL);
      anchors = certs (p.root, bad[i], NULL);
      verify_fails (chain, anchors, NULL, now_s (), SIGNET_X509_ERROR_INVALID, NULL);
    }
}

static void
test_info (void)
{
  g_auto(Pki) p = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetX509Info) leaf = NULL;
  g_autoptr(SignetX509Info) root = NULL;
  g_autoptr(GBytes) digest = NULL;
  g_autofree char *hex = NULL;
  g_autoptr(X509) x = NULL;
  g_autoptr(BIGNUM) bn = NULL;
  char *bn_hex;
  gsize i;

  pki_init (&p, 3650, 1825, 365, "SN-0042");
  leaf = signet_x509_info_new (p.leaf, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (leaf->subject_cn, ==, "Acme Sensor");
  g_assert_cmpstr (leaf->device_serial, ==, "SN-0042");
  g_assert_cmpstr (leaf->issuer_cn, ==, "Acme Devices CA");
  g_assert_false (leaf->is_ca);
  g_assert_cmpint (leaf->not_after - leaf->not_before, ==, 365 * DAY);
  g_assert_cmpint (ABS (leaf->not_before - now_s ()), <=, 5);

  digest = signet_sha256 (p.leaf);
  hex = g_malloc0 (65);
  for (i = 0; i < 32; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", ((const guint8 *) g_bytes_get_data (digest, NULL))[i]);
  g_assert_cmpstr (leaf->sha256_hex, ==, hex);

  x = parse_der (p.leaf);
  bn = ASN1_INTEGER_to_BN (X509_get0_serialNumber (x), NULL);
  bn_hex = BN_bn2hex (bn);
  g_assert_cmpint (g_ascii_strcasecmp (leaf->serial_hex, bn_hex), ==, 0);
  OPENSSL_free (bn_hex);
  for (i = 0; leaf->serial_hex[i] != '\0'; i++)
    g_assert_true (g_ascii_isxdigit (leaf->serial_hex[i]) && !g_ascii_isupper (leaf->serial_hex[i]));

  root = signet_x509_info_new (p.root, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (root->subject_cn, ==, "Acme Root CA");
  g_assert_cmpstr (root->issuer_cn, ==, "Acme Root CA");
  g_assert_null (root->device_serial);
  g_assert_true (root->is_ca);
  g_assert_cmpint (root->not_after - root->not_before, ==, 3650 * DAY);
}

/* ---- check_ca ---------------------------------------------------------- */

static void
check_ca_fails (GBytes *der,
                gint    code)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (signet_x509_check_ca (der, &error));
  g_assert_error (error, SIGNET_X509_ERROR, code);
  g_assert_cmpuint (ERR_peek_error (), ==, 0);
  g_test_message ("refused CA: %s", error->message);
}

static void
test_check_ca (void)
{
  g_auto(Pki) p = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(EVP_PKEY) rsa = foreign_key ("RSA");
  g_autoptr(EVP_PKEY) p384 = foreign_key ("P-384");
  EVP_PKEY *root_pkey;
  g_autoptr(GBytes) rsa_ca = NULL;
  g_autoptr(GBytes) p384_ca = NULL;
  g_autoptr(GBytes) sha384_ca = NULL;
  g_autoptr(GBytes) expired = NULL;
  g_autoptr(GBytes) future = NULL;
  g_autoptr(GBytes) no_certsign = NULL;
  g_autoptr(GBytes) no_ku = NULL;
  g_autoptr(GBytes) bc_not_critical = NULL;
  g_autoptr(GBytes) bad_self_sig = NULL;
  guint8 *copy;
  gsize len;

  pki_init (&p, 10, 10, 10, "S1");
  root_pkey = signet_key_get_pkey (p.root_key);

  g_assert_true (signet_x509_check_ca (p.root, &error));
  g_assert_no_error (error);
  /* an intermediate may be added as an anchor */
  g_assert_true (signet_x509_check_ca (p.inter, &error));
  g_assert_no_error (error);

  check_ca_fails (p.leaf, SIGNET_X509_ERROR_NOT_CA);

  rsa_ca = raw_cert (rsa, NULL, rsa, "RSA CA", NULL, CA_BC, CA_KU, EVP_sha256 (), 0, DAY);
  check_ca_fails (rsa_ca, SIGNET_X509_ERROR_UNSUPPORTED_KEY);
  p384_ca = raw_cert (p384, NULL, p384, "P-384 CA", NULL, CA_BC, CA_KU, EVP_sha384 (), 0, DAY);
  check_ca_fails (p384_ca, SIGNET_X509_ERROR_UNSUPPORTED_KEY);
  sha384_ca = raw_cert (root_pkey, NULL, root_pkey, "SHA-384 CA", NULL, CA_BC, CA_KU, EVP_sha384 (), 0, DAY);
  check_ca_fails (sha384_ca, SIGNET_X509_ERROR_UNSUPPORTED_KEY);

  expired = raw_cert (root_pkey, NULL, root_pkey, "Old CA", NULL, CA_BC, CA_KU, EVP_sha256 (), -2 * DAY, -DAY);
  check_ca_fails (expired, SIGNET_X509_ERROR_EXPIRED);
  future = raw_cert (root_pkey, NULL, root_pkey, "Future CA", NULL, CA_BC, CA_KU, EVP_sha256 (), DAY, 2 * DAY);
  check_ca_fails (future, SIGNET_X509_ERROR_NOT_YET_VALID);

  no_certsign = raw_cert (root_pkey, NULL, root_pkey, "No certsign", NULL, CA_BC, "critical,digitalSignature,cRLSign", EVP_sha256 (), 0, DAY);
  check_ca_fails (no_certsign, SIGNET_X509_ERROR_NOT_CA);
  no_ku = raw_cert (root_pkey, NULL, root_pkey, "No KU", NULL, CA_BC, NULL, EVP_sha256 (), 0, DAY);
  check_ca_fails (no_ku, SIGNET_X509_ERROR_NOT_CA);
  /* X509_STRICT: a CA's basicConstraints must be critical */
  bc_not_critical = raw_cert (root_pkey, NULL, root_pkey, "Lax CA", NULL, "CA:TRUE", CA_KU, EVP_sha256 (), 0, DAY);
  check_ca_fails (bc_not_critical, SIGNET_X509_ERROR_NOT_CA);

  /* the last byte of the signature's s: still DER, no longer a signature */
  copy = g_bytes_unref_to_data (g_bytes_ref (p.root), &len);
  copy[len - 1] ^= 0x01;
  bad_self_sig = g_bytes_new_take (copy, len);
  check_ca_fails (bad_self_sig, SIGNET_X509_ERROR_BAD_SIGNATURE);
}

/* ---- verify_chain: what passes ------------------------------------------ */

static void
test_verify_root_leaf (void)
{
  g_autoptr(SignetKey) root_key = new_key ();
  g_autoptr(SignetKey) leaf_key = new_key ();
  g_autoptr(GBytes) root = issue (root_key, NULL, root_key, "Root", NULL, TRUE, 30);
  g_autoptr(GBytes) leaf = issue (root_key, root, leaf_key, "Device", "D-1", FALSE, 30);
  g_autoptr(GPtrArray) chain = certs (leaf, NULL);
  g_autoptr(GPtrArray) with_root = certs (leaf, root, NULL);
  g_autoptr(GPtrArray) anchors = certs (root, NULL);

  verify_ok (chain, anchors, leaf_key, "D-1");
  verify_ok (with_root, anchors, leaf_key, "D-1");

  /* the outputs are optional */
  g_assert_true (signet_x509_verify_chain (chain, anchors, NULL, now_s (), NULL, NULL, NULL));
}

static void
test_verify_root_intermediate_leaf (void)
{
  g_auto(Pki) p = { 0 };
  g_auto(Pki) other = { 0 };
  g_autoptr(GPtrArray) chain = NULL;
  g_autoptr(GPtrArray) with_root = NULL;
  g_autoptr(GPtrArray) anchors = NULL;
  g_autoptr(GPtrArray) int_only = NULL;
  g_autoptr(GPtrArray) leaf_only = NULL;
  const char *revoked[] = { "SN-1", "SN-00420", "sn-0042", NULL };

  pki_init (&p, 3650, 1825, 365, "SN-0042");
  pki_init (&other, 3650, 1825, 365, "SN-7");
  chain = certs (p.leaf, p.inter, NULL);
  with_root = certs (p.leaf, p.inter, p.root, NULL);
  /* several manufacturers */
  anchors = certs (other.root, p.root, NULL);

  verify_ok (chain, anchors, p.leaf_key, "SN-0042");
  verify_ok (with_root, anchors, p.leaf_key, "SN-0042");
  /* near misses in the revoked list do not count */
  g_assert_true (signet_x509_verify_chain (chain, anchors, revoked, now_s (), NULL, NULL, NULL));

  /* An intermediate an administrator added alone is an anchor: the chain
   * stops there, with or without the intermediate in it. */
  int_only = certs (p.inter, NULL);
  leaf_only = certs (p.leaf, NULL);
  verify_ok (chain, int_only, p.leaf_key, "SN-0042");
  verify_ok (leaf_only, int_only, p.leaf_key, "SN-0042");
}

static void
test_verify_max_length (void)
{
  g_autoptr(SignetKey) root_key = new_key ();
  g_autoptr(SignetKey) k1 = new_key ();
  g_autoptr(SignetKey) k2 = new_key ();
  g_autoptr(SignetKey) k3 = new_key ();
  g_autoptr(SignetKey) leaf_key = new_key ();
  g_autoptr(GBytes) root = issue (root_key, NULL, root_key, "Root", NULL, TRUE, 30);
  g_autoptr(GBytes) i1 = issue (root_key, root, k1, "I1", NULL, TRUE, 30);
  g_autoptr(GBytes) i2 = issue (k1, i1, k2, "I2", NULL, TRUE, 30);
  g_autoptr(GBytes) i3 = issue (k2, i2, k3, "I3", NULL, TRUE, 30);
  g_autoptr(GBytes) leaf2 = issue (k2, i2, leaf_key, "Device", "D-2", FALSE, 30);
  g_autoptr(GBytes) leaf3 = issue (k3, i3, leaf_key, "Device", "D-3", FALSE, 30);
  g_autoptr(GPtrArray) anchors = certs (root, NULL);
  g_autoptr(GPtrArray) ok = certs (leaf2, i2, i1, NULL);
  g_autoptr(GPtrArray) ok_with_root = certs (leaf2, i2, i1, root, NULL);
  g_autoptr(GPtrArray) too_long = certs (leaf3, i3, i2, i1, NULL);
  g_autoptr(GPtrArray) too_many = certs (leaf3, i3, i2, i1, root, NULL);
  g_autoptr(GPtrArray) i1_anchor = certs (i1, NULL);

  /* leaf, two intermediates, root: the most there may be */
  verify_ok (ok, anchors, leaf_key, "D-2");
  verify_ok (ok_with_root, anchors, leaf_key, "D-2");

  /* three intermediates: OpenSSL's path length limit */
  verify_fails (too_long, anchors, NULL, now_s (), SIGNET_X509_ERROR_CHAIN_TOO_LONG, NULL);
  /* five certificates given: refused before any path building */
  verify_fails (too_many, anchors, NULL, now_s (), SIGNET_X509_ERROR_CHAIN_TOO_LONG, NULL);
  /* with I1 as the anchor, the same leaf is within the limit */
  verify_ok (too_long, i1_anchor, leaf_key, "D-3");
}

/* ---- verify_chain: every refusal ---------------------------------------- */

static void
test_verify_unknown_root (void)
{
  g_auto(Pki) p = { 0 };
  g_auto(Pki) other = { 0 };
  g_autoptr(GPtrArray) chain = NULL;
  g_autoptr(GPtrArray) with_root = NULL;
  g_autoptr(GPtrArray) anchors = NULL;
  g_autoptr(GPtrArray) none = g_ptr_array_new ();
  g_autoptr(GPtrArray) leaf_only = NULL;
  g_autoptr(GPtrArray) root_anchor = NULL;

  pki_init (&p, 30, 30, 30, "SN-1");
  pki_init (&other, 30, 30, 30, "SN-2");
  chain = certs (p.leaf, p.inter, NULL);
  with_root = certs (p.leaf, p.inter, p.root, NULL);
  anchors = certs (other.root, other.inter, NULL);

  verify_fails (chain, anchors, NULL, now_s (), SIGNET_X509_ERROR_UNTRUSTED, "intermediate certificate “Acme Devices CA”");
  /* bringing its own root does not help */
  verify_fails (with_root, anchors, NULL, now_s (), SIGNET_X509_ERROR_UNTRUSTED, "root certificate “Acme Root CA”");
  verify_fails (chain, none, NULL, now_s (), SIGNET_X509_ERROR_UNTRUSTED, NULL);
  /* the intermediate is missing */
  leaf_only = certs (p.leaf, NULL);
  root_anchor = certs (p.root, NULL);
  verify_fails (leaf_only, root_anchor, NULL, now_s (), SIGNET_X509_ERROR_UNTRUSTED, "leaf certificate “Acme Sensor”");
}

static void
test_verify_expired (void)
{
  gint64 later = now_s () + 2 * DAY + 60;

  {
    g_auto(Pki) p = { 0 };
    g_autoptr(GPtrArray) chain = NULL;
    g_autoptr(GPtrArray) anchors = NULL;

    pki_init (&p, 3650, 3650, 2, "SN-1");
    chain = certs (p.leaf, p.inter, NULL);
    anchors = certs (p.root, NULL);
    verify_ok (chain, anchors, p.leaf_key, "SN-1");
    verify_fails (chain, anchors, NULL, later, SIGNET_X509_ERROR_EXPIRED, "leaf certificate “Acme Sensor”");
  }
  {
    g_auto(Pki) p = { 0 };
    g_autoptr(GPtrArray) chain = NULL;
    g_autoptr(GPtrArray) anchors = NULL;

    pki_init (&p, 3650, 2, 365, "SN-1");
    chain = certs (p.leaf, p.inter, NULL);
    anchors = certs (p.root, NULL);
    verify_ok (chain, anchors, p.leaf_key, "SN-1");
    verify_fails (chain, anchors, NULL, later, SIGNET_X509_ERROR_EXPIRED, "intermediate certificate “Acme Devices CA”");
  }
  {
    g_auto(Pki) p = { 0 };
    g_autoptr(GPtrArray) chain = NULL;
    g_autoptr(GPtrArray) anchors = NULL;

    pki_init (&p, 2, 365, 365, "SN-1");
    chain = certs (p.leaf, p.inter, NULL);
    anchors = certs (p.root, NULL);
    verify_ok (chain, anchors, p.leaf_key, "SN-1");
    verify_fails (chain, anchors, NULL, later, SIGNET_X509_ERROR_EXPIRED, "root certificate “Acme Root CA”");
  }
}

static void
test_verify_not_yet_valid (void)
{
  g_auto(Pki) p = { 0 };
  g_autoptr(GPtrArray) chain = NULL;
  g_autoptr(GPtrArray) anchors = NULL;
  g_autoptr(GBytes) future_leaf = NULL;
  g_autoptr(GPtrArray) future_chain = NULL;

  pki_init (&p, 30, 30, 30, "SN-1");
  chain = certs (p.leaf, p.inter, NULL);
  anchors = certs (p.root, NULL);
  /* a clock an hour slow */
  verify_fails (chain, anchors, NULL, now_s () - 3600, SIGNET_X509_ERROR_NOT_YET_VALID, NULL);

  /* a leaf whose validity starts tomorrow */
  future_leaf = raw_cert (signet_key_get_pkey (p.int_key), p.inter, signet_key_get_pkey (p.leaf_key),
                          "Early", "SN-2", LEAF_BC, LEAF_KU, EVP_sha256 (), DAY, 2 * DAY);
  future_chain = certs (future_leaf, p.inter, NULL);
  verify_fails (future_chain, anchors, NULL, now_s (), SIGNET_X509_ERROR_NOT_YET_VALID, "leaf certificate “Early”");
  verify_ok_at (future_chain, anchors, now_s () + DAY + 60, p.leaf_key, "SN-2");
}

static void
test_verify_revoked (void)
{
  g_auto(Pki) p = { 0 };
  g_autoptr(GPtrArray) chain = NULL;
  g_autoptr(GPtrArray) anchors = NULL;
  const char *revoked[] = { "SN-1", "SN-0042", NULL };
  const char *empty[] = { NULL };

  pki_init (&p, 30, 30, 30, "SN-0042");
  chain = certs (p.leaf, p.inter, NULL);
  anchors = certs (p.root, NULL);
  verify_fails (chain, anchors, revoked, now_s (), SIGNET_X509_ERROR_REVOKED, "SN-0042");
  g_assert_true (signet_x509_verify_chain (chain, anchors, empty, now_s (), NULL, NULL, NULL));
}

static void
test_verify_not_device (void)
{
  g_auto(Pki) p = { 0 };
  g_autoptr(SignetKey) leaf_key = new_key ();
  g_autoptr(GBytes) no_serial = NULL;
  g_autoptr(GBytes) ca_leaf = NULL;
  g_autoptr(GBytes) key_agreement = NULL;
  g_autoptr(GBytes) empty_serial = NULL;
  g_autoptr(GBytes) utf8_serial = NULL;
  g_autoptr(GPtrArray) anchors = NULL;
  g_autoptr(GPtrArray) int_anchor = NULL;
  g_autoptr(GPtrArray) int_as_leaf = NULL;
  g_autoptr(GPtrArray) wrong_order = NULL;
  EVP_PKEY *int_pkey;

  pki_init (&p, 30, 30, 30, "SN-1");
  anchors = certs (p.root, NULL);
  int_pkey = signet_key_get_pkey (p.int_key);

  no_serial = issue (p.int_key, p.inter, leaf_key, "Anonymous", NULL, FALSE, 30);
  {
    g_autoptr(GPtrArray) chain = certs (no_serial, p.inter, NULL);
    verify_fails (chain, anchors, NULL, now_s (), SIGNET_X509_ERROR_NOT_DEVICE, "leaf certificate “Anonymous”");
  }
  /* a CA at the end of the chain */
  ca_leaf = issue (p.int_key, p.inter, leaf_key, "Sub CA", "SN-9", TRUE, 30);
  {
    g_autoptr(GPtrArray) chain = certs (ca_leaf, p.inter, NULL);
    verify_fails (chain, anchors, NULL, now_s (), SIGNET_X509_ERROR_NOT_DEVICE, "is a CA");
  }
  /* a key that may not sign */
  key_agreement = raw_cert (int_pkey, p.inter, signet_key_get_pkey (leaf_key), "KA only", "SN-3",
                            LEAF_BC, "critical,keyAgreement", EVP_sha256 (), 0, DAY);
  {
    g_autoptr(GPtrArray) chain = certs (key_agreement, p.inter, NULL);
    verify_fails (chain, anchors, NULL, now_s (), SIGNET_X509_ERROR_NOT_DEVICE, "digital signatures");
  }
  /* a serialNumber attribute that is there but empty */
  empty_serial = raw_cert (int_pkey, p.inter, signet_key_get_pkey (leaf_key), "Blank", "",
                           LEAF_BC, LEAF_KU, EVP_sha256 (), 0, DAY);
  {
    g_autoptr(GPtrArray) chain = certs (empty_serial, p.inter, NULL);
    verify_fails (chain, anchors, NULL, now_s (), SIGNET_X509_ERROR_NOT_DEVICE, NULL);
  }
  /* one that is not a PrintableString */
  utf8_serial = raw_cert (int_pkey, p.inter, signet_key_get_pkey (leaf_key), "Accent", "caf\xc3\xa9",
                          LEAF_BC, LEAF_KU, EVP_sha256 (), 0, DAY);
  {
    g_autoptr(GPtrArray) chain = certs (utf8_serial, p.inter, NULL);
    verify_fails (chain, anchors, NULL, now_s (), SIGNET_X509_ERROR_NOT_DEVICE, NULL);
  }
  /* the leaf is itself an anchor */
  int_anchor = certs (p.inter, NULL);
  int_as_leaf = certs (p.inter, NULL);
  verify_fails (int_as_leaf, int_anchor, NULL, now_s (), SIGNET_X509_ERROR_NOT_DEVICE, NULL);
  /* the chain upside down: the intermediate comes first, as the leaf */
  wrong_order = certs (p.inter, p.leaf, NULL);
  verify_fails (wrong_order, anchors, NULL, now_s (), SIGNET_X509_ERROR_NOT_DEVICE, NULL);
}

static void
test_verify_self_signed_leaf (void)
{
  g_auto(Pki) p = { 0 };
  g_autoptr(SignetKey) key = new_key ();
  g_autoptr(GBytes) self = NULL;
  g_autoptr(GPtrArray) chain = NULL;
  g_autoptr(GPtrArray) anchors = NULL;

  pki_init (&p, 30, 30, 30, "SN-1");
  self = issue (key, NULL, key, "Acme Sensor", "SN-1", FALSE, 30);
  chain = certs (self, p.inter, NULL);
  anchors = certs (p.root, NULL);
  verify_fails (chain, anchors, NULL, now_s (), SIGNET_X509_ERROR_UNTRUSTED, NULL);
}

static void
test_verify_not_ca (void)
{
  g_autoptr(SignetKey) root_key = new_key ();
  g_autoptr(SignetKey) int_key = new_key ();
  g_autoptr(SignetKey) leaf_key = new_key ();
  g_autoptr(GBytes) root = issue (root_key, NULL, root_key, "Root", NULL, TRUE, 30);
  g_autoptr(GPtrArray) anchors = certs (root, NULL);
  EVP_PKEY *root_pkey = signet_key_get_pkey (root_key);
  EVP_PKEY *int_pkey = signet_key_get_pkey (int_key);
  struct {
    const char *bc;
    const char *ku;
  } bad_int[] = {
    { LEAF_BC, LEAF_KU },                             /* an end entity */
    { CA_BC, "critical,digitalSignature,cRLSign" },   /* CA without keyCertSign */
    { CA_BC, NULL },                                  /* CA without keyUsage */
    { "CA:TRUE", CA_KU },                             /* basicConstraints not critical */
  };
  gsize i;

  /* also through signet_x509_issue, which issues under any certificate */
  {
    g_autoptr(GBytes) inter = issue (root_key, root, int_key, "Not a CA", NULL, FALSE, 30);
    g_autoptr(GBytes) leaf = issue (int_key, inter, leaf_key, "Device", "SN-1", FALSE, 30);
    g_autoptr(GPtrArray) chain = certs (leaf, inter, NULL);
    verify_fails (chain, anchors, NULL, now_s (), SIGNET_X509_ERROR_NOT_CA, "intermediate certificate “Not a CA”");
  }

  for (i = 0; i < G_N_ELEMENTS (bad_int); i++)
    {
      g_autoptr(GBytes) inter = raw_cert (root_pkey, root, int_pkey, "Bad CA", NULL,
                                          bad_int[i].bc, bad_int[i].ku, EVP_sha256 (), 0, DAY);
      g_autoptr(GBytes) leaf = raw_cert (int_pkey, inter, signet_key_get_pkey (leaf_key), "Device", "SN-1",
                                         LEAF_BC, LEAF_KU, EVP_sha256 (), 0, DAY);
      g_autoptr(GPtrArray) chain = certs (leaf, inter, NULL);
      g_autoptr(GPtrArray) int_anchor = certs (inter, NULL);

      verify_fails (chain, anchors, NULL, now_s (), SIGNET_X509_ERROR_NOT_CA, "“Bad CA”");
      /* nor is it good enough to be trusted directly */
      verify_fails (chain, int_anchor, NULL, now_s (), SIGNET_X509_ERROR_NOT_CA, "“Bad CA”");
    }
}

static void
test_verify_tampered (void)
{
  g_auto(Pki) p = { 0 };
  g_autoptr(GPtrArray) anchors = NULL;
  const guint8 *data;
  gsize len, tbs_start, tbs_end, hdr, i;
  guint tried = 0;
  GHashTable *codes = g_hash_table_new (NULL, NULL);

  pki_init (&p, 30, 30, 30, "SN-0042");
  anchors = certs (p.root, NULL);
  data = g_bytes_get_data (p.leaf, &len);

  /* Certificate ::= SEQUENCE { tbsCertificate SEQUENCE {...}, ... } with
   * long-form lengths: find the to-be-signed part. */
  g_assert_cmphex (data[0], ==, 0x30);
  hdr = data[1] < 0x80 ? 2 : 2 + (data[1] & 0x7f);
  tbs_start = hdr;
  g_assert_cmphex (data[tbs_start], ==, 0x30);
  g_assert_cmphex (data[tbs_start + 1], ==, 0x82);
  tbs_end = tbs_start + 4 + ((gsize) data[tbs_start + 2] << 8 | data[tbs_start + 3]);
  g_assert_cmpuint (tbs_end, <, len);

  /* every byte of it, each flipped in one bit (the bit varies) */
  for (i = tbs_start; i < tbs_end; i++)
    {
      g_autofree guint8 *copy = g_memdup2 (data, len);
      g_autoptr(GBytes) bad = NULL;
      g_autoptr(GPtrArray) chain = NULL;
      g_autoptr(GError) error = NULL;

      copy[i] ^= (guint8) (1u << (i % 8));
      bad = g_bytes_new (copy, len);
      chain = certs (bad, p.inter, NULL);
      if (signet_x509_verify_chain (chain, anchors, NULL, now_s (), NULL, NULL, &error))
        g_error ("a flip of bit %zu of byte %zu was accepted", i % 8, i);
      g_assert_true (error->domain == SIGNET_X509_ERROR);
      g_assert_cmpuint (ERR_peek_error (), ==, 0);
      g_hash_table_add (codes, GINT_TO_POINTER (error->code + 1));
      tried++;
    }
  g_assert_cmpuint (tried, >=, 200);
  /* mostly bad signatures, some malformed certificates */
  g_assert_true (g_hash_table_contains (codes, GINT_TO_POINTER (SIGNET_X509_ERROR_BAD_SIGNATURE + 1)));
  g_assert_true (g_hash_table_contains (codes, GINT_TO_POINTER (SIGNET_X509_ERROR_INVALID + 1)));
  g_test_message ("%u flips refused with %u different codes", tried, g_hash_table_size (codes));
  g_hash_table_unref (codes);

  /* and the signature itself */
  {
    g_autofree guint8 *copy = g_memdup2 (data, len);
    g_autoptr(GBytes) bad = NULL;
    g_autoptr(GPtrArray) chain = NULL;

    copy[len - 1] ^= 0x01;
    bad = g_bytes_new (copy, len);
    chain = certs (bad, p.inter, NULL);
    verify_fails (chain, anchors, NULL, now_s (), SIGNET_X509_ERROR_BAD_SIGNATURE, "leaf certificate “Acme Sensor”");
  }
}

/* RSA and P-384 keys, and other hashes, wherever they are */
static void
test_verify_foreign_keys (void)
{
  const char *kinds[] = { "RSA", "P-384" };
  gsize k;

  for (k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_auto(Pki) p = { 0 };
      g_autoptr(EVP_PKEY) alien = foreign_key (kinds[k]);
      const EVP_MD *md = g_str_equal (kinds[k], "RSA") ? EVP_sha256 () : EVP_sha384 ();
      EVP_PKEY *root_pkey, *int_pkey, *leaf_pkey;
      g_autoptr(GPtrArray) anchors = NULL;

      pki_init (&p, 30, 30, 30, "SN-1");
      root_pkey = signet_key_get_pkey (p.root_key);
      int_pkey = signet_key_get_pkey (p.int_key);
      leaf_pkey = signet_key_get_pkey (p.leaf_key);
      anchors = certs (p.root, NULL);

      /* the leaf's key */
      {
        g_autoptr(GBytes) leaf = raw_cert (int_pkey, p.inter, alien, "Alien leaf", "SN-1",
                                           LEAF_BC, LEAF_KU, EVP_sha256 (), 0, DAY);
        g_autoptr(GPtrArray) chain = certs (leaf, p.inter, NULL);
        verify_fails (chain, anchors, NULL, now_s (), SIGNET_X509_ERROR_UNSUPPORTED_KEY, "leaf certificate “Alien leaf”");
      }
      /* the intermediate's key (it signs the leaf with its own algorithm) */
      {
        g_autoptr(GBytes) inter = raw_cert (root_pkey, p.root, alien, "Alien CA", NULL,
                                            CA_BC, CA_KU, EVP_sha256 (), 0, DAY);
        g_autoptr(GBytes) leaf = raw_cert (alien, inter, leaf_pkey, "Device", "SN-1",
                                           LEAF_BC, LEAF_KU, md, 0, DAY);
        g_autoptr(GPtrArray) chain = certs (leaf, inter, NULL);
        verify_fails (chain, anchors, NULL, now_s (), SIGNET_X509_ERROR_UNSUPPORTED_KEY, NULL);
      }
      /* the root's key */
      {
        g_autoptr(GBytes) root = raw_cert (alien, NULL, alien, "Alien root", NULL,
                                           CA_BC, CA_KU, md, 0, DAY);
        g_autoptr(GBytes) inter = raw_cert (alien, root, int_pkey, "Acme Devices CA", NULL,
                                            CA_BC, CA_KU, md, 0, DAY);
        g_autoptr(GBytes) leaf = raw_cert (int_pkey, inter, leaf_pkey, "Device", "SN-1",
                                           LEAF_BC, LEAF_KU, EVP_sha256 (), 0, DAY);
        g_autoptr(GPtrArray) chain = certs (leaf, inter, NULL);
        g_autoptr(GPtrArray) alien_anchors = certs (root, NULL);
        g_autoptr(GPtrArray) good_chain = certs (p.leaf, p.inter, NULL);
        g_autoptr(GPtrArray) mixed_anchors = certs (p.root, root, NULL);

        verify_fails (chain, alien_anchors, NULL, now_s (), SIGNET_X509_ERROR_UNSUPPORTED_KEY, NULL);
        /* a bad anchor is a broken trust store, refused even when the
         * path would not go through it */
        verify_fails (good_chain, mixed_anchors, NULL, now_s (), SIGNET_X509_ERROR_UNSUPPORTED_KEY,
                      "trusted CA certificate “Alien root”");
      }
    }

  /* P-256 keys throughout, but a SHA-384 or SHA-512 signature */
  {
    g_auto(Pki) p = { 0 };
    const EVP_MD *mds[] = { EVP_sha384 (), EVP_sha512 () };
    gsize i;

    pki_init (&p, 30, 30, 30, "SN-1");
    for (i = 0; i < G_N_ELEMENTS (mds); i++)
      {
        g_autoptr(GBytes) leaf = raw_cert (signet_key_get_pkey (p.int_key), p.inter,
                                           signet_key_get_pkey (p.leaf_key), "Device", "SN-1",
                                           LEAF_BC, LEAF_KU, mds[i], 0, DAY);
        g_autoptr(GPtrArray) chain = certs (leaf, p.inter, NULL);
        g_autoptr(GPtrArray) anchors = certs (p.root, NULL);
        verify_fails (chain, anchors, NULL, now_s (), SIGNET_X509_ERROR_UNSUPPORTED_KEY, "ecdsa-with-SHA256");
      }
  }
}

static void
test_verify_empty (void)
{
  g_auto(Pki) p = { 0 };
  g_autoptr(GPtrArray) empty = g_ptr_array_new ();
  g_autoptr(GPtrArray) anchors = NULL;

  pki_init (&p, 30, 30, 30, "SN-1");
  anchors = certs (p.root, NULL);
  verify_fails (empty, anchors, NULL, now_s (), SIGNET_X509_ERROR_INVALID, NULL);
}

/* ---- against independent implementations ---------------------------- */

static char *
write_pem (const char *dir,
           const char *name,
           GBytes     *der)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pem = signet_x509_pem_from_der (der, &error);
  char *path = g_build_filename (dir, name, NULL);

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, pem, -1, &error));
  g_assert_no_error (error);
  return path;
}

static void
test_interop_openssl_cli (void)
{
  g_auto(Pki) p = { 0 };
  g_auto(Pki) other = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  g_autofree char *dir = NULL;
  g_autofree char *root = NULL;
  g_autofree char *inter = NULL;
  g_autofree char *leaf = NULL;
  g_autofree char *other_root = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  if (openssl == NULL)
    {
      g_test_skip ("No openssl command");
      return;
    }
  pki_init (&p, 30, 30, 30, "SN-0042");
  pki_init (&other, 30, 30, 30, "SN-7");
  dir = g_dir_make_tmp ("signet-x509-XXXXXX", &error);
  g_assert_no_error (error);
  root = write_pem (dir, "root.pem", p.root);
  inter = write_pem (dir, "int.pem", p.inter);
  leaf = write_pem (dir, "leaf.pem", p.leaf);
  other_root = write_pem (dir, "other.pem", other.root);

  {
    const char *argv[] = { openssl, "verify", "-x509_strict", "-CAfile", root,
                           "-untrusted", inter, leaf, NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                 &out, &err, &status, &error));
    g_assert_no_error (error);
    if (!g_spawn_check_wait_status (status, NULL))
      g_error ("openssl verify failed: %s%s", out, err);
    g_assert_true (g_str_has_suffix (out, "leaf.pem: OK\n"));
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  {
    /* and it refuses the wrong root, so the OK above means something */
    const char *argv[] = { openssl, "verify", "-x509_strict", "-CAfile", other_root,
                           "-untrusted", inter, leaf, NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                 &out, &err, &status, &error));
    g_assert_no_error (error);
    g_assert_false (g_spawn_check_wait_status (status, NULL));
  }

  g_unlink (root);
  g_unlink (inter);
  g_unlink (leaf);
  g_unlink (other_root);
  g_rmdir (dir);
}

/* Check our chain with python3-cryptography: signatures, names, key
 * identifiers, extensions; print the device serial. */
static const char py_check[] =
  "import sys\n"
  "from cryptography import x509\n"
  "from cryptography.x509.oid import NameOID\n"
  "from cryptography.hazmat.primitives import hashes\n"
  "from cryptography.hazmat.primitives.asymmetric import ec\n"
  "certs = [x509.load_pem_x509_certificate(open(p, 'rb').read()) for p in sys.argv[1:]]\n"
  "def ext(c, cls): return c.extensions.get_extension_for_class(cls)\n"
  "for child, parent in zip(certs, certs[1:] + certs[-1:]):\n"
  "    parent.public_key().verify(child.signature, child.tbs_certificate_bytes,\n"
  "                               ec.ECDSA(child.signature_hash_algorithm))\n"
  "    assert child.issuer == parent.subject\n"
  "for c in certs:\n"
  "    assert c.version == x509.Version.v3\n"
  "    assert c.public_key().curve.name == 'secp256r1'\n"
  "    assert isinstance(c.signature_hash_algorithm, hashes.SHA256)\n"
  "    assert ext(c, x509.SubjectKeyIdentifier).value.digest == \\\n"
  "        x509.SubjectKeyIdentifier.from_public_key(c.public_key()).digest\n"
  "    assert 0 < c.serial_number < 2**128\n"
  "for child, parent in zip(certs, certs[1:-1]):\n"
  "    assert ext(child, x509.AuthorityKeyIdentifier).value.key_identifier == \\\n"
  "        ext(parent, x509.SubjectKeyIdentifier).value.digest\n"
  "for c in certs[1:]:\n"
  "    bc = ext(c, x509.BasicConstraints); ku = ext(c, x509.KeyUsage)\n"
  "    assert bc.critical and bc.value.ca and ku.critical and ku.value.key_cert_sign\n"
  "leaf = certs[0]\n"
  "assert not ext(leaf, x509.BasicConstraints).value.ca\n"
  "assert ext(leaf, x509.KeyUsage).value.digital_signature\n"
  "print(leaf.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value)\n";

/* Make a root → intermediate → leaf chain with python3-cryptography: the
 * certificates on stdout (leaf first), the leaf's key on stderr. */
static const char py_make[] =
  "import datetime, sys\n"
  "from cryptography import x509\n"
  "from cryptography.x509.oid import NameOID\n"
  "from cryptography.hazmat.primitives import hashes, serialization\n"
  "from cryptography.hazmat.primitives.asymmetric import ec\n"
  "now = datetime.datetime.utcnow()\n"
  "def name(cn, sn=None):\n"
  "    a = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]\n"
  "    if sn: a.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, sn))\n"
  "    return x509.Name(a)\n"
  "def ku(ca):\n"
  "    return x509.KeyUsage(digital_signature=not ca, content_commitment=False,\n"
  "        key_encipherment=False, data_encipherment=False, key_agreement=False,\n"
  "        key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)\n"
  "def make(subject, key, issuer, ikey, ca):\n"
  "    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)\n"
  "         .public_key(key.public_key()).serial_number(x509.random_serial_number())\n"
  "         .not_valid_before(now - datetime.timedelta(minutes=5))\n"
  "         .not_valid_after(now + datetime.timedelta(days=30))\n"
  "         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)\n"
  "         .add_extension(ku(ca), critical=True)\n"
  "         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))\n"
  "    if issuer != subject:\n"
  "        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ikey.public_key()), critical=False)\n"
  "    return b.sign(ikey, hashes.SHA256())\n"
  "rk, ik, lk = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))\n"
  "root = make(name('Py Root'), rk, name('Py Root'), rk, True)\n"
  "inter = make(name('Py CA'), ik, root.subject, rk, True)\n"
  "leaf = make(name('Py Device', 'PY-0001'), lk, inter.subject, ik, False)\n"
  "pem = serialization.Encoding.PEM\n"
  "sys.stdout.write(''.join(c.public_bytes(pem).decode() for c in (leaf, inter, root)))\n"
  "sys.stderr.write(lk.public_key().public_bytes(pem,\n"
  "    serialization.PublicFormat.SubjectPublicKeyInfo).decode())\n";

static gboolean
have_python_cryptography (void)
{
  const char *argv[] = { "/usr/bin/python3", "-c", "import cryptography", NULL };
  int status = 0;

  return g_file_test (argv[0], G_FILE_TEST_IS_EXECUTABLE)
         && g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                          NULL, NULL, NULL, NULL, &status, NULL)
         && g_spawn_check_wait_status (status, NULL);
}

static void
test_interop_python (void)
{
  g_auto(Pki) p = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *root = NULL;
  g_autofree char *inter = NULL;
  g_autofree char *leaf = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  if (!have_python_cryptography ())
    {
      g_test_skip ("No python3-cryptography");
      return;
    }

  /* ours, checked by python */
  pki_init (&p, 30, 30, 30, "SN-0042");
  dir = g_dir_make_tmp ("signet-x509-XXXXXX", &error);
  g_assert_no_error (error);
  root = write_pem (dir, "root.pem", p.root);
  inter = write_pem (dir, "int.pem", p.inter);
  leaf = write_pem (dir, "leaf.pem", p.leaf);
  {
    const char *argv[] = { "/usr/bin/python3", "-c", py_check, leaf, inter, root, NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                 &out, &err, &status, &error));
    g_assert_no_error (error);
    if (!g_spawn_check_wait_status (status, NULL))
      g_error ("python3-cryptography refused our chain: %s", err);
    g_assert_cmpstr (out, ==, "SN-0042\n");
  }
  g_unlink (root);
  g_unlink (inter);
  g_unlink (leaf);
  g_rmdir (dir);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* python's, checked by us */
  {
    const char *argv[] = { "/usr/bin/python3", "-c", py_make, NULL };
    g_autoptr(GPtrArray) all = NULL;
    g_autoptr(GPtrArray) chain = NULL;
    g_autoptr(GPtrArray) anchors = NULL;
    g_autoptr(SignetKey) leaf_key = NULL;

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                 &out, &err, &status, &error));
    g_assert_no_error (error);
    if (!g_spawn_check_wait_status (status, NULL))
      g_error ("python3-cryptography failed: %s", err);
    all = signet_x509_chain_from_pem (out, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (all->len, ==, 3);
    leaf_key = signet_key_new_from_pem (err, &error);
    g_assert_no_error (error);

    chain = certs (g_ptr_array_index (all, 0), g_ptr_array_index (all, 1), NULL);
    anchors = certs (g_ptr_array_index (all, 2), NULL);
    g_assert_true (signet_x509_check_ca (g_ptr_array_index (all, 2), &error));
    g_assert_no_error (error);
    verify_ok (chain, anchors, leaf_key, "PY-0001");
  }
}

int
main (int    argc,
      char **argv)
{
  /* the messages logged have curly quotes */
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signet/x509/self-signed/parse", test_self_signed_parse);
  g_test_add_func ("/signet/x509/self-signed/default-name", test_self_signed_default_name);
  g_test_add_func ("/signet/x509/self-signed/bad-args", test_self_signed_bad_args);
  g_test_add_func ("/signet/x509/self-signed/tls", test_self_signed_tls);
  g_test_add_func ("/signet/x509/issue/extensions", test_issue_extensions);
  g_test_add_func ("/signet/x509/issue/bad-args", test_issue_bad_args);
  g_test_add_func ("/signet/x509/pem/round-trip", test_pem_round_trip);
  g_test_add_func ("/signet/x509/pem/garbage", test_pem_garbage);
  g_test_add_func ("/signet/x509/der/garbage", test_der_garbage);
  g_test_add_func ("/signet/x509/info", test_info);
  g_test_add_func ("/signet/x509/check-ca", test_check_ca);
  g_test_add_func ("/signet/x509/verify/root-leaf", test_verify_root_leaf);
  g_test_add_func ("/signet/x509/verify/root-intermediate-leaf", test_verify_root_intermediate_leaf);
  g_test_add_func ("/signet/x509/verify/max-length", test_verify_max_length);
  g_test_add_func ("/signet/x509/verify/unknown-root", test_verify_unknown_root);
  g_test_add_func ("/signet/x509/verify/expired", test_verify_expired);
  g_test_add_func ("/signet/x509/verify/not-yet-valid", test_verify_not_yet_valid);
  g_test_add_func ("/signet/x509/verify/revoked", test_verify_revoked);
  g_test_add_func ("/signet/x509/verify/not-device", test_verify_not_device);
  g_test_add_func ("/signet/x509/verify/self-signed-leaf", test_verify_self_signed_leaf);
  g_test_add_func ("/signet/x509/verify/not-ca", test_verify_not_ca);
  g_test_add_func ("/signet/x509/verify/tampered", test_verify_tampered);
  g_test_add_func ("/signet/x509/verify/foreign-keys", test_verify_foreign_keys);
  g_test_add_func ("/signet/x509/verify/empty", test_verify_empty);
  g_test_add_func ("/signet/x509/interop/openssl-cli", test_interop_openssl_cli);
  g_test_add_func ("/signet/x509/interop/python", test_interop_python);

  return g_test_run ();
}
