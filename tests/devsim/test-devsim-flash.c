/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-devsim-flash: the simulator's file-backed NOR flash -- NOR rules,
 * persistence without a sync, locking, a damaged state file, and a
 * simulated power loss that leaves exactly the chunks before it, one torn
 * chunk, and nothing after it.
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "devsim-error.h"
#include "devsim-flash.h"

#define SIZE (64u * 1024u)
#define SECTOR 4096u

typedef struct {
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->dir = g_dir_make_tmp ("devsim-flash-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->path = g_build_filename (f->dir, "dev.state", NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_unlink (f->path);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static DevsimFlash *
create (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) rom = g_bytes_new_static ("{\"rom\": true}", 13);
  DevsimFlash *flash = devsim_flash_create (f->path, SIZE, SECTOR, rom, &error);

  g_assert_no_error (error);
  return flash;
}

static gboolean
all_equal (const guint8 *p,
           gsize         len,
           guint8        v)
{
  gsize i;

  for (i = 0; i < len; i++)
    if (p[i] != v)
      return FALSE;
  return TRUE;
}

static void
test_create_open (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DevsimFlash) flash = create (f);
  g_autofree guint8 *buf = g_malloc (SIZE);
  gsize rom_len = 0;
  const char *rom;

  g_assert_cmpuint (devsim_flash_get_size (flash), ==, SIZE);
  g_assert_cmpuint (devsim_flash_get_sector_size (flash), ==, SECTOR);
  g_assert_true (devsim_flash_read (flash, 0, buf, SIZE, &error));
  g_assert_true (all_equal (buf, SIZE, 0xff));
  g_clear_pointer (&flash, devsim_flash_free);

  flash = devsim_flash_open (f->path, DEVSIM_FLASH_READ_WRITE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devsim_flash_get_size (flash), ==, SIZE);
  rom = g_bytes_get_data (devsim_flash_get_rom (flash), &rom_len);
  g_assert_cmpmem (rom, rom_len, "{\"rom\": true}", 13);

  /* a new state file never replaces one */
  g_assert_null (devsim_flash_create (f->path, SIZE, SECTOR, NULL, &error));
  g_assert_error (error, DEVSIM_ERROR, DEVSIM_ERROR_EXISTS);
}

static void
test_geometry (Fixture       *f,
               gconstpointer  data)
{
  static const guint32 bad[][2] = {
    { SIZE, 256 },          /* sector below the agent's 512 */
    { SIZE, 3000 },         /* not a power of two */
    { SIZE, 128 * 1024 },   /* sector larger than the flash */
    { 4096, 4096 },         /* one sector */
    { 100000, 4096 },       /* size not a power of two */
    { 32u * 1024 * 1024, 4096 },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(DevsimFlash) flash = devsim_flash_create (f->path, bad[i][0], bad[i][1], NULL,
                                                          &error);

      g_assert_null (flash);
      g_assert_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID);
      g_assert_false (g_file_test (f->path, G_FILE_TEST_EXISTS));
    }
}

static void
test_nor (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DevsimFlash) flash = create (f);
  guint8 buf[32];
  guint8 v;

  v = 0xf0;
  g_assert_true (devsim_flash_write (flash, 10, &v, 1, &error));
  v = 0x30;   /* clears more bits: fine */
  g_assert_true (devsim_flash_write (flash, 10, &v, 1, &error));
  g_assert_no_error (error);

  /* setting a bit is refused and changes nothing, in the whole range */
  memset (buf, 0x00, sizeof buf);
  buf[5] = 0x31;
  g_assert_false (devsim_flash_write (flash, 5, buf, 10, &error));
  g_assert_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FLASH);
  g_clear_error (&error);
  g_assert_true (devsim_flash_read (flash, 5, buf, 10, &error));
  g_assert_true (all_equal (buf, 5, 0xff));
  g_assert_cmpuint (buf[5], ==, 0x30);
  g_assert_true (all_equal (buf + 6, 4, 0xff));
  g_assert_cmpuint (devsim_flash_get_writes (flash), ==, 2);

  /* ... or ANDed in, as the silicon does */
  devsim_flash_set_nor_policy (flash, DEVSIM_FLASH_NOR_AND);
  v = 0x0f;
  g_assert_true (devsim_flash_write (flash, 10, &v, 1, &error));
  g_assert_true (devsim_flash_read (flash, 10, &v, 1, &error));
  g_assert_cmpuint (v, ==, 0x00);

  /* erase: the sector of the offset, and only it */
  v = 0x00;
  g_assert_true (devsim_flash_write (flash, SECTOR + 7, &v, 1, &error));
  g_assert_true (devsim_flash_erase (flash, 17, &error));
  g_assert_true (devsim_flash_read (flash, 0, buf, sizeof buf, &error));
  g_assert_true (all_equal (buf, sizeof buf, 0xff));
  g_assert_true (devsim_flash_read (flash, SECTOR + 7, &v, 1, &error));
  g_assert_cmpuint (v, ==, 0x00);
  g_assert_no_error (error);
}

static void
test_range (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DevsimFlash) flash = create (f);
  guint8 buf[16] = { 0 };
  guint8 digest[32];

  g_assert_false (devsim_flash_read (flash, SIZE - 8, buf, 16, &error));
  g_assert_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FLASH);
  g_clear_error (&error);
  g_assert_false (devsim_flash_write (flash, SIZE, buf, 1, &error));
  g_assert_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FLASH);
  g_clear_error (&error);
  g_assert_false (devsim_flash_write (flash, G_MAXUINT32, buf, 2, &error));
  g_assert_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FLASH);
  g_clear_error (&error);
  g_assert_false (devsim_flash_erase (flash, SIZE, &error));
  g_assert_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FLASH);
  g_clear_error (&error);
  g_assert_false (devsim_flash_sha256 (flash, SIZE - 4, 8, digest, &error));
  g_assert_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FLASH);
  g_clear_error (&error);
  /* the last byte, and an empty read at the end, are inside */
  g_assert_true (devsim_flash_read (flash, SIZE - 1, buf, 1, &error));
  g_assert_true (devsim_flash_read (flash, SIZE, buf, 0, &error));
  g_assert_no_error (error);
}

static void
test_persist (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DevsimFlash) flash = create (f);
  guint8 pattern[100];
  guint8 buf[100];
  guint8 digest[32];
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize digest_len = 32;
  guint8 expected[32];
  guint i;

  for (i = 0; i < sizeof pattern; i++)
    pattern[i] = (guint8) (i * 7);
  g_assert_true (devsim_flash_write (flash, 8, pattern, sizeof pattern, &error));
  /* chunks are aligned to 16 bytes: [8,16) [16,32) ... [96,108) */
  g_assert_cmpuint (devsim_flash_get_chunks (flash), ==, 7);
  g_assert_true (devsim_flash_erase (flash, 2 * SECTOR, &error));
  g_assert_cmpuint (devsim_flash_get_chunks (flash), ==, 7 + SECTOR / DEVSIM_FLASH_ERASE_CHUNK);
  g_assert_cmpuint (devsim_flash_get_erases (flash), ==, 1);

  g_assert_true (devsim_flash_sha256 (flash, 8, sizeof pattern, digest, &error));
  g_checksum_update (sum, pattern, sizeof pattern);
  g_checksum_get_digest (sum, expected, &digest_len);
  g_assert_cmpmem (digest, 32, expected, 32);

  /* no sync, no close: what was written is in the file */
  {
    g_autoptr(DevsimFlash) snapshot = devsim_flash_open (f->path, DEVSIM_FLASH_SNAPSHOT, &error);

    g_assert_no_error (error);
    g_assert_true (devsim_flash_read (snapshot, 8, buf, sizeof buf, &error));
    g_assert_cmpmem (buf, sizeof buf, pattern, sizeof pattern);
  }
  g_clear_pointer (&flash, devsim_flash_free);
  flash = devsim_flash_open (f->path, DEVSIM_FLASH_READ_WRITE, &error);
  g_assert_no_error (error);
  g_assert_true (devsim_flash_read (flash, 8, buf, sizeof buf, &error));
  g_assert_cmpmem (buf, sizeof buf, pattern, sizeof pattern);
  g_assert_cmpuint (devsim_flash_get_chunks (flash), ==, 0);
}

static void
test_lock (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DevsimFlash) flash = create (f);
  g_autoptr(DevsimFlash) second = NULL;
  g_autoptr(DevsimFlash) snapshot = NULL;
  guint8 v = 0;

  g_assert_true (devsim_flash_is_busy (f->path));
  second = devsim_flash_open (f->path, DEVSIM_FLASH_READ_WRITE, &error);
  g_assert_null (second);
  g_assert_error (error, DEVSIM_ERROR, DEVSIM_ERROR_BUSY);
  g_clear_error (&error);

  /* a snapshot opens beside it; its writes stay in memory */
  snapshot = devsim_flash_open (f->path, DEVSIM_FLASH_SNAPSHOT, &error);
  g_assert_no_error (error);
  g_assert_true (devsim_flash_write (snapshot, 0, &v, 1, &error));
  g_assert_true (devsim_flash_read (snapshot, 0, &v, 1, &error));
  g_assert_cmpuint (v, ==, 0);
  g_assert_true (devsim_flash_read (flash, 0, &v, 1, &error));
  g_assert_cmpuint (v, ==, 0xff);

  g_clear_pointer (&flash, devsim_flash_free);
  g_assert_false (devsim_flash_is_busy (f->path));
  g_clear_pointer (&snapshot, devsim_flash_free);
  g_clear_pointer (&snapshot, devsim_flash_free);
  snapshot = devsim_flash_open (f->path, DEVSIM_FLASH_SNAPSHOT, &error);
  g_assert_true (devsim_flash_read (snapshot, 0, &v, 1, &error));
  g_assert_cmpuint (v, ==, 0xff);
}

static void
test_damaged (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;
  DevsimFlash *flash;
  int fd;

  flash = devsim_flash_open (f->path, DEVSIM_FLASH_SNAPSHOT, &error);
  g_assert_null (flash);
  g_assert_error (error, DEVSIM_ERROR, DEVSIM_ERROR_NOT_FOUND);
  g_clear_error (&error);

  devsim_flash_free (create (f));
  g_assert_true (g_file_get_contents (f->path, &contents, &len, NULL));

  /* a changed ROM byte fails the header CRC */
  contents[4096 + 2] ^= 1;
  g_assert_true (g_file_set_contents (f->path, contents, (gssize) len, NULL));
  flash = devsim_flash_open (f->path, DEVSIM_FLASH_READ_WRITE, &error);
  g_assert_null (flash);
  g_assert_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID);
  g_clear_error (&error);
  contents[4096 + 2] ^= 1;

  /* truncated */
  g_assert_true (g_file_set_contents (f->path, contents, (gssize) len - 1, NULL));
  flash = devsim_flash_open (f->path, DEVSIM_FLASH_READ_WRITE, &error);
  g_assert_null (flash);
  g_assert_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID);
  g_clear_error (&error);

  /* not a state file at all */
  fd = g_open (f->path, O_WRONLY | O_TRUNC, 0);
  g_assert_cmpint (write (fd, "hello", 5), ==, 5);
  close (fd);
  flash = devsim_flash_open (f->path, DEVSIM_FLASH_READ_WRITE, &error);
  g_assert_null (flash);
  g_assert_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID);
}

/* Run fn in a child that must die of a simulated power loss. */
static void
expect_power_loss (Fixture *f,
                   void   (*fn) (Fixture *f))
{
  int status = 0;
  pid_t pid = fork ();

  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      fn (f);
      _exit (0);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, DEVSIM_EXIT_POWER_LOSS);
}

static void
lose_power_writing (Fixture *f)
{
  g_autoptr(DevsimFlash) flash = devsim_flash_open (f->path, DEVSIM_FLASH_READ_WRITE, NULL);
  guint8 zeros[100] = { 0 };

  devsim_flash_set_power_loss (flash, 3, 42);
  devsim_flash_write (flash, 0, zeros, sizeof zeros, NULL);
}

static void
lose_power_erasing (Fixture *f)
{
  g_autoptr(DevsimFlash) flash = devsim_flash_open (f->path, DEVSIM_FLASH_READ_WRITE, NULL);

  devsim_flash_set_power_loss (flash, 2, 43);
  devsim_flash_erase (flash, 0, NULL);
}

static void
test_power_loss (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DevsimFlash) flash = NULL;
  g_autofree guint8 *zeros = g_malloc0 (SECTOR);
  g_autofree guint8 *buf = g_malloc (SECTOR);
  gsize i;
  gboolean torn_differs = FALSE;

  devsim_flash_free (create (f));

  /* a write of 100 bytes in 16-byte chunks: 3 whole, the 4th torn, the
   * rest never started */
  expect_power_loss (f, lose_power_writing);
  flash = devsim_flash_open (f->path, DEVSIM_FLASH_READ_WRITE, &error);
  g_assert_no_error (error);
  g_assert_true (devsim_flash_read (flash, 0, buf, 128, &error));
  g_assert_true (all_equal (buf, 48, 0x00));
  g_assert_true (all_equal (buf + 64, 64, 0xff));
  for (i = 48; i < 64; i++)
    torn_differs |= buf[i] != 0x00 && buf[i] != 0xff;
  g_assert_true (torn_differs);   /* random bits (seed 42), neither old nor new */

  /* an erase of a programmed sector in 256-byte chunks */
  g_assert_true (devsim_flash_erase (flash, 0, &error));
  g_assert_true (devsim_flash_write (flash, 0, zeros, SECTOR, &error));
  g_clear_pointer (&flash, devsim_flash_free);
  expect_power_loss (f, lose_power_erasing);
  flash = devsim_flash_open (f->path, DEVSIM_FLASH_READ_WRITE, &error);
  g_assert_true (devsim_flash_read (flash, 0, buf, SECTOR, &error));
  g_assert_true (all_equal (buf, 2 * DEVSIM_FLASH_ERASE_CHUNK, 0xff));
  g_assert_false (all_equal (buf + 2 * DEVSIM_FLASH_ERASE_CHUNK, DEVSIM_FLASH_ERASE_CHUNK, 0x00));
  g_assert_false (all_equal (buf + 2 * DEVSIM_FLASH_ERASE_CHUNK, DEVSIM_FLASH_ERASE_CHUNK, 0xff));
  g_assert_true (all_equal (buf + 3 * DEVSIM_FLASH_ERASE_CHUNK,
                            SECTOR - 3 * DEVSIM_FLASH_ERASE_CHUNK, 0x00));
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) \
  g_test_add ("/signet/devsim/flash/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("create-open", test_create_open);
  ADD ("geometry", test_geometry);
  ADD ("nor", test_nor);
  ADD ("range", test_range);
  ADD ("persist", test_persist);
  ADD ("lock", test_lock);
  ADD ("damaged", test_damaged);
  ADD ("power-loss", test_power_loss);
#undef ADD
  return g_test_run ();
}
