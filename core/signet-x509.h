/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-x509.h: the X.509 certificates Signet makes and checks.
 *
 * Two jobs. signetd needs a TLS server certificate when none is given, and
 * the device simulator and the tests need a manufacturer CA and device
 * identity certificates: signet_x509_self_signed_pem() and
 * signet_x509_issue(). The tool and the service check a device's chain
 * to the manufacturer CAs they trust (DESIGN.md §2, §3 device session step
 * 2): signet_x509_verify_chain().
 *
 * Every certificate Signet accepts has an EC P-256 key and an
 * ecdsa-with-SHA256 signature; anything else is refused, not tolerated.
 * Certificates travel as DER in GBytes; PEM is only for files and the
 * command line. Error messages name the certificate by its role and
 * subject CN (escaped, shortened) and never quote other input bytes.
 */
#pragma once

#include <glib.h>

#include "signet-key.h"

G_BEGIN_DECLS

#define SIGNET_X509_ERROR (signet_x509_error_quark ())
GQuark signet_x509_error_quark (void);

typedef enum {
  SIGNET_X509_ERROR_FAILED,          /* OpenSSL failed (not the input's fault) */
  SIGNET_X509_ERROR_INVALID,         /* malformed DER/PEM, or a bad name/argument to build one */
  SIGNET_X509_ERROR_UNSUPPORTED_KEY, /* a key that is not EC P-256, or a signature that is not ECDSA-SHA256 */
  SIGNET_X509_ERROR_UNTRUSTED,       /* does not chain to a trusted CA */
  SIGNET_X509_ERROR_EXPIRED,         /* some certificate's notAfter is before now */
  SIGNET_X509_ERROR_NOT_YET_VALID,   /* some certificate's notBefore is after now */
  SIGNET_X509_ERROR_REVOKED,         /* the device serial is in the revoked list */
  SIGNET_X509_ERROR_NOT_CA,          /* an issuer without CA:TRUE or keyCertSign */
  SIGNET_X509_ERROR_BAD_SIGNATURE,   /* a signature does not verify */
  SIGNET_X509_ERROR_CHAIN_TOO_LONG,  /* more than SIGNET_X509_MAX_CHAIN_LEN certificates */
  SIGNET_X509_ERROR_NOT_DEVICE,      /* the leaf is not a device certificate: a CA, no
                                      * subject serialNumber, no digitalSignature usage */
} SignetX509Error;

/* The longest chain verify_chain accepts, leaf and trust anchor included:
 * leaf, up to two intermediates, anchor. */
#define SIGNET_X509_MAX_CHAIN_LEN 4

/* A self-signed TLS server certificate (serverAuth, subjectAltName, random
 * serial, ecdsa-with-SHA256) for key, valid from now for days (1..36500).
 * alt_names (nullable, NULL-terminated) are DNS names or IP literals; when
 * NULL or empty, common_name is used as the only one.
 * Returns: (transfer full) (nullable): one "CERTIFICATE" PEM block */
char      *signet_x509_self_signed_pem (SignetKey          *key,
                                        const char         *common_name,
                                        const char * const *alt_names,
                                        guint               days,
                                        GError            **error);

/* A certificate for subject_key's public key, signed by issuer_key (which
 * must have its private part), valid from now for days (1..36500).
 * issuer_cert_der is the issuer's certificate (its subject becomes the
 * issuer name, and its key must be issuer_key's), or NULL for a
 * self-signed certificate, where subject_key must be issuer_key.
 * is_ca: basicConstraints CA:TRUE (critical) and keyCertSign + cRLSign;
 * otherwise CA:FALSE and digitalSignature (a device identity).
 * device_serial (nullable) becomes the subject's serialNumber attribute
 * (PrintableString, at most 64 characters).
 * This builds what it is told to: it does not judge whether the issuer is
 * fit to issue (verify_chain does), so tests can make bad chains.
 * Returns: (transfer full) (nullable): DER */
GBytes    *signet_x509_issue           (SignetKey          *issuer_key,
                                        GBytes             *issuer_cert_der,
                                        SignetKey          *subject_key,
                                        const char         *common_name,
                                        const char         *device_serial,
                                        gboolean            is_ca,
                                        guint               days,
                                        GError            **error);

/* Exactly one "CERTIFICATE" PEM block (text around it is ignored).
 * Returns: (transfer full) (nullable): its DER */
GBytes    *signet_x509_der_from_pem    (const char         *pem,
                                        GError            **error);

/* One or more "CERTIFICATE" blocks (at most 16), in order.
 * Returns: (transfer full) (nullable) (element-type GBytes): DER each */
GPtrArray *signet_x509_chain_from_pem  (const char         *pem,
                                        GError            **error);

/* Returns: (transfer full) (nullable): one "CERTIFICATE" PEM block */
char      *signet_x509_pem_from_der    (GBytes             *der,
                                        GError            **error);

/* TRUE if der is acceptable as a manufacturer CA (signetd ca add):
 * P-256 key, ecdsa-with-SHA256, basicConstraints CA:TRUE, keyUsage with
 * keyCertSign, valid now, and, if self-signed, a good self-signature.
 * It may be a root or an intermediate (see verify_chain). */
gboolean   signet_x509_check_ca        (GBytes             *der,
                                        GError            **error);

/* Verify a device's chain at time now (Unix seconds).
 *
 * chain (element-type GBytes): DER, leaf first, then the intermediates
 * (the root may be included; it is not trusted for being there).
 * anchors (element-type GBytes): the trusted CA certificates, DER.
 *
 * Trust comes only from anchors, never from the system store. The chain
 * must end at a certificate that is in anchors: a self-signed root, or an
 * intermediate that an administrator added explicitly (then the chain
 * stops there and what is above it is not consulted). A chain that ends
 * anywhere else is UNTRUSTED: there are no partial chains to an untrusted
 * certificate. The leaf itself is never an anchor.
 *
 * OpenSSL's X509_V_FLAG_X509_STRICT applies; at most
 * SIGNET_X509_MAX_CHAIN_LEN certificates; every certificate (anchor
 * included) has a P-256 key and an ecdsa-with-SHA256 signature; every
 * issuer has CA:TRUE and keyCertSign; the leaf is not a CA, carries a
 * subject serialNumber (the device serial), allows digitalSignature if it
 * has keyUsage, and its serial is not in revoked_serials (nullable,
 * NULL-terminated, compared exactly).
 *
 * out_leaf_key (nullable): (transfer full) the leaf's public key.
 * out_device_serial (nullable): (transfer full) the device serial.
 * Both are set only on success. */
gboolean   signet_x509_verify_chain    (GPtrArray          *chain,
                                        GPtrArray          *anchors,
                                        const char * const *revoked_serials,
                                        gint64              now,
                                        SignetKey         **out_leaf_key,
                                        char              **out_device_serial,
                                        GError            **error);

/* What the app shows for one certificate. Strings are UTF-8; the names
 * come from the certificate and are not trustworthy until its chain has
 * verified. */
typedef struct {
  char    *subject_cn;     /* nullable: no CN */
  char    *device_serial;  /* nullable: the subject serialNumber attribute */
  char    *issuer_cn;      /* nullable */
  char    *serial_hex;     /* the certificate serial number, lower-case hex */
  gint64   not_before;     /* Unix seconds */
  gint64   not_after;      /* Unix seconds */
  gboolean is_ca;          /* basicConstraints CA:TRUE */
  char    *sha256_hex;     /* SHA-256 of the DER, lower-case hex, no separators */
} SignetX509Info;

/* Returns: (transfer full) (nullable) */
SignetX509Info *signet_x509_info_new   (GBytes             *der,
                                        GError            **error);
void            signet_x509_info_free  (SignetX509Info     *info);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetX509Info, signet_x509_info_free)

G_END_DECLS
