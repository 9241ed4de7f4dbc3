/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-ble-model.c: BLE bulk throughput, modelled (DESIGN.md §9: payload
 * >= 90 % of what the link can carry at the negotiated MTU and connection
 * parameters). The real segment layer (proto/sp-seg.c) runs, tool and
 * device, over a model of LE connection events:
 *
 *  - 1M PHY (8 us a byte), LE data length extension (251-byte PDUs),
 *    T_IFS 150 us; a packet is its LL payload + 10 bytes (preamble, access
 *    address, header, CRC); every central packet is answered by one of
 *    the peripheral's (an ACK/notification, else an empty PDU);
 *  - an ATT write command or notification at ATT MTU m is one LL packet
 *    of m + 4 bytes (L2CAP 4, ATT 3, value m - 3);
 *  - per connection event at most N packets each way (the controller's
 *    limit) and as many as fit the interval; a segment received in one
 *    event is answered in the next (the peer's stack is not instant).
 *
 * The link's capacity is packets per event x (m - 3) / interval (ATT value
 * bytes). Payload is firmware bytes: BULK_DATA of 1900 bytes in a 1916-byte
 * message. "windowed" is this design (window 32, several messages in
 * flight); "stop-and-wait" sends the next chunk only when the previous
 * one's answer came back (what the design avoids). Prints numbers, asserts
 * nothing about time.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "sp-seg.h"

#define CHUNK 1900
#define MSG (CHUNK + 16)
#define CHUNKS 200

typedef struct {
  double interval_ms;
  guint max_per_event;
} Params;

static guint
packets_per_event (guint mtu, const Params *p)
{
  double t_data = ((double) mtu + 4 + 10) * 8.0;    /* us */
  double t_pair = t_data + 150 + (3.0 + 7 + 10) * 8.0 + 150;
  guint fit = (guint) (p->interval_ms * 1000.0 / t_pair);

  return MIN (fit, p->max_per_event);
}

/* Run CHUNKS messages through sp-seg over the event model. Returns the
 * events taken; *att_bytes the ATT value bytes sent tool -> device. */
static guint
simulate (guint16 mtu, guint per_event, gboolean windowed, guint64 *att_bytes)
{
  static guint8 msg[MSG];
  static guint8 rx_tool[SP_SEG_RXBUF_SIZE (SP_SEG_MSG_MAX)], rx_dev[SP_SEG_RXBUF_SIZE (SP_SEG_MSG_MAX)];
  sp_seg tool, dev;
  guint8 seg[SP_SEG_MAX];
  GQueue to_tool = G_QUEUE_INIT;
  guint queued = 0, acked = 0, delivered = 0, answered = 0, events = 0;
  guint32 now = 0;
  gsize n, mlen;

  memset (msg, 0xa5, sizeof msg);
  sp_seg_init (&tool, SP_SEG_ROLE_TOOL, mtu, SP_SEG_WINDOW_DEFAULT, rx_tool, sizeof rx_tool, 0);
  sp_seg_init (&dev, SP_SEG_ROLE_DEVICE, mtu, SP_SEG_WINDOW_DEFAULT, rx_dev, sizeof rx_dev, 0);
  sp_seg_set_timeouts (&tool, 60000, 0);
  sp_seg_set_timeouts (&dev, 60000, 0);
  *att_bytes = 0;
  while (delivered < CHUNKS || acked < CHUNKS)
    {
      GQueue out_dev = G_QUEUE_INIT;
      guint sent = 0;

      g_assert_cmpuint (events, <, 10000000);
      /* the tool's queue: all of it (windowed), or one answered at a time */
      while (queued < CHUNKS && sp_seg_queued (&tool) < SP_SEG_TX_SLOTS &&
             (windowed || queued == answered))
        {
          g_assert_cmpint (sp_seg_send (&tool, msg, sizeof msg), ==, SP_SEG_OK);
          queued++;
        }
      /* the peripheral's packets of this event: what it had from before */
      for (guint i = 0; i < per_event && to_tool.length > 0; i++)
        {
          GBytes *b = g_queue_pop_head (&to_tool);
          gsize len;
          const guint8 *p = g_bytes_get_data (b, &len);
          unsigned ev = sp_seg_input (&tool, now, p, len, &mlen);

          if (ev & SP_SEG_EV_ACKED)
            acked += sp_seg_take_sent (&tool);
          if (ev & SP_SEG_EV_MESSAGE)
            answered++;
          g_bytes_unref (b);
        }
      /* the central's packets */
      while (sent < per_event && (n = sp_seg_poll (&tool, now, seg, sizeof seg)) > 0)
        {
          unsigned ev = sp_seg_input (&dev, now, seg, n, &mlen);

          sent++;
          if (seg[0] < 0x80)
            *att_bytes += n;
          if (ev & SP_SEG_EV_MESSAGE)
            {
              delivered++;
              if (!windowed)
                sp_seg_send (&dev, "answer-to-bulk-data", 19);
            }
        }
      while ((n = sp_seg_poll (&dev, now, seg, sizeof seg)) > 0)
        g_queue_push_tail (&out_dev, g_bytes_new (seg, n));
      while (out_dev.length > 0)
        g_queue_push_tail (&to_tool, g_queue_pop_head (&out_dev));
      if (!windowed)
        acked += sp_seg_take_sent (&dev) * 0; /* the device's answers: nothing to count */
      events++;
      now += 8;
    }
  g_queue_clear_full (&to_tool, (GDestroyNotify) g_bytes_unref);
  return events;
}

int
main (void)
{
  const guint16 mtus[] = { 23, 185, 247 };
  const Params params[] = { { 7.5, 6 }, { 7.5, 4 }, { 30.0, 6 } };

  printf ("# BLE bulk transfer, modelled: 1M PHY, DLE, %u chunks of %u bytes\n", CHUNKS, CHUNK);
  printf ("%-5s %-14s %-8s %-10s %-11s %-11s %-11s %-7s %-7s\n", "mtu", "interval/N",
          "pkts/ev", "eff", "capacity", "windowed", "stop-wait", "ratio", "sw-ratio");
  for (guint pi = 0; pi < G_N_ELEMENTS (params); pi++)
    for (guint i = 0; i < G_N_ELEMENTS (mtus); i++)
      {
        guint16 mtu = mtus[i];
        guint per = packets_per_event (mtu, &params[pi]);
        double interval_s = params[pi].interval_ms / 1000.0;
        double capacity = per * (mtu - 3.0) / interval_s;  /* ATT value B/s */
        guint64 att_w = 0, att_s = 0;
        guint ev_w = simulate (mtu, per, TRUE, &att_w);
        guint ev_s = simulate (mtu, per, FALSE, &att_s);
        double payload = (double) CHUNKS * CHUNK;
        double thr_w = payload / (ev_w * interval_s);
        double thr_s = payload / (ev_s * interval_s);
        char ip[32];

        g_snprintf (ip, sizeof ip, "%.1fms/%u", params[pi].interval_ms, params[pi].max_per_event);
        printf ("%-5u %-14s %-8u %-10.3f %-11.0f %-11.0f %-11.0f %-7.3f %-7.3f\n", mtu, ip, per,
                payload / (double) att_w, capacity, thr_w, thr_s, thr_w / capacity,
                thr_s / capacity);
      }
  printf ("# eff: firmware bytes per ATT value byte on the link (segment and message\n"
          "# headers, CRC); capacity: ATT value bytes/s; windowed and stop-wait: firmware\n"
          "# bytes/s; ratio: windowed / capacity (target >= 0.90)\n");
  return 0;
}
