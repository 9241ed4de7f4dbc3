/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * board-stub.c: a pretend board for the Cortex-M4 size report: the
 * platform the agent reaches through sa_platform (crypto port, flash,
 * clock, UART) as empty stubs, and a main () that runs the agent the way
 * a device would, so the linker keeps exactly what a device needs. The
 * report counts none of this file: on a device these are the platform's.
 */
#include "sa-agent.h"

static sp_err
no_crypto (void)
{
  return SP_ERR_CRYPTO;
}

#define STUB(type) ((type) (void (*) (void)) no_crypto)

static const sp_crypto_port board_crypto = {
  .sha256 = STUB (sp_err (*) (void *, const sp_iovec *, size_t, uint8_t *)),
  .hmac_sha256 = STUB (sp_err (*) (void *, const uint8_t *, size_t, const sp_iovec *,
                                   size_t, uint8_t *)),
  .ecdsa_p256_sign = STUB (sp_err (*) (void *, const sp_key *, const uint8_t *, uint8_t *)),
  .ecdsa_p256_verify = STUB (sp_err (*) (void *, const uint8_t *, const uint8_t *,
                                         const uint8_t *)),
  .ecdh_p256 = STUB (sp_err (*) (void *, const sp_key *, const uint8_t *, uint8_t *)),
  .p256_import_private = STUB (sp_err (*) (void *, const uint8_t *, sp_key **)),
  .p256_public = STUB (sp_err (*) (void *, const sp_key *, uint8_t *)),
  .key_free = STUB (void (*) (void *, sp_key *)),
  .aead_seal = STUB (sp_err (*) (void *, sp_aead_alg, const uint8_t *, const uint8_t *,
                                 const uint8_t *, size_t, const uint8_t *, size_t, uint8_t *)),
  .aead_open = STUB (sp_err (*) (void *, sp_aead_alg, const uint8_t *, const uint8_t *,
                                 const uint8_t *, size_t, const uint8_t *, size_t, uint8_t *)),
  .random = STUB (sp_err (*) (void *, uint8_t *, size_t)),
};

static const sa_field board_fields[] = {
  { "net.ssid", SA_TYPE_STRING, 1, 32, 0, 0, false, SA_CLASS_CONFIG, false },
};
static const sa_schema board_schema = { "board", board_fields, 1 };

static sa_platform board_platform = {
  .crypto = &board_crypto,
  .flash = {
    .size = 64 * 1024, .sector_size = 4096,
    .read = STUB (sp_err (*) (void *, uint32_t, uint8_t *, size_t)),
    .write = STUB (sp_err (*) (void *, uint32_t, const uint8_t *, size_t)),
    .erase = STUB (sp_err (*) (void *, uint32_t)),
    .sha256 = STUB (sp_err (*) (void *, uint32_t, uint32_t, uint8_t *)),
  },
  .monotonic_ms = STUB (uint64_t (*) (void *)),
};

/* What a device keeps: statically, as the header says. */
static sa_agent agent;
static sa_link link;
volatile uint8_t uart_rx[64];
volatile size_t uart_len;
#ifdef WITH_PROVISION
static sa_identity factory;
#endif

static bool
uart_write (void *ctx, const uint8_t *data, size_t len)
{
  while (len-- > 0)
    uart_rx[0] = *data++;
  return true;
}

int
main (void)
{
  sa_status st;
  uint8_t ble[SA_MSG_MAX];

#ifdef WITH_PROVISION
  if (uart_len == 1)
    sa_provision (&board_platform, &board_schema, &factory);
#endif
  if (sa_agent_boot (&agent, &board_platform, &board_schema) != SP_OK)
    return 1;
  sa_link_init (&link, &agent, uart_write, 0);
  for (;;)
    {
      /* USB CDC-ACM bytes, or a whole BLE message */
      if (uart_len < 32)
        sa_link_receive (&link, (const uint8_t *) uart_rx, uart_len);
      else
        uart_len = sa_agent_handle (&agent, (const uint8_t *) uart_rx, uart_len, ble,
                                    sizeof ble);
      sa_agent_tick (&agent);
      sa_agent_get_status (&agent, &st);
      if (st.boots == 0)
        break;
    }
  sa_agent_close (&agent);
  return 0;
}
