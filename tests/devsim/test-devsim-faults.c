/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-devsim-faults: the link fault injection and the frame splitter --
 * each action does exactly what it says, rates hold over many frames, a
 * seed makes it repeatable, and resync bytes are never touched.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "devsim-error.h"
#include "devsim-faults.h"

static const guint8 frame[] = { 0x05, 0x11, 0x22, 0x33, 0x44, 0x02, 0x55, 0x00 };

static DevsimFaults *
make (double   drop,
      double   corrupt,
      double   duplicate,
      guint64  seed)
{
  DevsimFaultConfig c = { drop, corrupt, duplicate, seed };
  g_autoptr(GError) error = NULL;
  DevsimFaults *f = devsim_faults_new (&c, &error);

  g_assert_no_error (error);
  return f;
}

static void
test_rates_checked (void)
{
  static const double bad[][3] = {
    { -0.1, 0, 0 }, { 0, 1.5, 0 }, { 0, 0, -1 }, { 0.5, 0.3, 0.3 },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      DevsimFaultConfig c = { bad[i][0], bad[i][1], bad[i][2], 1 };
      g_autoptr(GError) error = NULL;
      g_autoptr(DevsimFaults) f = devsim_faults_new (&c, &error);

      g_assert_null (f);
      g_assert_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID);
    }
}

static void
test_each_action (void)
{
  g_autoptr(DevsimFaults) none = make (0, 0, 0, 1);
  g_autoptr(DevsimFaults) drop = make (1, 0, 0, 1);
  g_autoptr(DevsimFaults) corrupt = make (0, 1, 0, 1);
  g_autoptr(DevsimFaults) dup = make (0, 0, 1, 1);
  guint i;

  g_assert_false (devsim_faults_enabled (none));
  g_assert_true (devsim_faults_enabled (drop));

  for (i = 0; i < 200; i++)
    {
      g_autoptr(GByteArray) out = g_byte_array_new ();
      guint flipped = 0, j;

      g_assert_cmpint (devsim_faults_apply (none, frame, sizeof frame, out), ==,
                       DEVSIM_FAULT_PASS);
      g_assert_cmpmem (out->data, out->len, frame, sizeof frame);

      g_byte_array_set_size (out, 0);
      g_assert_cmpint (devsim_faults_apply (drop, frame, sizeof frame, out), ==,
                       DEVSIM_FAULT_DROP);
      g_assert_cmpuint (out->len, ==, 0);

      g_assert_cmpint (devsim_faults_apply (dup, frame, sizeof frame, out), ==,
                       DEVSIM_FAULT_DUPLICATE);
      g_assert_cmpuint (out->len, ==, 2 * sizeof frame);
      g_assert_cmpmem (out->data + sizeof frame, sizeof frame, frame, sizeof frame);

      /* exactly one bit, never the delimiter */
      g_byte_array_set_size (out, 0);
      g_assert_cmpint (devsim_faults_apply (corrupt, frame, sizeof frame, out), ==,
                       DEVSIM_FAULT_CORRUPT);
      g_assert_cmpuint (out->len, ==, sizeof frame);
      for (j = 0; j < sizeof frame; j++)
        flipped += (guint) __builtin_popcount (out->data[j] ^ frame[j]);
      g_assert_cmpuint (flipped, ==, 1);
      g_assert_cmpuint (out->data[sizeof frame - 1], ==, 0);
    }

  /* a lone delimiter (resync) always passes */
  {
    g_autoptr(GByteArray) out = g_byte_array_new ();
    guint8 zero = 0;

    g_assert_cmpint (devsim_faults_apply (drop, &zero, 1, out), ==, DEVSIM_FAULT_PASS);
    g_assert_cmpuint (out->len, ==, 1);
  }
}

static void
test_rates_and_seed (void)
{
  g_autoptr(DevsimFaults) a = make (0.2, 0.1, 0.05, 99);
  g_autoptr(DevsimFaults) b = make (0.2, 0.1, 0.05, 99);
  g_autoptr(DevsimFaults) c = make (0.2, 0.1, 0.05, 100);
  guint counts[4] = { 0 };
  gboolean differs = FALSE;
  guint i;

  for (i = 0; i < 20000; i++)
    {
      g_autoptr(GByteArray) oa = g_byte_array_new ();
      g_autoptr(GByteArray) ob = g_byte_array_new ();
      g_autoptr(GByteArray) oc = g_byte_array_new ();
      DevsimFaultAction x = devsim_faults_apply (a, frame, sizeof frame, oa);
      DevsimFaultAction y = devsim_faults_apply (b, frame, sizeof frame, ob);
      DevsimFaultAction z = devsim_faults_apply (c, frame, sizeof frame, oc);

      g_assert_cmpint (x, ==, y);
      g_assert_cmpmem (oa->data, oa->len, ob->data, ob->len);
      differs |= x != z;
      counts[x]++;
    }
  g_assert_true (differs);
  /* 20000 draws: the shares are within a few standard deviations (the
   * seed is fixed, so this is not flaky) */
  g_assert_cmpuint (counts[DEVSIM_FAULT_DROP], >, 3700);
  g_assert_cmpuint (counts[DEVSIM_FAULT_DROP], <, 4300);
  g_assert_cmpuint (counts[DEVSIM_FAULT_CORRUPT], >, 1750);
  g_assert_cmpuint (counts[DEVSIM_FAULT_CORRUPT], <, 2250);
  g_assert_cmpuint (counts[DEVSIM_FAULT_DUPLICATE], >, 800);
  g_assert_cmpuint (counts[DEVSIM_FAULT_DUPLICATE], <, 1200);
}

static void
collect (const guint8 *data,
         gsize         len,
         gpointer      user_data)
{
  GPtrArray *frames = user_data;

  g_ptr_array_add (frames, g_bytes_new (data, len));
}

static void
test_splitter (void)
{
  DevsimFrameSplitter s;
  g_autoptr(GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  static const guint8 stream[] = { 0x00, 0x02, 0x41, 0x00, 0x03, 0x42, 0x43, 0x00, 0x02 };
  g_autofree guint8 *noise = g_malloc (DEVSIM_FRAME_SPLIT_MAX + 10);
  gsize i, len = 0;
  const guint8 *p;

  devsim_frame_splitter_init (&s);
  /* a byte at a time: frames come out whole, delimiter included */
  for (i = 0; i < sizeof stream; i++)
    devsim_frame_splitter_push (&s, stream + i, 1, collect, frames);
  g_assert_cmpuint (frames->len, ==, 3);
  p = g_bytes_get_data (g_ptr_array_index (frames, 0), &len);
  g_assert_cmpmem (p, len, "\x00", 1);
  p = g_bytes_get_data (g_ptr_array_index (frames, 2), &len);
  g_assert_cmpmem (p, len, "\x03\x42\x43\x00", 4);

  /* the tail waits; a reset forgets it */
  devsim_frame_splitter_reset (&s);
  devsim_frame_splitter_push (&s, (const guint8 *) "\x02\x44\x00", 3, collect, frames);
  g_assert_cmpuint (frames->len, ==, 4);
  p = g_bytes_get_data (g_ptr_array_index (frames, 3), &len);
  g_assert_cmpmem (p, len, "\x02\x44\x00", 3);

  /* noise without a delimiter goes on once it is too long to keep */
  memset (noise, 0x55, DEVSIM_FRAME_SPLIT_MAX + 10);
  devsim_frame_splitter_push (&s, noise, DEVSIM_FRAME_SPLIT_MAX + 10, collect, frames);
  g_assert_cmpuint (frames->len, ==, 5);
  devsim_frame_splitter_clear (&s);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/signet/devsim/faults/rates-checked", test_rates_checked);
  g_test_add_func ("/signet/devsim/faults/each-action", test_each_action);
  g_test_add_func ("/signet/devsim/faults/rates-and-seed", test_rates_and_seed);
  g_test_add_func ("/signet/devsim/faults/splitter", test_splitter);
  return g_test_run ();
}
