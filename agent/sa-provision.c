/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sa-provision.c: provisioning, once, at the factory: check an identity
 * and a first configuration completely, then erase the flash and write
 * them (sa-store.c lays them out).
 *
 * Its own module because a provisioned device never runs it again: a
 * device whose identity is injected by a factory image leaves it out
 * (tests/agent/size-report.sh counts the device image with and without
 * it).
 */
#include "sa-agent.h"

#include <string.h>

#include "sp-evidence.h"

static bool
text_ok (const char *s)
{
  size_t len = s != NULL ? strlen (s) : 0;

  return len >= 1 && len <= SA_SERIAL_MAX && sp_cbor_utf8_valid ((const uint8_t *) s, len);
}

sp_err
sa_provision (const sa_platform *platform, const sa_schema *schema,
              const sa_identity *id)
{
  sp_cbor_item items[130];
  const sp_crypto_port *port;
  sa_store store;
  sp_key *key = NULL;
  size_t i, attest = 16 + 1 + 3 + SP_EVIDENCE_MAX_SIZE + 1 + 1;
  sp_err err;

  if (platform == NULL || platform->crypto == NULL || id == NULL ||
      sa_schema_check (schema) != SP_OK)
    return SP_ERR_INVALID_ARG;
  port = platform->crypto;
  if (!text_ok (id->serial) || !text_ok (id->model) || !text_ok (id->firmware) ||
      strlen (id->model) != strlen (schema->model) ||
      memcmp (id->model, schema->model, strlen (id->model)) != 0 ||
      id->n_chain == 0 || id->n_chain > SA_CHAIN_MAX ||
      id->n_authorities == 0 || id->n_authorities > SA_AUTHORITIES_MAX ||
      id->config == NULL || id->config_len > SA_CONFIG_MAX)
    return SP_ERR_VALUE;
  for (i = 0; i < id->n_chain; i++)
    {
      if (id->chain[i] == NULL || id->chain_len[i] == 0 ||
          id->chain_len[i] > SA_CERT_MAX)
        return SP_ERR_VALUE;
      attest += 3 + id->chain_len[i];
    }
  /* One ATTEST answer carries the largest evidence and the chain. */
  if (attest > SA_MSG_MAX)
    return SP_ERR_VALUE;
  for (i = 0; i < id->n_authorities; i++)
    if (id->authorities[i].kid_len == 0 || id->authorities[i].kid_len > SP_COSE_KID_MAX ||
        id->authorities[i].pub[0] != 0x04)
      return SP_ERR_VALUE;
  if (sa_schema_check_config (schema, id->config, id->config_len, items,
                              sizeof items / sizeof items[0]) != SP_OK)
    return SP_ERR_VALUE;
  /* The scalars must be keys the port takes. */
  err = port->p256_import_private (port->ctx, id->identity_d, &key);
  if (err == SP_OK)
    port->key_free (port->ctx, key);
  if (err == SP_OK)
    err = port->p256_import_private (port->ctx, id->kem_d, &key);
  if (err == SP_OK)
    port->key_free (port->ctx, key);
  if (err != SP_OK)
    return SP_ERR_KEY;

  err = sa_store_init (&store, &platform->flash, platform->ctx);
  if (err == SP_OK)
    err = sa_store_format (&store, id);
  return err;
}
