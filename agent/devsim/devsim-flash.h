/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devsim-flash.h: the simulated device's NOR flash, backed by a state file.
 *
 * Semantics are those of NOR flash, which the agent must live with on a
 * real device (sa-agent.h, sa_flash):
 *  - erase sets a whole sector to 0xFF;
 *  - write can only clear bits: a write that would turn a 0 bit into a 1
 *    is refused (DEVSIM_FLASH_NOR_REFUSE, the default, so an agent bug shows
 *    up at once) or ANDed into the flash as the silicon does
 *    (DEVSIM_FLASH_NOR_AND);
 *  - writes and erases go to the file in chunks of DEVSIM_FLASH_CHUNK and
 *    DEVSIM_FLASH_ERASE_CHUNK bytes, each with its own pwrite(), so a
 *    process killed in the middle of an operation leaves a torn range, as
 *    a power loss does on real flash.
 *    Nothing is buffered in the process: what a pwrite() wrote is in the
 *    file (the page cache) when the process dies, however it dies.
 *
 * Power loss on purpose: devsim_flash_set_power_loss() makes the process
 * end (_exit (DEVSIM_EXIT_POWER_LOSS), no cleanup) when it is about to
 * program the chunk after the Nth one: chunks 1..N are complete, chunk N+1
 * is torn (a random part of its bits programmed, or erased), nothing after
 * it happens.
 *
 * The state file (one per simulated device):
 *
 *   0              header, little-endian: "SIGNETDS", u32 format (1),
 *                  u32 flash size, u32 sector size, u32 ROM offset,
 *                  u32 ROM length, u32 flash offset, u32 CRC-32 of the
 *                  header's first 32 bytes and the ROM
 *   ROM offset     the "ROM": what ships with the firmware image rather than
 *                  living in flash (the simulator keeps the model JSON, the
 *                  schema the agent judges configurations by); read-only
 *   flash offset   the flash, flash size bytes, sector-aligned in the file
 *
 * Ownership: a DevsimFlash owns its file descriptor and an in-memory mirror
 * of the flash (reads come from the mirror, writes go through to the file).
 * A READ_WRITE flash holds an exclusive flock() on the file for its life,
 * so two simulators never drive one device; a SNAPSHOT flash takes no lock
 * and keeps its writes in memory (to boot an agent on a copy, say for
 * `signet-devsim status`).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Bytes programmed per pwrite(): a NOR page-program granule small enough
 * that an interrupted write tears inside the agent's records. An erase
 * goes in larger chunks (a sector is 16 of them by default), so that
 * counting chunks for a power loss does not land mostly inside erases. */
#define DEVSIM_FLASH_CHUNK 16u
#define DEVSIM_FLASH_ERASE_CHUNK 256u

/* The default geometry: 256 KiB in 4 KiB sectors (the agent's identity,
 * journal, configuration and revocation sectors take 8 of them, the rest
 * is for bulk transfers). */
#define DEVSIM_FLASH_DEFAULT_SIZE (256u * 1024u)
#define DEVSIM_FLASH_DEFAULT_SECTOR (4u * 1024u)

/* Bounds of what create accepts (sizes are powers of two). */
/* The agent's limits (sa-store.h): sectors of 512 bytes to 64 KiB. */
#define DEVSIM_FLASH_MIN_SECTOR 512u
#define DEVSIM_FLASH_MAX_SECTOR (64u * 1024u)
#define DEVSIM_FLASH_MAX_SIZE (16u * 1024u * 1024u)
#define DEVSIM_FLASH_MAX_ROM (256u * 1024u)

typedef enum {
  DEVSIM_FLASH_READ_WRITE,
  DEVSIM_FLASH_SNAPSHOT,
} DevsimFlashMode;

typedef enum {
  DEVSIM_FLASH_NOR_REFUSE,  /* a write that sets a bit fails (DEVSIM_ERROR_FLASH) */
  DEVSIM_FLASH_NOR_AND,     /* it is ANDed in, as the silicon does */
} DevsimFlashNorPolicy;

typedef struct _DevsimFlash DevsimFlash;

/* A new state file at path (which must not exist: DEVSIM_ERROR_EXISTS),
 * with rom (nullable) as its ROM and an erased flash (all 0xFF) of size
 * bytes in sectors of sector_size; opened READ_WRITE.
 * Returns: (transfer full) (nullable) */
DevsimFlash *devsim_flash_create          (const char            *path,
                                           guint32                size,
                                           guint32                sector_size,
                                           GBytes                *rom,
                                           GError               **error);

/* Open an existing state file. DEVSIM_ERROR_NOT_FOUND if there is none,
 * DEVSIM_ERROR_INVALID if it is not a state file (bad header, CRC, size),
 * DEVSIM_ERROR_BUSY if mode is READ_WRITE and another process holds it.
 * Returns: (transfer full) (nullable) */
DevsimFlash *devsim_flash_open            (const char            *path,
                                           DevsimFlashMode        mode,
                                           GError               **error);

void         devsim_flash_free            (DevsimFlash           *self);

/* TRUE if a READ_WRITE DevsimFlash (in any process) has the file open. */
gboolean     devsim_flash_is_busy         (const char            *path);

/* fdatasync() the file (provisioning does it before it renames the file
 * into place; sessions need not, see above). */
gboolean     devsim_flash_sync            (DevsimFlash           *self,
                                           GError               **error);

guint32      devsim_flash_get_size        (DevsimFlash           *self);
guint32      devsim_flash_get_sector_size (DevsimFlash           *self);

/* The ROM. Returns: (transfer none) */
GBytes      *devsim_flash_get_rom         (DevsimFlash           *self);

/* buf[0..len) from offset; DEVSIM_ERROR_FLASH if the range is outside. */
gboolean     devsim_flash_read            (DevsimFlash           *self,
                                           guint32                offset,
                                           guint8                *buf,
                                           gsize                  len,
                                           GError               **error);

/* Program buf[0..len) at offset, under the NOR policy. A refused write
 * changes nothing (the whole range is checked first). */
gboolean     devsim_flash_write           (DevsimFlash           *self,
                                           guint32                offset,
                                           const guint8          *buf,
                                           gsize                  len,
                                           GError               **error);

/* SHA-256 of flash[offset..offset + len) into out (32 bytes): the
 * platform's streaming hash of a completed bulk transfer. */
gboolean     devsim_flash_sha256          (DevsimFlash           *self,
                                           guint32                offset,
                                           guint32                len,
                                           guint8                *out,
                                           GError               **error);

/* Erase the sector that holds offset. */
gboolean     devsim_flash_erase           (DevsimFlash           *self,
                                           guint32                offset,
                                           GError               **error);

void         devsim_flash_set_nor_policy  (DevsimFlash           *self,
                                           DevsimFlashNorPolicy   policy);

/* Sleep us microseconds before each chunk (a slow flash, to widen the
 * windows a test can hit with a kill). */
void         devsim_flash_set_chunk_delay (DevsimFlash           *self,
                                           guint                  us);

/* Lose power when about to program chunk after_chunks + 1 (counted from
 * the creation of self, writes and erases alike); 0 turns it off. seed
 * makes the torn chunk's bits reproducible. */
void         devsim_flash_set_power_loss  (DevsimFlash           *self,
                                           guint64                after_chunks,
                                           guint64                seed);

/* Chunks written or erased since self was made (writes, erases). */
guint64      devsim_flash_get_chunks      (DevsimFlash           *self);
guint64      devsim_flash_get_writes      (DevsimFlash           *self);
guint64      devsim_flash_get_erases      (DevsimFlash           *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DevsimFlash, devsim_flash_free)

G_END_DECLS
