/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "devsim-error.h"
#include "devsim-flash.h"
#include "signet-crypto.h"
#include "sp-frame.h"

#define MAGIC "SIGNETDS"
#define MAGIC_LEN 8
#define FORMAT_VERSION 1
#define HEADER_LEN 36          /* magic, 6 x u32, crc */
#define HEADER_CRC_SPAN 32     /* what the CRC covers of the header */
#define ROM_OFFSET 4096u

struct _DevsimFlash {
  int fd;
  char *path;
  DevsimFlashMode mode;
  guint32 size;
  guint32 sector_size;
  guint32 flash_offset;        /* in the file */
  GBytes *rom;
  guint8 *mirror;              /* size bytes: what the flash holds */

  DevsimFlashNorPolicy nor;
  guint chunk_delay_us;
  guint64 chunks;
  guint64 writes;
  guint64 erases;
  guint64 power_loss_after;    /* 0: never */
  GRand *power_loss_rand;
};

static void
put_u32 (guint8 *p,
         guint32 v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = (v >> 24) & 0xff;
}

static guint32
get_u32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16)
         | ((guint32) p[3] << 24);
}

static gboolean
is_power_of_two (guint32 v)
{
  return v != 0 && (v & (v - 1)) == 0;
}

/* pwrite all of buf at off, retrying short writes and EINTR. */
static gboolean
pwrite_all (int           fd,
            const guint8 *buf,
            gsize         len,
            goffset       off,
            GError      **error)
{
  while (len > 0)
    {
      ssize_t n = pwrite (fd, buf, len, off);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved = errno;

          g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED,
                       "Writing the state file: %s", g_strerror (saved));
          return FALSE;
        }
      buf += n;
      len -= (gsize) n;
      off += n;
    }
  return TRUE;
}

static gboolean
pread_all (int      fd,
           guint8  *buf,
           gsize    len,
           goffset  off,
           GError **error)
{
  while (len > 0)
    {
      ssize_t n = pread (fd, buf, len, off);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved = errno;

          g_set_error (error, DEVSIM_ERROR, n == 0 ? DEVSIM_ERROR_INVALID : DEVSIM_ERROR_FAILED,
                       "Reading the state file: %s",
                       n == 0 ? "it is truncated" : g_strerror (saved));
          return FALSE;
        }
      buf += n;
      len -= (gsize) n;
      off += n;
    }
  return TRUE;
}

static guint32
header_crc (const guint8 *header,
            GBytes       *rom)
{
  gsize rom_len = 0;
  const guint8 *rom_data = rom != NULL ? g_bytes_get_data (rom, &rom_len) : NULL;

  return sp_crc32_update (sp_crc32 (header, HEADER_CRC_SPAN), rom_data, rom_len);
}

static DevsimFlash *
flash_new (int          fd,
           const char  *path,
           DevsimFlashMode mode)
{
  DevsimFlash *self = g_new0 (DevsimFlash, 1);

  self->fd = fd;
  self->path = g_strdup (path);
  self->mode = mode;
  self->nor = DEVSIM_FLASH_NOR_REFUSE;
  return self;
}

void
devsim_flash_free (DevsimFlash *self)
{
  if (self == NULL)
    return;
  if (self->fd >= 0)
    close (self->fd);   /* also drops the flock */
  g_free (self->path);
  g_clear_pointer (&self->rom, g_bytes_unref);
  g_free (self->mirror);
  g_clear_pointer (&self->power_loss_rand, g_rand_free);
  g_free (self);
}

static gboolean
lock_exclusive (int          fd,
                const char  *path,
                GError     **error)
{
  if (flock (fd, LOCK_EX | LOCK_NB) == 0)
    return TRUE;
  if (errno == EWOULDBLOCK)
    g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_BUSY,
                 "%s is in use by another signet-devsim", path);
  else
    g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED,
                 "Locking %s: %s", path, g_strerror (errno));
  return FALSE;
}

DevsimFlash *
devsim_flash_create (const char  *path,
                     guint32      size,
                     guint32      sector_size,
                     GBytes      *rom,
                     GError     **error)
{
  g_autoptr(DevsimFlash) self = NULL;
  guint8 header[HEADER_LEN] = { 0 };
  gsize rom_len = rom != NULL ? g_bytes_get_size (rom) : 0;
  guint32 flash_offset;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!is_power_of_two (sector_size) || sector_size < DEVSIM_FLASH_MIN_SECTOR
      || sector_size > DEVSIM_FLASH_MAX_SECTOR || !is_power_of_two (size)
      || size < 2 * sector_size || size > DEVSIM_FLASH_MAX_SIZE)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                   "A flash of %u bytes in sectors of %u is not possible: both must be "
                   "powers of two, sectors of %u to %u bytes, at least two of them, "
                   "at most %u bytes in all", size, sector_size, DEVSIM_FLASH_MIN_SECTOR,
                   DEVSIM_FLASH_MAX_SECTOR, DEVSIM_FLASH_MAX_SIZE);
      return NULL;
    }
  if (rom_len > DEVSIM_FLASH_MAX_ROM)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                   "The ROM is larger than %u bytes", DEVSIM_FLASH_MAX_ROM);
      return NULL;
    }

  fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, DEVSIM_ERROR,
                   saved == EEXIST ? DEVSIM_ERROR_EXISTS : DEVSIM_ERROR_FAILED,
                   "Creating %s: %s", path, g_strerror (saved));
      return NULL;
    }
  self = flash_new (fd, path, DEVSIM_FLASH_READ_WRITE);
  if (!lock_exclusive (fd, path, error))
    return NULL;

  /* The flash starts on a sector boundary of the file, after the ROM. */
  flash_offset = (guint32) ((ROM_OFFSET + rom_len + sector_size - 1) / sector_size * sector_size);

  memcpy (header, MAGIC, MAGIC_LEN);
  put_u32 (header + 8, FORMAT_VERSION);
  put_u32 (header + 12, size);
  put_u32 (header + 16, sector_size);
  put_u32 (header + 20, ROM_OFFSET);
  put_u32 (header + 24, (guint32) rom_len);
  put_u32 (header + 28, flash_offset);
  put_u32 (header + 32, header_crc (header, rom));

  self->size = size;
  self->sector_size = sector_size;
  self->flash_offset = flash_offset;
  self->rom = rom != NULL ? g_bytes_ref (rom) : g_bytes_new (NULL, 0);
  self->mirror = g_malloc (size);
  memset (self->mirror, 0xff, size);

  if (!pwrite_all (fd, header, sizeof header, 0, error)
      || (rom_len > 0 && !pwrite_all (fd, g_bytes_get_data (rom, NULL), rom_len, ROM_OFFSET, error))
      || !pwrite_all (fd, self->mirror, size, flash_offset, error))
    {
      g_unlink (path);
      return NULL;
    }
  return g_steal_pointer (&self);
}

DevsimFlash *
devsim_flash_open (const char       *path,
                   DevsimFlashMode   mode,
                   GError          **error)
{
  g_autoptr(DevsimFlash) self = NULL;
  guint8 header[HEADER_LEN];
  g_autofree guint8 *rom = NULL;
  guint32 rom_offset, rom_len;
  struct stat st;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  fd = open (path, (mode == DEVSIM_FLASH_READ_WRITE ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, DEVSIM_ERROR,
                   saved == ENOENT ? DEVSIM_ERROR_NOT_FOUND : DEVSIM_ERROR_FAILED,
                   "Opening %s: %s", path, g_strerror (saved));
      return NULL;
    }
  self = flash_new (fd, path, mode);
  if (mode == DEVSIM_FLASH_READ_WRITE && !lock_exclusive (fd, path, error))
    return NULL;

  if (fstat (fd, &st) != 0)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED,
                   "Reading %s: %s", path, g_strerror (errno));
      return NULL;
    }
  if (st.st_size < (off_t) sizeof header)
    goto invalid;
  if (!pread_all (fd, header, sizeof header, 0, error))
    return NULL;
  if (memcmp (header, MAGIC, MAGIC_LEN) != 0 || get_u32 (header + 8) != FORMAT_VERSION)
    goto invalid;

  self->size = get_u32 (header + 12);
  self->sector_size = get_u32 (header + 16);
  rom_offset = get_u32 (header + 20);
  rom_len = get_u32 (header + 24);
  self->flash_offset = get_u32 (header + 28);
  if (!is_power_of_two (self->sector_size) || self->sector_size < DEVSIM_FLASH_MIN_SECTOR
      || self->sector_size > DEVSIM_FLASH_MAX_SECTOR || !is_power_of_two (self->size)
      || self->size < 2 * self->sector_size
      || self->size > DEVSIM_FLASH_MAX_SIZE
      || rom_offset != ROM_OFFSET || rom_len > DEVSIM_FLASH_MAX_ROM
      || self->flash_offset < rom_offset + rom_len
      || (guint64) st.st_size != (guint64) self->flash_offset + self->size)
    goto invalid;

  rom = g_malloc (rom_len + 1);
  if (!pread_all (fd, rom, rom_len, rom_offset, error))
    return NULL;
  self->rom = g_bytes_new (rom, rom_len);
  if (header_crc (header, self->rom) != get_u32 (header + 32))
    goto invalid;

  self->mirror = g_malloc (self->size);
  if (!pread_all (fd, self->mirror, self->size, self->flash_offset, error))
    return NULL;
  return g_steal_pointer (&self);

invalid:
  g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
               "%s is not a signet-devsim state file (or it is damaged)", path);
  return NULL;
}

gboolean
devsim_flash_is_busy (const char *path)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  gboolean busy = FALSE;

  if (fd < 0)
    return FALSE;
  /* A shared lock conflicts only with a READ_WRITE holder's exclusive one. */
  if (flock (fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK)
    busy = TRUE;
  close (fd);
  return busy;
}

gboolean
devsim_flash_sync (DevsimFlash  *self,
                   GError      **error)
{
  if (self->mode != DEVSIM_FLASH_READ_WRITE)
    return TRUE;
  if (fdatasync (self->fd) != 0)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED,
                   "Syncing %s: %s", self->path, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

guint32
devsim_flash_get_size (DevsimFlash *self)
{
  return self->size;
}

guint32
devsim_flash_get_sector_size (DevsimFlash *self)
{
  return self->sector_size;
}

GBytes *
devsim_flash_get_rom (DevsimFlash *self)
{
  return self->rom;
}

void
devsim_flash_set_nor_policy (DevsimFlash          *self,
                             DevsimFlashNorPolicy  policy)
{
  self->nor = policy;
}

void
devsim_flash_set_chunk_delay (DevsimFlash *self,
                              guint        us)
{
  self->chunk_delay_us = us;
}

void
devsim_flash_set_power_loss (DevsimFlash *self,
                             guint64      after_chunks,
                             guint64      seed)
{
  guint32 seed_array[2] = { (guint32) seed, (guint32) (seed >> 32) };

  self->power_loss_after = after_chunks;
  g_clear_pointer (&self->power_loss_rand, g_rand_free);
  if (after_chunks > 0)
    self->power_loss_rand = g_rand_new_with_seed_array (seed_array, G_N_ELEMENTS (seed_array));
}

guint64
devsim_flash_get_chunks (DevsimFlash *self)
{
  return self->chunks;
}

guint64
devsim_flash_get_writes (DevsimFlash *self)
{
  return self->writes;
}

guint64
devsim_flash_get_erases (DevsimFlash *self)
{
  return self->erases;
}

static gboolean
check_range (DevsimFlash  *self,
             guint32       offset,
             gsize         len,
             const char   *what,
             GError      **error)
{
  if (offset > self->size || len > self->size - offset)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FLASH,
                   "Flash %s of %" G_GSIZE_FORMAT " bytes at 0x%x is outside the %u-byte flash",
                   what, len, offset, self->size);
      return FALSE;
    }
  return TRUE;
}

/* The power is lost while this chunk is being programmed: part of its
 * bits change (a random part), the rest stay, and the device stops. */
G_GNUC_NORETURN static void
lose_power (DevsimFlash  *self,
            guint32       offset,
            const guint8 *target,
            gsize         len,
            gboolean      erasing)
{
  guint8 torn[MAX (DEVSIM_FLASH_CHUNK, DEVSIM_FLASH_ERASE_CHUNK)];
  static const char msg[] = "signet-devsim: simulated power loss during a flash operation\n";
  gsize i;

  for (i = 0; i < len; i++)
    {
      guint8 old = self->mirror[offset + i];
      guint8 mask = (guint8) g_rand_int_range (self->power_loss_rand, 0, 256);

      /* Programming clears some of the bits it should clear; erasing sets
       * some of the bits it should set. */
      torn[i] = erasing ? (guint8) (old | mask) : (guint8) (old & (target[i] | mask));
    }
  if (self->mode == DEVSIM_FLASH_READ_WRITE)
    (void) pwrite_all (self->fd, torn, len, (goffset) self->flash_offset + offset, NULL);
  if (write (STDERR_FILENO, msg, sizeof msg - 1) < 0)
    {
      /* nothing to do: the process is going away */
    }
  _exit (DEVSIM_EXIT_POWER_LOSS);
}

/* Program target[0..len) (at most one chunk) at offset: the last step of
 * every write and erase. */
static gboolean
program_chunk (DevsimFlash  *self,
               guint32       offset,
               const guint8 *target,
               gsize         len,
               gboolean      erasing,
               GError      **error)
{
  if (self->chunk_delay_us > 0)
    g_usleep (self->chunk_delay_us);
  if (self->power_loss_after > 0 && self->chunks >= self->power_loss_after)
    lose_power (self, offset, target, len, erasing);

  if (self->mode == DEVSIM_FLASH_READ_WRITE
      && !pwrite_all (self->fd, target, len, (goffset) self->flash_offset + offset, error))
    return FALSE;
  memcpy (self->mirror + offset, target, len);
  self->chunks++;
  return TRUE;
}

/* Do writes and erases go to the file a chunk per pwrite ()? Only when
 * something can observe the chunks: a power loss to tear one of them
 * (--crash-after-writes) or a delay before each (--slow-flash-us). */
static gboolean
granular (DevsimFlash *self)
{
  return self->chunk_delay_us > 0 || self->power_loss_after > 0;
}

/* The coalesced path: the mirror already holds the result over
 * [offset, offset + len); write it through in one pwrite (). */
static gboolean
program_whole (DevsimFlash  *self,
               guint32       offset,
               gsize         len,
               GError      **error)
{
  return self->mode != DEVSIM_FLASH_READ_WRITE
         || pwrite_all (self->fd, self->mirror + offset, len,
                        (goffset) self->flash_offset + offset, error);
}

gboolean
devsim_flash_read (DevsimFlash  *self,
                   guint32       offset,
                   guint8       *buf,
                   gsize         len,
                   GError      **error)
{
  if (!check_range (self, offset, len, "read", error))
    return FALSE;
  memcpy (buf, self->mirror + offset, len);
  return TRUE;
}

gboolean
devsim_flash_write (DevsimFlash   *self,
                    guint32        offset,
                    const guint8  *buf,
                    gsize          len,
                    GError       **error)
{
  gsize done = 0;
  gsize i;

  if (!check_range (self, offset, len, "write", error))
    return FALSE;

  if (self->nor == DEVSIM_FLASH_NOR_REFUSE)
    for (i = 0; i < len; i++)
      if ((buf[i] & ~self->mirror[offset + i]) != 0)
        {
          g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FLASH,
                       "Flash write of %" G_GSIZE_FORMAT " bytes at 0x%x would set bits at "
                       "0x%" G_GSIZE_FORMAT " (0x%02x over 0x%02x): NOR flash can only clear "
                       "bits until the sector is erased", len, offset, offset + i,
                       buf[i], self->mirror[offset + i]);
          return FALSE;
        }

  self->writes++;
  if (!granular (self))
    {
      /* Nothing needs the granule: one pwrite () for the whole operation
       * (counted in granules all the same). */
      if (len == 0)
        return TRUE;
      for (i = 0; i < len; i++)
        self->mirror[offset + i] &= buf[i];
      self->chunks += (offset + len - 1) / DEVSIM_FLASH_CHUNK - offset / DEVSIM_FLASH_CHUNK + 1;
      return program_whole (self, offset, len, error);
    }
  while (done < len)
    {
      guint32 at = offset + (guint32) done;
      /* chunks are aligned to the chunk size, as flash pages are */
      gsize n = MIN (len - done, DEVSIM_FLASH_CHUNK - at % DEVSIM_FLASH_CHUNK);
      guint8 target[DEVSIM_FLASH_CHUNK];

      for (i = 0; i < n; i++)
        target[i] = self->mirror[at + i] & buf[done + i];
      if (!program_chunk (self, at, target, n, FALSE, error))
        return FALSE;
      done += n;
    }
  return TRUE;
}

gboolean
devsim_flash_sha256 (DevsimFlash  *self,
                     guint32       offset,
                     guint32       len,
                     guint8       *out,
                     GError      **error)
{
  if (!check_range (self, offset, len, "hash", error))
    return FALSE;
  /* OpenSSL's (SHA extensions where the CPU has them): a 4 MiB image
   * hashes in ~2 ms rather than GChecksum's ~11, which a transfer waits
   * for at its last byte. */
  signet_sha256_buf (self->mirror + offset, len, out);
  return TRUE;
}

gboolean
devsim_flash_erase (DevsimFlash  *self,
                    guint32       offset,
                    GError      **error)
{
  guint8 ones[DEVSIM_FLASH_ERASE_CHUNK];
  guint32 start, at;

  if (offset >= self->size)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FLASH,
                   "Flash erase at 0x%x is outside the %u-byte flash", offset, self->size);
      return FALSE;
    }
  memset (ones, 0xff, sizeof ones);
  start = offset - offset % self->sector_size;
  self->erases++;
  if (!granular (self))
    {
      memset (self->mirror + start, 0xff, self->sector_size);
      self->chunks += self->sector_size / DEVSIM_FLASH_ERASE_CHUNK;
      return program_whole (self, start, self->sector_size, error);
    }
  for (at = start; at < start + self->sector_size; at += DEVSIM_FLASH_ERASE_CHUNK)
    if (!program_chunk (self, at, ones, DEVSIM_FLASH_ERASE_CHUNK, TRUE, error))
      return FALSE;
  return TRUE;
}
