/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devsim-provision.h: the simulated factory line. One call makes a new
 * device: a state file whose flash holds what sa_provision () writes.
 *
 * It generates the device's identity and KEM keys (P-256), has the
 * manufacturer CA issue the identity certificate (subject serialNumber =
 * serial, CN = model; signet_x509_verify_chain () accepts it, so the tool
 * and signetd do), and gives the agent the model's factory configuration,
 * the trusted service authority keys and the clock floor. The private
 * keys go into the agent's flash and nowhere else.
 *
 * The state file appears complete or not at all: everything is written to
 * a temporary file beside it, synced, checked by booting an agent on it,
 * and only then linked into place.
 */
#pragma once

#include <glib.h>

#include "devsim-ca.h"
#include "devsim-model.h"
#include "devsim-probe.h"
#include "sa-agent.h"

G_BEGIN_DECLS

typedef struct {
  const char *state_path;
  DevsimModel *model;              /* borrowed */
  const char *serial;
  const char *firmware;            /* nullable: the model's */
  DevsimCa *ca;                    /* borrowed; may be NULL with clone_certificate */
  const sa_authority *authorities; /* 1..SA_AUTHORITIES_MAX */
  gsize n_authorities;
  guint64 clock_floor;
  guint32 flash_size;              /* 0: DEVSIM_FLASH_DEFAULT_SIZE */
  guint32 sector_size;             /* 0: DEVSIM_FLASH_DEFAULT_SECTOR */
  gboolean force;                  /* replace an existing state file (not a running one) */
  /* Tests only: a cloned device. When set (DER), this certificate is
   * used as it is -- another device's, with another key -- instead of one
   * the CA issues for the new identity key: a verifier must refuse the
   * device's evidence (its signature does not verify with the
   * certificate's key). */
  GBytes *clone_certificate;       /* nullable, borrowed */
} DevsimProvisionParams;

/* Make the device. DEVSIM_ERROR_EXISTS if the state file is there (and
 * not force), DEVSIM_ERROR_BUSY if a simulator runs it,
 * DEVSIM_ERROR_INVALID for a serial the certificate cannot carry,
 * DEVSIM_ERROR_AGENT if the agent refuses the identity.
 * Returns: (transfer full) (nullable): what the new device says (HELLO,
 * ATTEST, status) */
DevsimDeviceInfo *devsim_provision (const DevsimProvisionParams  *params,
                                    GError                      **error);

G_END_DECLS
