/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devsim-ca.h: the simulated factory's manufacturer CA.
 *
 * A CA directory holds two files: ca-cert.pem, a self-signed P-256
 * certificate with basicConstraints CA:TRUE and keyUsage keyCertSign
 * (signet_x509_check_ca() accepts it; `signetd ca add DIR/ca-cert.pem`
 * makes the service trust it), and ca-key.pem, its private key (PKCS#8,
 * mode 0600). A real factory keeps that key offline; the simulator keeps
 * it in a file because it is a test bench.
 *
 * The CA signs device identity certificates directly (the chain a device
 * holds is its leaf only; the root is the CA and is left out, as
 * docs/protocol.md says for ATTEST).
 */
#pragma once

#include <glib.h>

#include "signet-key.h"

G_BEGIN_DECLS

#define DEVSIM_CA_CERT_FILE "ca-cert.pem"
#define DEVSIM_CA_KEY_FILE "ca-key.pem"
#define DEVSIM_CA_DEFAULT_NAME "Signet Devsim Manufacturer CA"
#define DEVSIM_CA_DAYS 36500        /* the CA outlives its devices */
#define DEVSIM_DEVICE_CERT_DAYS 7300  /* a device identity: 20 years */

typedef struct {
  SignetKey *key;   /* with its private part */
  GBytes *cert;     /* DER */
} DevsimCa;

/* Make a new CA in dir (created if missing, mode 0700). The files appear
 * at once, complete (a new directory is renamed into place), so a
 * concurrent devsim_ca_load () sees either no CA or the whole CA.
 * DEVSIM_ERROR_EXISTS if dir already holds a CA.
 * Returns: (transfer full) (nullable) */
DevsimCa *devsim_ca_create     (const char  *dir,
                                const char  *name,
                                GError     **error);

/* Read the CA of dir; DEVSIM_ERROR_NOT_FOUND if it has none.
 * Returns: (transfer full) (nullable) */
DevsimCa *devsim_ca_load       (const char  *dir,
                                GError     **error);

/* A device identity certificate (DER) for subject_key: subject CN =
 * model, serialNumber = serial, CA:FALSE, digitalSignature, signed by the
 * CA. Checked against the CA with signet_x509_verify_chain() before it is
 * returned. Returns: (transfer full) (nullable) */
GBytes   *devsim_ca_issue      (DevsimCa    *ca,
                                SignetKey   *subject_key,
                                const char  *model,
                                const char  *serial,
                                GError     **error);

void      devsim_ca_free       (DevsimCa    *ca);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DevsimCa, devsim_ca_free)

G_END_DECLS
