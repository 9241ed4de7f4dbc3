/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sa-store.h: what a device keeps in flash, laid out so that a power loss
 * at any point leaves it running exactly its old or its new committed
 * configuration (docs/protocol.md, "What a device keeps").
 *
 * NOR semantics: an erase sets a sector to 0xFF, a write only clears
 * bits, and an interrupted write or erase leaves its range unknown. The
 * flash, in sectors:
 *
 *     identity     written once by sa_provision (), never again; a
 *                  CRC-32 covers it
 *     journal      two sectors of fixed-size state records
 *                  (SA_JOURNAL_RECORD bytes), each with a sequence number
 *                  and a CRC-32; appended in turn, the newest valid record
 *                  is the device's state
 *     config × 3   configuration slots: current, previous, and one to
 *                  stage into, so staging never overwrites what ROLLBACK
 *                  returns to
 *     revocation × 2  the held revocation list (its payload, at most
 *                  SA_REVOCATION_MAX bytes) and room for the next
 *     bulk         the rest: the bulk transfer area
 *
 * A change is written to a slot no record names, then made real by
 * appending a record; a torn record fails its CRC and the one before it
 * stays newest. A record is appended to the next blank place of the
 * active journal sector; when that is full, the other sector is erased
 * and the record goes to its start (the active sector is never erased).
 * Records are verified by reading them back.
 *
 * Errors: the flash port's own sp_err for a failed read, write or erase;
 * SP_ERR_MISSING when no valid record exists (never provisioned);
 * SP_ERR_VALUE for a verify mismatch; SP_ERR_INVALID_ARG for a flash too
 * small for the layout.
 */
#ifndef SA_STORE_H
#define SA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp-crypto-port.h"
#include "sp-error.h"

/* NOR-flash semantics: erase sets a whole sector to 0xFF; write may only
 * clear bits. A write or erase interrupted by a power loss leaves its
 * range in an unknown state; everything else is kept. */
typedef struct sa_flash {
  uint32_t size;                 /* bytes, a multiple of sector_size */
  uint32_t sector_size;          /* 512 .. 65536 bytes */
  sp_err (*read) (void *ctx, uint32_t offset, uint8_t *buf, size_t len);
  sp_err (*write) (void *ctx, uint32_t offset, const uint8_t *buf, size_t len);
  sp_err (*erase) (void *ctx, uint32_t offset);   /* the sector at offset */
  /* SHA-256 of flash[offset..offset + len), for a completed bulk
   * transfer: the port streams it (the crypto port hashes only what is
   * in RAM at once). Nullable: then the device has no bulk transfer
   * (capability bit 1 clear, BULK_* answer UNSUPPORTED). */
  sp_err (*sha256) (void *ctx, uint32_t offset, uint32_t len,
                    uint8_t out[SP_SHA256_LEN]);
} sa_flash;

#define SA_CONFIG_SLOTS 3
#define SA_REVOCATION_SLOTS 2
#define SA_SLOT_NONE 0xFF
#define SA_JOURNAL_RECORD 160          /* bytes of one state record */
#define SA_CONFIG_MAX 896              /* bytes of a configuration (CBOR map) */
#define SA_REVOCATION_MAX 1280         /* bytes of a held revocation list's payload */

/* A configuration slot as a record names it. */
typedef struct sa_slot_ref {
  uint64_t version;
  uint32_t crc;                  /* CRC-32 of its len bytes */
  uint16_t len;
  uint8_t slot;                  /* 0..2, or SA_SLOT_NONE */
  uint8_t classes;               /* SA_SCOPE_OF bits of the keys the change
                                  * that made it set */
} sa_slot_ref;

typedef enum sa_bulk_state {
  SA_BULK_NONE = 0,
  SA_BULK_RECEIVING = 1,
  SA_BULK_COMPLETE = 2,
} sa_bulk_state;

/* One journal record: the device's whole persistent state. */
typedef struct sa_state {
  uint32_t seq;
  sa_slot_ref current;
  sa_slot_ref previous;          /* slot SA_SLOT_NONE: none */
  sa_slot_ref pending;           /* slot SA_SLOT_NONE: none */
  uint64_t clock_floor;
  uint64_t revocation_version;   /* 0 and slot SA_SLOT_NONE: no list */
  uint32_t revocation_crc;
  uint16_t revocation_len;
  uint8_t revocation_slot;
  uint8_t bulk_state;            /* sa_bulk_state */
  uint32_t bulk_size;
  uint32_t bulk_offset;          /* persisted: a multiple of the sector size */
  uint8_t bulk_digest[SP_SHA256_LEN];
  uint32_t boots;
  uint32_t deadline_rollbacks;
} sa_state;

typedef struct sa_store {
  const sa_flash *flash;
  void *ctx;
  uint32_t sector;
  uint32_t journal[2];           /* offsets of the two journal sectors */
  uint32_t slot0, slot_size;     /* config slot i at slot0 + i * slot_size */
  uint32_t rev0, rev_size;       /* revocation slot i at rev0 + i * rev_size */
  uint32_t bulk, bulk_size;      /* the bulk area */
  uint16_t next_record;          /* next free record of the active sector */
  uint8_t active;                /* the journal sector with the newest record */
  sa_state state;                /* the newest record */
} sa_store;

/* Bytes of the identity record (see sa-store.c). */
#define SA_IDENTITY_SIZE 2719

struct sa_identity;

/* Compute the layout for flash (borrowed, with its ctx). */
sp_err sa_store_init (sa_store *s, const sa_flash *flash, void *ctx);

/* Find the newest valid record (SP_ERR_MISSING: none). */
sp_err sa_store_load (sa_store *s);

/* Append next as the new state (its seq is set here); s->state changes
 * only on success. */
sp_err sa_store_append (sa_store *s, const sa_state *next);

/* Erase the whole flash and write identity, the first configuration into
 * slot 0 and the first record. The caller has checked identity. */
sp_err sa_store_format (sa_store *s, const struct sa_identity *identity);

sp_err sa_store_read (const sa_store *s, uint32_t offset, uint8_t *buf, size_t len);

/* Erase the sectors of [offset, offset + len) and write buf there, then
 * read it back (SP_ERR_VALUE if it differs). */
sp_err sa_store_rewrite (const sa_store *s, uint32_t offset, const uint8_t *buf,
                         size_t len);

/* CRC-32 of flash[offset..offset + len), and whether it equals buf. */
sp_err sa_store_crc (const sa_store *s, uint32_t offset, size_t len, uint32_t *crc);
sp_err sa_store_equals (const sa_store *s, uint32_t offset, const uint8_t *buf,
                        size_t len, bool *equal);

uint32_t sa_store_slot (const sa_store *s, unsigned slot);
uint32_t sa_store_revocation (const sa_store *s, unsigned slot);
/* A configuration slot that neither current nor previous names. */
unsigned sa_store_free_slot (const sa_state *st);

/* Write data at offset of the bulk area, erasing each sector when its
 * first byte is written. */
sp_err sa_store_bulk_write (const sa_store *s, uint32_t offset, const uint8_t *data,
                            size_t len);

/* Identity fields (offsets inside the identity record). */
sp_err sa_store_identity_check (const sa_store *s);
sp_err sa_store_identity_text (const sa_store *s, unsigned which, char *out,
                               size_t *len);   /* which: SA_ID_SERIAL.. */
sp_err sa_store_identity_text_equals (const sa_store *s, unsigned which,
                                      const char *p, size_t len, bool *equal);
sp_err sa_store_identity_key (const sa_store *s, unsigned which,
                              uint8_t d[SP_P256_SCALAR_LEN]);
sp_err sa_store_identity_chain (const sa_store *s, size_t *n, uint32_t offset[3],
                                uint16_t len[3]);
sp_err sa_store_identity_authority (const sa_store *s, size_t i, uint8_t *kid,
                                    size_t *kid_len, uint8_t pub[SP_P256_PUB_LEN]);
sp_err sa_store_identity_n_authorities (const sa_store *s, size_t *n);

#define SA_ID_SERIAL 0
#define SA_ID_MODEL 1
#define SA_ID_FIRMWARE 2
#define SA_ID_IDENTITY_KEY 0
#define SA_ID_KEM_KEY 1

#endif /* SA_STORE_H */
