/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-seg.c: BLE segments (proto/sp-seg.h, docs/ble.md): segmentation at
 * every ATT MTU, reassembly, the window and acknowledgements, go-back-N
 * under loss, duplication and reordering, CRC failures, oversized
 * messages, sequence wrap, RESET, and giving up.
 *
 * Two sp_seg ends (a tool and a device) run over a simulated link with
 * fault knobs and a virtual clock; random choices come from GRand with
 * fixed seeds so a failure reproduces exactly.
 */
#include "config.h"

#include <string.h>
#include <glib.h>

#include "sp-frame.h"
#include "sp-seg.h"

/* ---- a simulated link ---------------------------------------------------- */

typedef struct {
  guint8 data[SP_SEG_MAX];
  gsize len;
} Pkt;

typedef struct {
  GQueue q;            /* of Pkt* */
  double loss, dup, reorder, corrupt;
  guint spread;        /* reorder: up to this many places back (0: 1) */
  guint64 carried;     /* packets put on the link */
  guint64 bytes;
} Chan;

typedef struct {
  sp_seg seg;
  guint8 rxbuf[SP_SEG_RXBUF_SIZE (SP_SEG_MSG_MAX)];
  GPtrArray *out;      /* GBytes queued to send, in order */
  guint acked;         /* of out */
  guint queued;        /* of out, given to sp_seg_send */
  GPtrArray *in;       /* GBytes received */
  guint max_outstanding;
} End;

typedef struct {
  GRand *rand;
  guint32 now;
  End tool, dev;
  Chan to_dev, to_tool;
  guint per_step;      /* packets a direction carries per step */
} Sim;

static void
end_init (End *e, sp_seg_role role, guint16 mtu, guint8 window, guint32 now)
{
  sp_seg_init (&e->seg, role, mtu, window, e->rxbuf, sizeof e->rxbuf, now);
  e->out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  e->in = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  e->acked = e->queued = 0;
  e->max_outstanding = 0;
}

static void
end_clear (End *e)
{
  g_ptr_array_unref (e->out);
  g_ptr_array_unref (e->in);
}

static void
sim_init (Sim *s, guint32 seed, guint16 mtu, guint8 window)
{
  memset (s, 0, sizeof *s);
  s->rand = g_rand_new_with_seed (seed);
  s->now = 1000;
  s->per_step = 4;
  end_init (&s->tool, SP_SEG_ROLE_TOOL, mtu, window, s->now);
  end_init (&s->dev, SP_SEG_ROLE_DEVICE, mtu, window, s->now);
  g_queue_init (&s->to_dev.q);
  g_queue_init (&s->to_tool.q);
}

static void
sim_clear (Sim *s)
{
  g_queue_clear_full (&s->to_dev.q, g_free);
  g_queue_clear_full (&s->to_tool.q, g_free);
  end_clear (&s->tool);
  end_clear (&s->dev);
  g_rand_free (s->rand);
}

static gboolean
chance (Sim *s, double p)
{
  return p > 0 && g_rand_double (s->rand) < p;
}

static void
chan_push (Sim *s, Chan *c, const guint8 *data, gsize len)
{
  Pkt *p;

  c->carried++;
  c->bytes += len;
  if (chance (s, c->loss))
    return;
  p = g_new (Pkt, 1);
  memcpy (p->data, data, len);
  p->len = len;
  /* Damage only DATA's stream bytes: BLE's link layer checks the rest;
   * this is what the message CRC is for. */
  if (len > SP_SEG_FIRST_HDR && !(data[0] & 0x80) && chance (s, c->corrupt))
    p->data[SP_SEG_FIRST_HDR + g_rand_int_range (s->rand, 0, (gint32) (len - SP_SEG_FIRST_HDR))] ^=
      (guint8) g_rand_int_range (s->rand, 1, 256);
  if (chance (s, c->reorder) && c->q.length > 0)
    {
      guint back = c->spread > 1 ? (guint) g_rand_int_range (s->rand, 1, (gint32) c->spread + 1) : 1;

      back = MIN (back, c->q.length);
      g_queue_push_nth (&c->q, p, (gint) (c->q.length - back));
    }
  else
    g_queue_push_tail (&c->q, p);
  if (chance (s, c->dup))
    g_queue_push_tail (&c->q, g_memdup2 (p, sizeof *p));
}

/* Queue what fits; poll everything sendable onto the link. A device
 * queues answers only once the tool's RESET is through (a RESET drops
 * what it had queued, as docs/ble.md says). */
static gboolean
end_pump (Sim *s, End *e, Chan *c)
{
  guint8 buf[SP_SEG_MAX];
  gboolean any = FALSE;
  gsize n;

  while (e->queued < e->out->len &&
         (e == &s->tool || sp_seg_get_state (&s->tool.seg) == SP_SEG_STATE_OPEN))
    {
      GBytes *m = g_ptr_array_index (e->out, e->queued);
      gsize len;
      const guint8 *p = g_bytes_get_data (m, &len);

      if (sp_seg_send (&e->seg, p, len) != SP_SEG_OK)
        break;
      e->queued++;
    }
  while ((n = sp_seg_poll (&e->seg, s->now, buf, sizeof buf)) > 0)
    {
      guint outstanding = e->seg.tx_high - e->seg.tx_base;

      g_assert_cmpuint (n, <=, (gsize) e->seg.mtu - 3);
      e->max_outstanding = MAX (e->max_outstanding, outstanding);
      g_assert_cmpuint (outstanding, <=, MIN (e->seg.window, e->seg.peer_window));
      chan_push (s, c, buf, n);
      any = TRUE;
    }
  return any;
}

static gboolean
end_deliver (Sim *s, End *e, Chan *c, guint max)
{
  gboolean any = FALSE;

  for (guint i = 0; i < max && c->q.length > 0; i++)
    {
      Pkt *p = g_queue_pop_head (&c->q);
      gsize mlen = 0;
      unsigned ev = sp_seg_input (&e->seg, s->now, p->data, p->len, &mlen);

      if (ev & SP_SEG_EV_MESSAGE)
        g_ptr_array_add (e->in, g_bytes_new (e->rxbuf, mlen));
      if (ev & SP_SEG_EV_ACKED)
        e->acked += sp_seg_take_sent (&e->seg);
      g_free (p);
      any = TRUE;
    }
  return any;
}

static gboolean
end_idle (End *e)
{
  return e->acked == e->out->len;
}

/* Run until both ends have every message acknowledged (or an end
 * failed). Returns FALSE if it failed. */
static gboolean
sim_run (Sim *s, guint max_steps)
{
  for (guint step = 0; step < max_steps; step++)
    {
      gboolean any = FALSE;
      guint32 d1 = 0, d2 = 0;
      gboolean h1, h2;

      any |= end_pump (s, &s->tool, &s->to_dev);
      any |= end_pump (s, &s->dev, &s->to_tool);
      any |= end_deliver (s, &s->dev, &s->to_dev, s->per_step);
      any |= end_deliver (s, &s->tool, &s->to_tool, s->per_step);
      if (sp_seg_get_state (&s->tool.seg) == SP_SEG_STATE_FAILED ||
          sp_seg_get_state (&s->dev.seg) == SP_SEG_STATE_FAILED)
        return FALSE;
      if (sp_seg_get_state (&s->tool.seg) == SP_SEG_STATE_OPEN && end_idle (&s->tool) &&
          end_idle (&s->dev) && s->to_dev.q.length == 0 && s->to_tool.q.length == 0)
        return TRUE;
      s->now += 1;
      if (any)
        continue;
      /* Nothing moves: jump to the next timer. */
      h1 = sp_seg_next_deadline (&s->tool.seg, &d1);
      h2 = sp_seg_next_deadline (&s->dev.seg, &d2);
      g_assert_true (h1 || h2); /* otherwise stuck for ever */
      if (h1 && (gint32) (d1 - s->now) > 0)
        s->now = d1;
      if (h2 && (gint32) (d2 - s->now) > 0 && (!h1 || (gint32) (d2 - d1) < 0))
        s->now = d2;
    }
  g_assert_not_reached ();
  return FALSE;
}

static GBytes *
make_message (Sim *s, guint index, gsize len)
{
  guint8 *p = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    p[i] = (guint8) g_rand_int (s->rand);
  if (len >= 4)
    memcpy (p, &index, 4);
  return g_bytes_new_take (p, len);
}

static void
check_delivered (End *from, End *to)
{
  g_assert_cmpuint (to->in->len, ==, from->out->len);
  for (guint i = 0; i < from->out->len; i++)
    g_assert_true (g_bytes_equal (g_ptr_array_index (from->out, i), g_ptr_array_index (to->in, i)));
}

/* ---- tests --------------------------------------------------------------- */

static void
test_count (void)
{
  /* MTU 23: 20-byte segments; the first carries 16 stream bytes, the
   * others 18. */
  g_assert_cmpuint (sp_seg_count (23, 1), ==, 1);
  g_assert_cmpuint (sp_seg_count (23, 12), ==, 1);
  g_assert_cmpuint (sp_seg_count (23, 13), ==, 2);
  g_assert_cmpuint (sp_seg_count (23, 30), ==, 2);
  g_assert_cmpuint (sp_seg_count (23, 31), ==, 3);
  g_assert_cmpuint (sp_seg_count (23, 2048), ==, 1 + (2052 - 16 + 17) / 18);
  g_assert_cmpuint (sp_seg_single_max (23), ==, 12);
  g_assert_cmpuint (sp_seg_count (247, 2048), ==, 1 + (2052 - 240 + 241) / 242);
  g_assert_cmpuint (sp_seg_count (517, 504), ==, 1);
  g_assert_cmpuint (sp_seg_count (517, 505), ==, 2);
}

/* Every MTU, both ways, sizes around the segment boundaries. */
static void
test_every_mtu (void)
{
  for (guint mtu = SP_SEG_ATT_MTU_MIN; mtu <= SP_SEG_ATT_MTU_MAX; mtu++)
    {
      Sim s;
      gsize c1 = mtu - 3 - 4, cn = mtu - 3 - 2;
      gsize sizes[] = { 1, c1 - 4, c1 - 3, c1 + cn - 4, c1 + cn - 3, 777, SP_SEG_MSG_MAX };
      guint64 segs = 0;

      sim_init (&s, mtu, (guint16) mtu, 0);
      for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
        {
          gsize len = CLAMP (sizes[i], 1, SP_SEG_MSG_MAX);

          g_ptr_array_add (s.tool.out, make_message (&s, i, len));
          g_ptr_array_add (s.dev.out, make_message (&s, 100 + i, len));
          segs += sp_seg_count ((guint16) mtu, len);
        }
      g_assert_true (sim_run (&s, 100000));
      check_delivered (&s.tool, &s.dev);
      check_delivered (&s.dev, &s.tool);
      /* No loss: every segment went exactly once. */
      g_assert_cmpuint (s.tool.seg.stats.segments_sent, ==, segs);
      g_assert_cmpuint (s.dev.seg.stats.segments_sent, ==, segs);
      g_assert_cmpuint (s.tool.seg.stats.segments_resent, ==, 0);
      g_assert_cmpuint (s.dev.seg.stats.bad_crc + s.dev.seg.stats.bad_length, ==, 0);
      sim_clear (&s);
    }
}

typedef struct {
  double loss, dup, reorder, corrupt;
} Faults;

static void
run_faulty (guint32 seed, guint16 mtu, guint8 window, const Faults *f, guint n_msgs,
            gboolean expect_all)
{
  Sim s;

  sim_init (&s, seed, mtu, window);
  sp_seg_set_timeouts (&s.tool.seg, 50, 30);
  sp_seg_set_timeouts (&s.dev.seg, 50, 30);
  s.to_dev.loss = s.to_tool.loss = f->loss;
  s.to_dev.dup = s.to_tool.dup = f->dup;
  s.to_dev.reorder = s.to_tool.reorder = f->reorder;
  s.to_dev.corrupt = s.to_tool.corrupt = f->corrupt;
  for (guint i = 0; i < n_msgs; i++)
    {
      gsize len = (gsize) g_rand_int_range (s.rand, 1, SP_SEG_MSG_MAX + 1);

      if (i % 3 == 0)
        len = (gsize) g_rand_int_range (s.rand, 1, 40);
      g_ptr_array_add (s.tool.out, make_message (&s, i, len));
      if (i % 2 == 0)
        g_ptr_array_add (s.dev.out, make_message (&s, 1000 + i, len));
    }
  g_assert_true (sim_run (&s, 2000000));
  if (expect_all)
    {
      check_delivered (&s.tool, &s.dev);
      check_delivered (&s.dev, &s.tool);
    }
  else
    {
      /* What arrives is whole and in order: a subsequence of what was sent. */
      End *pairs[2][2] = { { &s.tool, &s.dev }, { &s.dev, &s.tool } };

      for (guint k = 0; k < 2; k++)
        {
          End *from = pairs[k][0], *to = pairs[k][1];
          guint j = 0;

          for (guint i = 0; i < to->in->len; i++)
            {
              while (j < from->out->len &&
                     !g_bytes_equal (g_ptr_array_index (from->out, j), g_ptr_array_index (to->in, i)))
                j++;
              g_assert_cmpuint (j, <, from->out->len);
              j++;
            }
        }
      g_assert_cmpuint (s.dev.seg.stats.bad_crc + s.tool.seg.stats.bad_crc, >, 0);
    }
  g_assert_cmpuint (s.tool.max_outstanding, <=, MIN (window ? window : SP_SEG_WINDOW_DEFAULT,
                                                     SP_SEG_WINDOW_MAX));
  if (f->loss > 0)
    g_assert_cmpuint (s.tool.seg.stats.segments_resent + s.dev.seg.stats.segments_resent, >, 0);
  if (f->dup > 0)
    g_assert_cmpuint (s.tool.seg.stats.duplicates + s.dev.seg.stats.duplicates, >, 0);
  if (f->reorder > 0)
    g_assert_cmpuint (s.tool.seg.stats.out_of_order + s.dev.seg.stats.out_of_order, >, 0);
  sim_clear (&s);
}

static void
test_loss (void)
{
  const Faults f = { .loss = 0.1 };
  const Faults heavy = { .loss = 0.35 };
  const guint16 mtus[] = { 23, 27, 185, 247, 517 };

  for (guint i = 0; i < G_N_ELEMENTS (mtus); i++)
    for (guint32 seed = 1; seed <= 4; seed++)
      run_faulty (seed, mtus[i], 0, &f, 20, TRUE);
  run_faulty (99, 23, 8, &heavy, 10, TRUE);
  run_faulty (98, 185, 64, &heavy, 10, TRUE);
}

static void
test_duplication (void)
{
  const Faults f = { .dup = 0.2 };

  for (guint32 seed = 1; seed <= 6; seed++)
    run_faulty (seed, seed % 2 ? 23 : 247, 0, &f, 20, TRUE);
}

static void
test_reordering (void)
{
  const Faults f = { .reorder = 0.15 };

  for (guint32 seed = 1; seed <= 6; seed++)
    run_faulty (seed, seed % 2 ? 23 : 185, 0, &f, 20, TRUE);
}

static void
test_all_faults (void)
{
  const Faults f = { .loss = 0.1, .dup = 0.1, .reorder = 0.1 };

  for (guint32 seed = 10; seed <= 30; seed++)
    run_faulty (seed, (guint16) (23 + (seed * 37) % 495), (guint8) (seed % 64), &f, 12, TRUE);
}

static void
test_crc_failure (void)
{
  const Faults f = { .corrupt = 0.02 };

  run_faulty (5, 23, 0, &f, 40, FALSE);
  run_faulty (6, 247, 0, &f, 40, FALSE);
}

/* Hand-made segments into a device end. */
static unsigned
feed (sp_seg *s, const guint8 *seg, gsize len, gsize *mlen)
{
  return sp_seg_input (s, 0, seg, len, mlen);
}

static void
test_crc_single (void)
{
  guint8 rxbuf[SP_SEG_RXBUF_SIZE (SP_SEG_MSG_MAX)];
  sp_seg s;
  guint8 seg[16] = { SP_SEG_T_ONLY, 0, 3, 0, 'a', 'b', 'c' };
  guint32 crc = sp_crc32_update (0, "abc", 3);
  gsize mlen = 0;
  guint8 out[8];

  sp_seg_init (&s, SP_SEG_ROLE_DEVICE, 23, 0, rxbuf, sizeof rxbuf, 0);
  memcpy (seg + 7, &crc, 4); /* little-endian host */
  seg[7] ^= 1;
  g_assert_cmpuint (feed (&s, seg, 11, &mlen), ==, SP_SEG_EV_DROPPED);
  g_assert_cmpuint (s.stats.bad_crc, ==, 1);
  /* It was acknowledged all the same (the link moves on). */
  g_assert_cmpuint (sp_seg_poll (&s, 0, out, sizeof out), ==, 3);
  g_assert_cmpuint (out[0], ==, SP_SEG_T_ACK);
  g_assert_cmpuint (out[1], ==, 1);
  seg[1] = 1;
  seg[7] ^= 1;
  g_assert_cmpuint (feed (&s, seg, 11, &mlen), ==, SP_SEG_EV_MESSAGE);
  g_assert_cmpuint (mlen, ==, 3);
  g_assert_cmpmem (rxbuf, 3, "abc", 3);
}

static void
test_oversize (void)
{
  guint8 rxbuf[SP_SEG_RXBUF_SIZE (SP_SEG_MSG_MAX)];
  guint8 big[SP_SEG_MSG_MAX + 1] = { 0 };
  guint8 seg[SP_SEG_MAX + 1] = { 0 };
  sp_seg s;
  gsize mlen;

  sp_seg_init (&s, SP_SEG_ROLE_DEVICE, 517, 0, rxbuf, sizeof rxbuf, 0);
  g_assert_cmpint (sp_seg_send (&s, big, sizeof big), ==, SP_SEG_ERR_TOO_LARGE);
  g_assert_cmpint (sp_seg_send (&s, big, 0), ==, SP_SEG_ERR_TOO_LARGE);
  g_assert_cmpint (sp_seg_send (&s, big, SP_SEG_MSG_MAX), ==, SP_SEG_OK);

  /* A segment over the largest ATT value. */
  seg[0] = SP_SEG_T_FIRST;
  g_assert_cmpuint (feed (&s, seg, SP_SEG_MAX + 1, &mlen), ==, SP_SEG_EV_DROPPED);
  g_assert_cmpuint (s.stats.bad_segment, ==, 1);
  g_assert_cmpuint (s.rx_next, ==, 0);

  /* A message announcing 2049 bytes: its segments are taken and dropped. */
  seg[1] = 0;
  seg[2] = (SP_SEG_MSG_MAX + 1) & 0xff;
  seg[3] = (SP_SEG_MSG_MAX + 1) >> 8;
  g_assert_cmpuint (feed (&s, seg, SP_SEG_MAX, &mlen), ==, 0);
  g_assert_cmpuint (s.stats.oversize, ==, 1);
  for (guint i = 1; i < 4; i++)
    {
      seg[0] = SP_SEG_T_MIDDLE;
      seg[1] = (guint8) i;
      g_assert_cmpuint (feed (&s, seg, SP_SEG_MAX, &mlen), ==, 0);
    }
  seg[0] = SP_SEG_T_LAST;
  seg[1] = 4;
  g_assert_cmpuint (feed (&s, seg, 100, &mlen), ==, SP_SEG_EV_DROPPED);
  g_assert_cmpuint (s.rx_next, ==, 5);

  /* A smaller receive buffer takes less. */
  {
    guint8 small[64];
    sp_seg t;

    sp_seg_init (&t, SP_SEG_ROLE_DEVICE, 517, 0, small, sizeof small, 0);
    seg[0] = SP_SEG_T_ONLY;
    seg[1] = 0;
    seg[2] = 61;
    seg[3] = 0;
    g_assert_cmpuint (feed (&t, seg, 4 + 65, &mlen), ==, SP_SEG_EV_DROPPED);
    g_assert_cmpuint (t.stats.oversize, ==, 1);
  }

  /* Stream longer than len + 4; a last without a first; unknown types;
   * a short first; a control segment of the wrong size. */
  {
    sp_seg t;
    guint8 a[] = { SP_SEG_T_FIRST, 0, 2, 0, 1, 2, 3, 4, 5 };
    guint8 b[] = { SP_SEG_T_LAST, 1, 6, 7 };
    guint8 c[] = { SP_SEG_T_LAST, 2, 1 };
    guint8 d[] = { 0x04, 3, 0, 0 };
    guint8 e[] = { SP_SEG_T_FIRST, 3, 1 };
    guint8 f[] = { SP_SEG_T_ACK, 0 };
    guint8 g[] = { 0x90, 0, 0 };

    sp_seg_init (&t, SP_SEG_ROLE_DEVICE, 23, 0, rxbuf, sizeof rxbuf, 0);
    g_assert_cmpuint (feed (&t, a, sizeof a, &mlen), ==, 0);
    g_assert_cmpuint (feed (&t, b, sizeof b, &mlen), ==, SP_SEG_EV_DROPPED);
    g_assert_cmpuint (t.stats.bad_length, ==, 1);
    g_assert_cmpuint (feed (&t, c, sizeof c, &mlen), ==, SP_SEG_EV_DROPPED);
    g_assert_cmpuint (t.stats.bad_length, ==, 2);
    g_assert_cmpuint (feed (&t, d, sizeof d, &mlen), ==, SP_SEG_EV_DROPPED);
    g_assert_cmpuint (feed (&t, e, sizeof e, &mlen), ==, SP_SEG_EV_DROPPED);
    g_assert_cmpuint (feed (&t, f, sizeof f, &mlen), ==, SP_SEG_EV_DROPPED);
    g_assert_cmpuint (feed (&t, g, sizeof g, &mlen), ==, SP_SEG_EV_DROPPED);
    g_assert_cmpuint (t.stats.bad_segment, ==, 4);
    g_assert_cmpuint (feed (&t, a, 1, &mlen), ==, SP_SEG_EV_DROPPED);
  }
}

/* Thousands of segments: the 8-bit seq wraps many times, with loss. */
static void
test_seq_wrap (void)
{
  const Faults none = { 0 };
  const Faults f = { .loss = 0.05, .dup = 0.05, .reorder = 0.05 };
  Sim s;

  sim_init (&s, 7, 23, SP_SEG_WINDOW_MAX);
  for (guint i = 0; i < 30; i++)
    g_ptr_array_add (s.tool.out, make_message (&s, i, SP_SEG_MSG_MAX));
  g_assert_true (sim_run (&s, 1000000));
  check_delivered (&s.tool, &s.dev);
  g_assert_cmpuint (s.tool.seg.stats.segments_sent, >, 10 * 256);
  g_assert_cmpuint (s.tool.max_outstanding, ==, SP_SEG_WINDOW_MAX);
  sim_clear (&s);
  run_faulty (8, 23, SP_SEG_WINDOW_MAX, &none, 40, TRUE);
  run_faulty (9, 23, SP_SEG_WINDOW_MAX, &f, 40, TRUE);
}

/* An ACK every window / 2 segments and at each message's end. */
static void
test_ack_cadence (void)
{
  guint8 rxbuf[SP_SEG_RXBUF_SIZE (SP_SEG_MSG_MAX)];
  guint8 msg[SP_SEG_MSG_MAX];
  guint8 seg[SP_SEG_MAX], out[8];
  sp_seg tx, rx;
  guint acks = 0, data = 0;
  gsize n, mlen;

  memset (msg, 0x5a, sizeof msg);
  sp_seg_init (&tx, SP_SEG_ROLE_DEVICE, 23, 16, NULL, 0, 0);
  sp_seg_init (&rx, SP_SEG_ROLE_DEVICE, 23, 16, rxbuf, sizeof rxbuf, 0);
  g_assert_cmpint (sp_seg_send (&tx, msg, sizeof msg), ==, SP_SEG_OK);
  for (;;)
    {
      n = sp_seg_poll (&tx, 0, seg, sizeof seg);
      if (n == 0)
        break;
      data++;
      sp_seg_input (&rx, 0, seg, n, &mlen);
      while ((n = sp_seg_poll (&rx, 0, out, sizeof out)) > 0)
        {
          g_assert_cmpuint (out[0], ==, SP_SEG_T_ACK);
          acks++;
          sp_seg_input (&tx, 0, out, n, NULL);
        }
    }
  g_assert_cmpuint (data, ==, sp_seg_count (23, sizeof msg));
  /* 115 segments: one ACK per 8, and one at the end. */
  g_assert_cmpuint (acks, ==, data / 8 + (data % 8 != 0));
  g_assert_cmpuint (sp_seg_take_sent (&tx), ==, 1);
  g_assert_cmpuint (rx.stats.messages_received, ==, 1);
}

/* A gap gives one NAK, and the sender goes back. */
static void
test_nak (void)
{
  guint8 rxbuf[SP_SEG_RXBUF_SIZE (SP_SEG_MSG_MAX)];
  guint8 msg[200];
  guint8 segs[20][SP_SEG_MAX];
  gsize lens[20], n, mlen = 0;
  guint8 out[8];
  sp_seg tx, rx;
  guint count = 0;

  for (guint i = 0; i < sizeof msg; i++)
    msg[i] = (guint8) i;
  sp_seg_init (&tx, SP_SEG_ROLE_DEVICE, 23, 32, NULL, 0, 0);
  sp_seg_init (&rx, SP_SEG_ROLE_DEVICE, 23, 32, rxbuf, sizeof rxbuf, 0);
  sp_seg_send (&tx, msg, sizeof msg);
  while ((n = sp_seg_poll (&tx, 0, segs[count], SP_SEG_MAX)) > 0)
    lens[count++] = n;
  g_assert_cmpuint (count, ==, sp_seg_count (23, sizeof msg));
  /* Lose segment 2. */
  for (guint i = 0; i < count; i++)
    if (i != 2)
      sp_seg_input (&rx, 0, segs[i], lens[i], &mlen);
  g_assert_cmpuint (rx.stats.out_of_order, ==, count - 3);
  g_assert_cmpuint (sp_seg_poll (&rx, 0, out, sizeof out), ==, 3);
  g_assert_cmpuint (out[0], ==, SP_SEG_T_NAK);
  g_assert_cmpuint (out[1], ==, 2);
  g_assert_cmpuint (sp_seg_poll (&rx, 0, out, sizeof out), ==, 0); /* once per gap */
  sp_seg_input (&tx, 0, out, 3, NULL);
  g_assert_cmpuint (tx.tx_next, ==, 2);
  sp_seg_input (&tx, 0, out, 3, NULL); /* the same NAK again: no second go-back */
  count = 0;
  while ((n = sp_seg_poll (&tx, 0, segs[count], SP_SEG_MAX)) > 0)
    {
      unsigned ev = sp_seg_input (&rx, 0, segs[count], n, &mlen);

      if (ev & SP_SEG_EV_MESSAGE)
        g_assert_cmpmem (rxbuf, mlen, msg, sizeof msg);
      count++;
    }
  g_assert_cmpuint (count, ==, sp_seg_count (23, sizeof msg) - 2);
  g_assert_cmpuint (rx.stats.messages_received, ==, 1);
  g_assert_cmpuint (tx.stats.segments_resent, ==, count);
}

/* Reordering as BlueZ's EATT bearers make it (docs/ble.md "Reordering"):
 * the segments of messages arrive with neighbours swapped and some a few
 * places late; the receiver keeps the early MIDDLE and LAST segments, so
 * every message is delivered whole, once, in order, and little is sent
 * again: only a FIRST that overtook the previous message's LAST (not
 * kept: there is no room for a second message) comes again, after a NAK
 * or a timeout. */
static void
test_reorder_kept (void)
{
  static guint8 rxbuf[SP_SEG_RXBUF_SIZE (SP_SEG_MSG_MAX)];
  const guint16 mtus[] = { 23, 185, 247 };

  for (guint mi = 0; mi < G_N_ELEMENTS (mtus); mi++)
    {
      g_autoptr(GRand) rand = g_rand_new_with_seed (mi + 1);
      g_autoptr(GPtrArray) segs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      g_autoptr(GPtrArray) msgs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      guint8 out[SP_SEG_MAX];
      sp_seg tx, rx;
      guint got = 0, rounds = 0;
      guint32 now = 0;
      gsize n, mlen = 0;

      sp_seg_init (&tx, SP_SEG_ROLE_DEVICE, mtus[mi], 32, NULL, 0, 0);
      sp_seg_init (&rx, SP_SEG_ROLE_DEVICE, mtus[mi], 32, rxbuf, sizeof rxbuf, 0);
      for (guint i = 0; i < 6; i++)
        {
          gsize len = i % 2 ? 1916 : (gsize) g_rand_int_range (rand, 1, 600);
          guint8 *p = g_malloc (len);

          for (gsize j = 0; j < len; j++)
            p[j] = (guint8) g_rand_int (rand);
          g_ptr_array_add (msgs, g_bytes_new_take (p, len));
          g_assert_cmpint (sp_seg_send (&tx, g_bytes_get_data (msgs->pdata[i], NULL), len), ==,
                           SP_SEG_OK);
        }
      /* One window at a time, shuffled a little, as the bearers do. */
      while (got < msgs->len || sp_seg_queued (&tx) > 0)
        {
          g_assert_cmpuint (++rounds, <, 1000);
          now += 100;
          g_ptr_array_set_size (segs, 0);
          while ((n = sp_seg_poll (&tx, now, out, sizeof out)) > 0)
            if (out[0] < 0x80)
              g_ptr_array_add (segs, g_bytes_new (out, n));
          for (guint i = 0; i + 1 < segs->len; i++)
            if (g_rand_int_range (rand, 0, 3) == 0)
              {
                guint r = (guint) g_rand_int_range (rand, 1, 4);
                guint j = MIN (segs->len - 1, i + r);
                gpointer t = segs->pdata[i];

                segs->pdata[i] = segs->pdata[j];
                segs->pdata[j] = t;
              }
          for (guint i = 0; i < segs->len; i++)
            {
              gsize len;
              const guint8 *p = g_bytes_get_data (segs->pdata[i], &len);
              unsigned ev = sp_seg_input (&rx, now, p, len, &mlen);

              if (ev & SP_SEG_EV_MESSAGE)
                {
                  g_assert_cmpuint (got, <, msgs->len);
                  g_assert_cmpmem (rxbuf, mlen, g_bytes_get_data (msgs->pdata[got], NULL),
                                   g_bytes_get_size (msgs->pdata[got]));
                  got++;
                }
            }
          /* the receiver's acknowledgements back to the sender */
          while ((n = sp_seg_poll (&rx, now, out, sizeof out)) > 0)
            if (sp_seg_input (&tx, now, out, n, NULL) & SP_SEG_EV_ACKED)
              sp_seg_take_sent (&tx);
        }
      g_assert_cmpuint (got, ==, msgs->len);
      g_assert_cmpuint (rx.stats.out_of_order, >, 0);
      g_assert_cmpuint (rx.stats.bad_crc + rx.stats.bad_length, ==, 0);
      /* go-back-N without keeping sends about a window again for each
       * gap; what is sent again now is a FIRST that overtook a LAST and
       * what followed it until the NAK */
      if (mtus[mi] == 23)
        g_assert_cmpuint (tx.stats.segments_resent * 2, <, rx.stats.out_of_order);
      g_test_message ("MTU %u: %" G_GUINT64_FORMAT " segments of %" G_GUINT64_FORMAT
                      " out of order, %" G_GUINT64_FORMAT " sent again", mtus[mi],
                      rx.stats.out_of_order, tx.stats.segments_sent, tx.stats.segments_resent);
    }
}

/* The tool's RESET: retried, then the device drops what it had queued. */
static void
test_reset (void)
{
  guint8 rxbuf[SP_SEG_RXBUF_SIZE (SP_SEG_MSG_MAX)];
  guint8 rxbuf2[SP_SEG_RXBUF_SIZE (SP_SEG_MSG_MAX)];
  guint8 out[SP_SEG_MAX];
  sp_seg tool, dev;
  gsize n;
  unsigned ev;
  guint32 deadline = 0;

  sp_seg_init (&tool, SP_SEG_ROLE_TOOL, 23, 20, rxbuf, sizeof rxbuf, 0);
  sp_seg_init (&dev, SP_SEG_ROLE_DEVICE, 23, 10, rxbuf2, sizeof rxbuf2, 0);
  g_assert_cmpint (sp_seg_send (&tool, "hello", 5), ==, SP_SEG_OK);
  g_assert_cmpint (sp_seg_send (&dev, "stale", 5), ==, SP_SEG_OK);
  n = sp_seg_poll (&tool, 0, out, sizeof out);
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpuint (out[0], ==, SP_SEG_T_RESET);
  g_assert_cmpuint (out[2], ==, 20);
  g_assert_cmpuint (sp_seg_poll (&tool, 10, out, sizeof out), ==, 0); /* no data before open */
  g_assert_true (sp_seg_next_deadline (&tool, &deadline));
  g_assert_cmpuint (deadline, ==, SP_SEG_RTO_DEFAULT);
  /* Lost: sent again after the RTO. */
  n = sp_seg_poll (&tool, SP_SEG_RTO_DEFAULT, out, sizeof out);
  g_assert_cmpuint (n, ==, 3);
  ev = sp_seg_input (&dev, 0, out, n, NULL);
  g_assert_cmpuint (ev, ==, SP_SEG_EV_RESET | SP_SEG_EV_ACKED);
  g_assert_cmpuint (sp_seg_take_sent (&dev), ==, 1);
  g_assert_cmpuint (sp_seg_queued (&dev), ==, 0);
  g_assert_cmpuint (dev.peer_window, ==, 20);
  n = sp_seg_poll (&dev, 0, out, sizeof out);
  g_assert_cmpuint (out[0], ==, SP_SEG_T_RESET_ACK);
  g_assert_cmpuint (out[1], ==, tool.reset_id);
  g_assert_cmpuint (sp_seg_input (&tool, 0, out, n, NULL), ==, SP_SEG_EV_OPEN);
  g_assert_cmpuint (sp_seg_input (&tool, 0, out, n, NULL), ==, 0); /* a late copy */
  g_assert_cmpuint (tool.peer_window, ==, 10);
  n = sp_seg_poll (&tool, 600, out, sizeof out);
  g_assert_cmpuint (out[0], ==, SP_SEG_T_ONLY);
  g_assert_cmpuint (sp_seg_handed (&tool), ==, 1);
  g_assert_cmpuint (sp_seg_queued (&tool), ==, 1);
  /* A copy of the same RESET later: answered, but nothing is reset. */
  {
    guint8 r[3] = { SP_SEG_T_RESET, tool.reset_id, 20 };
    guint8 d[] = { SP_SEG_T_ONLY, 0, 1, 0, 'x', 0, 0, 0, 0 };
    guint32 crc = sp_crc32_update (0, "x", 1);

    memcpy (d + 5, &crc, 4);
    g_assert_cmpuint (sp_seg_input (&dev, 0, d, sizeof d, NULL), ==, SP_SEG_EV_MESSAGE);
    g_assert_cmpint (sp_seg_send (&dev, "answer", 6), ==, SP_SEG_OK);
    g_assert_cmpuint (sp_seg_input (&dev, 0, r, 3, NULL), ==, 0);
    g_assert_cmpuint (dev.rx_next, ==, 1);
    g_assert_cmpuint (sp_seg_queued (&dev), ==, 1);
    g_assert_cmpuint (sp_seg_poll (&dev, 0, out, sizeof out), ==, 3);
    g_assert_cmpuint (out[0], ==, SP_SEG_T_RESET_ACK);
    /* A new id resets. */
    r[1]++;
    g_assert_cmpuint (sp_seg_input (&dev, 0, r, 3, NULL), ==, SP_SEG_EV_RESET | SP_SEG_EV_ACKED);
    g_assert_cmpuint (dev.rx_next, ==, 0);
  }
  /* A tool never takes RESET; a device never takes RESET_ACK. */
  out[0] = SP_SEG_T_RESET;
  out[1] = 0;
  out[2] = 5;
  g_assert_cmpuint (sp_seg_input (&tool, 0, out, 3, NULL), ==, SP_SEG_EV_DROPPED);
  out[0] = SP_SEG_T_RESET_ACK;
  g_assert_cmpuint (sp_seg_input (&dev, 0, out, 3, NULL), ==, SP_SEG_EV_DROPPED);
}

/* A silent peer: the sender gives up after max_retries timeouts. */
static void
test_give_up (void)
{
  guint8 out[SP_SEG_MAX];
  sp_seg tool, dev;
  guint32 now = 0, deadline;
  guint sends = 0;

  sp_seg_init (&tool, SP_SEG_ROLE_TOOL, 23, 0, NULL, 0, now);
  sp_seg_set_timeouts (&tool, 100, 3);
  while (sp_seg_get_state (&tool) == SP_SEG_STATE_SYNC)
    {
      if (sp_seg_poll (&tool, now, out, sizeof out) > 0)
        sends++;
      if (!sp_seg_next_deadline (&tool, &deadline))
        {
          sp_seg_poll (&tool, now, out, sizeof out);
          continue;
        }
      now = deadline;
    }
  g_assert_cmpint (sp_seg_get_state (&tool), ==, SP_SEG_STATE_FAILED);
  g_assert_cmpuint (sends, ==, 4);
  g_assert_false (sp_seg_next_deadline (&tool, &deadline));
  g_assert_cmpint (sp_seg_send (&tool, "x", 1), ==, SP_SEG_ERR_FAILED);

  sp_seg_init (&dev, SP_SEG_ROLE_DEVICE, 23, 0, NULL, 0, 0);
  sp_seg_set_timeouts (&dev, 100, 2);
  sp_seg_send (&dev, "abc", 3);
  now = 0;
  sends = 0;
  while (sp_seg_get_state (&dev) == SP_SEG_STATE_OPEN)
    {
      while (sp_seg_poll (&dev, now, out, sizeof out) > 0)
        sends++;
      if (sp_seg_next_deadline (&dev, &deadline))
        now = deadline;
      else
        sp_seg_poll (&dev, now, out, sizeof out);
    }
  g_assert_cmpuint (sends, ==, 3);
  g_assert_cmpuint (dev.stats.timeouts, ==, 3);
  /* Time wraps at 2^32 without harm. */
  sp_seg_init (&dev, SP_SEG_ROLE_DEVICE, 23, 0, NULL, 0, 0);
  sp_seg_send (&dev, "abc", 3);
  g_assert_cmpuint (sp_seg_poll (&dev, G_MAXUINT32 - 10, out, sizeof out), >, 0);
  g_assert_cmpuint (sp_seg_poll (&dev, 5, out, sizeof out), ==, 0);
  g_assert_cmpuint (sp_seg_poll (&dev, G_MAXUINT32 - 10 + SP_SEG_RTO_DEFAULT, out, sizeof out), >, 0);
  g_assert_cmpuint (dev.stats.segments_resent, ==, 1);
}

/* Many full-size messages both ways over a link that loses, duplicates
 * and reorders every kind of segment (DATA, ACK, NAK, RESET, RESET_ACK),
 * with the real timeouts (RTO 500 ms, 8 retries: what the tool and the
 * device use). Thousands of messages over many seeds and MTUs; it must
 * never give up, and everything arrives whole and in order. */
static void
stress_one (guint32 seed, guint16 mtu, guint8 window, const Faults *f, guint spread, guint n_msgs,
            guint64 *segs, guint64 *resent)
{
  Sim s;

  sim_init (&s, seed, mtu, window);
  s.to_dev.spread = s.to_tool.spread = spread;
  s.to_dev.loss = s.to_tool.loss = f->loss;
  s.to_dev.dup = s.to_tool.dup = f->dup;
  s.to_dev.reorder = s.to_tool.reorder = f->reorder;
  for (guint i = 0; i < n_msgs; i++)
    {
      gsize len = i % 4 == 3 ? (gsize) g_rand_int_range (s.rand, 1, 64) : SP_SEG_MSG_MAX;

      g_ptr_array_add (s.tool.out, make_message (&s, i, len));
      if (i % 2 == 0)
        g_ptr_array_add (s.dev.out, make_message (&s, 100000 + i, i % 4 == 0 ? SP_SEG_MSG_MAX : 20));
    }
  if (!sim_run (&s, 50000000))
    g_error ("seed %u mtu %u window %u: gave up (tool %s, device %s); tool base %u next %u high %u, "
             "dev rx_next %u; device base %u next %u high %u, tool rx_next %u",
             seed, mtu, window,
             sp_seg_get_state (&s.tool.seg) == SP_SEG_STATE_FAILED ? "failed" : "ok",
             sp_seg_get_state (&s.dev.seg) == SP_SEG_STATE_FAILED ? "failed" : "ok",
             s.tool.seg.tx_base, s.tool.seg.tx_next, s.tool.seg.tx_high, s.dev.seg.rx_next,
             s.dev.seg.tx_base, s.dev.seg.tx_next, s.dev.seg.tx_high, s.tool.seg.rx_next);
  check_delivered (&s.tool, &s.dev);
  check_delivered (&s.dev, &s.tool);
  *segs += s.tool.seg.stats.segments_sent + s.dev.seg.stats.segments_sent;
  *resent += s.tool.seg.stats.segments_resent + s.dev.seg.stats.segments_resent;
  sim_clear (&s);
}

static void
test_stress (void)
{
  const Faults f = { .loss = 0.05, .dup = 0.05, .reorder = 0.05 };
  const guint16 mtus[] = { 23, 48, 185, 247, 515 };
  guint64 segs = 0, resent = 0;
  guint n = 0;

  /* 40 fixed seeds, and 40 more from the test's random seed (--seed
   * repeats a run; the seed is in the error message). */
  for (guint i = 1; i <= 80; i++)
    {
      guint32 seed = i <= 40 ? i : (guint32) g_test_rand_int ();
      guint16 mtu = mtus[seed % G_N_ELEMENTS (mtus)];
      guint msgs = mtu == 23 ? 40 : 100;

      stress_one (seed, mtu, seed % 3 == 0 ? 8 : 0, &f, seed % 2 ? 6 : 1, msgs, &segs, &resent);
      n += msgs + msgs / 2;
    }
  g_test_message ("%u messages, %" G_GUINT64_FORMAT " segments, %" G_GUINT64_FORMAT " resent",
                  n, segs, resent);
}

/* Stale or bogus ACKs change nothing. */
static void
test_stale_ack (void)
{
  guint8 out[SP_SEG_MAX];
  guint8 ack[3] = { SP_SEG_T_ACK, 200, 32 };
  sp_seg dev;

  sp_seg_init (&dev, SP_SEG_ROLE_DEVICE, 23, 0, NULL, 0, 0);
  sp_seg_send (&dev, "abcdefghijklmnopqrstuvwxyz", 26);
  while (sp_seg_poll (&dev, 0, out, sizeof out) > 0)
    ;
  g_assert_cmpuint (dev.tx_high, ==, 2);
  g_assert_cmpuint (sp_seg_input (&dev, 0, ack, 3, NULL), ==, 0);
  g_assert_cmpuint (dev.tx_base, ==, 0);
  ack[1] = 1;
  g_assert_cmpuint (sp_seg_input (&dev, 0, ack, 3, NULL), ==, 0);
  g_assert_cmpuint (dev.tx_base, ==, 1);
  ack[1] = 0; /* behind */
  g_assert_cmpuint (sp_seg_input (&dev, 0, ack, 3, NULL), ==, 0);
  g_assert_cmpuint (dev.tx_base, ==, 1);
  ack[1] = 2;
  g_assert_cmpuint (sp_seg_input (&dev, 0, ack, 3, NULL), ==, SP_SEG_EV_ACKED);
  g_assert_cmpuint (sp_seg_take_sent (&dev), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/seg/count", test_count);
  g_test_add_func ("/seg/every-mtu", test_every_mtu);
  g_test_add_func ("/seg/loss", test_loss);
  g_test_add_func ("/seg/duplication", test_duplication);
  g_test_add_func ("/seg/reordering", test_reordering);
  g_test_add_func ("/seg/all-faults", test_all_faults);
  g_test_add_func ("/seg/crc-failure", test_crc_failure);
  g_test_add_func ("/seg/crc-single", test_crc_single);
  g_test_add_func ("/seg/oversize", test_oversize);
  g_test_add_func ("/seg/seq-wrap", test_seq_wrap);
  g_test_add_func ("/seg/ack-cadence", test_ack_cadence);
  g_test_add_func ("/seg/nak", test_nak);
  g_test_add_func ("/seg/reorder-kept", test_reorder_kept);
  g_test_add_func ("/seg/reset", test_reset);
  g_test_add_func ("/seg/give-up", test_give_up);
  g_test_add_func ("/seg/stale-ack", test_stale_ack);
  g_test_add_func ("/seg/stress", test_stress);

  return g_test_run ();
}
