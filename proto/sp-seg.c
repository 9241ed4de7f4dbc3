/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sp-seg.c: see sp-seg.h and docs/ble.md "Segments". */
#include "sp-seg.h"

#include <string.h>

#include "sp-frame.h"

static uint16_t
clamp_mtu (uint16_t mtu)
{
  if (mtu < SP_SEG_ATT_MTU_MIN)
    return SP_SEG_ATT_MTU_MIN;
  if (mtu > SP_SEG_ATT_MTU_MAX)
    return SP_SEG_ATT_MTU_MAX;
  return mtu;
}

static uint8_t
clamp_window (uint8_t w)
{
  if (w == 0)
    return SP_SEG_WINDOW_DEFAULT;
  if (w < SP_SEG_WINDOW_MIN)
    return SP_SEG_WINDOW_MIN;
  if (w > SP_SEG_WINDOW_MAX)
    return SP_SEG_WINDOW_MAX;
  return w;
}

/* Stream bytes the first segment, and each later one, carries. */
static uint32_t
cap_first (uint16_t mtu)
{
  return (uint32_t) mtu - 3 - SP_SEG_FIRST_HDR;
}

static uint32_t
cap_next (uint16_t mtu)
{
  return (uint32_t) mtu - 3 - SP_SEG_HDR;
}

uint32_t
sp_seg_count (uint16_t mtu, size_t len)
{
  uint32_t stream = (uint32_t) len + SP_SEG_CRC_LEN;
  uint32_t c1, cn;

  mtu = clamp_mtu (mtu);
  c1 = cap_first (mtu);
  cn = cap_next (mtu);
  if (stream <= c1)
    return 1;
  return 1 + (stream - c1 + cn - 1) / cn;
}

static void
reset_state (sp_seg *s)
{
  s->tx_head = 0;
  s->tx_count = 0;
  s->tx_base = s->tx_next = s->tx_high = s->tx_end = 0;
  s->nak_seen = false;
  s->last_nak = 0;
  s->timer_on = false;
  s->retries = 0;
  s->ack_pending = s->nak_pending = false;
  s->rx_next = 0;
  s->rx_since_ack = 0;
  s->rx_active = s->rx_discard = false;
  s->nak_sent = false;
  s->dup_run = false;
  s->last_dup = 0;
  s->rx_len = 0;
  s->rx_got = 0;
  s->rx_ahead = 0;
  s->rx_first = 0;
  s->rx_cap = 0;
  s->rx_last_known = false;
  s->rx_last_seq = 0;
  s->rx_last_n = 0;
  s->rx_gap_count = 0;
}

void
sp_seg_init (sp_seg *s, sp_seg_role role, uint16_t mtu, uint8_t window, uint8_t *rxbuf,
             size_t rxcap, uint32_t now)
{
  memset (s, 0, sizeof *s);
  s->role = role;
  s->mtu = clamp_mtu (mtu);
  s->window = clamp_window (window);
  s->peer_window = s->window;
  s->rto_ms = SP_SEG_RTO_DEFAULT;
  s->max_retries = SP_SEG_RETRIES_DEFAULT;
  s->rxbuf = rxbuf;
  s->rxcap = rxbuf != NULL ? rxcap : 0;
  reset_state (s);
  s->reset_id = (uint8_t) now;
  if (role == SP_SEG_ROLE_TOOL)
    {
      s->state = SP_SEG_STATE_SYNC;
      s->reset_pending = true;
      s->timer_start = now;
    }
  else
    s->state = SP_SEG_STATE_OPEN;
}

void
sp_seg_set_reset_id (sp_seg *s, uint8_t id)
{
  s->reset_id = id;
}

void
sp_seg_set_timeouts (sp_seg *s, uint32_t rto_ms, uint8_t max_retries)
{
  if (rto_ms != 0)
    s->rto_ms = rto_ms;
  if (max_retries != 0)
    s->max_retries = max_retries;
}

void
sp_seg_set_mtu (sp_seg *s, uint16_t mtu)
{
  s->mtu = clamp_mtu (mtu);
}

sp_seg_result
sp_seg_send (sp_seg *s, const void *msg, size_t len)
{
  sp_seg_txmsg *m;

  if (s->state == SP_SEG_STATE_FAILED)
    return SP_SEG_ERR_FAILED;
  if (msg == NULL || len == 0 || len > SP_SEG_MSG_MAX)
    return SP_SEG_ERR_TOO_LARGE;
  if (s->tx_count >= SP_SEG_TX_SLOTS)
    return SP_SEG_ERR_FULL;
  m = &s->tx[(s->tx_head + s->tx_count) % SP_SEG_TX_SLOTS];
  m->data = msg;
  m->len = (uint16_t) len;
  m->crc = sp_crc32_update (0, msg, len);
  m->first = s->tx_end;
  m->nsegs = sp_seg_count (s->mtu, len);
  m->mtu = s->mtu;
  s->tx_end += m->nsegs;
  s->tx_count++;
  return SP_SEG_OK;
}

unsigned
sp_seg_take_sent (sp_seg *s)
{
  unsigned n = s->tx_done;

  s->tx_done = 0;
  return n;
}

unsigned
sp_seg_queued (const sp_seg *s)
{
  return s->tx_count;
}

unsigned
sp_seg_handed (const sp_seg *s)
{
  unsigned n = 0;

  while (n < s->tx_count)
    {
      const sp_seg_txmsg *m = &s->tx[(s->tx_head + n) % SP_SEG_TX_SLOTS];

      if (m->first + m->nsegs > s->tx_high)
        break;
      n++;
    }
  return n;
}

/* ---- receiving acknowledgements ------------------------------------------ */

static unsigned
on_ack (sp_seg *s, uint32_t now, uint8_t next, bool nak, uint8_t window)
{
  uint32_t d = (uint8_t) (next - (uint8_t) s->tx_base);
  uint32_t cand = s->tx_base + d;
  unsigned ev = 0;

  s->peer_window = clamp_window (window);
  if (nak)
    s->stats.naks_received++;
  if (cand > s->tx_high)
    return 0; /* stale or bogus: acknowledges what was never sent */
  if (cand > s->tx_base)
    {
      s->tx_base = cand;
      if (s->tx_next < s->tx_base)
        s->tx_next = s->tx_base;
      s->retries = 0;
      s->timer_start = now;
      s->timer_on = s->tx_base < s->tx_high;
      while (s->tx_count > 0)
        {
          const sp_seg_txmsg *m = &s->tx[s->tx_head];

          if (m->first + m->nsegs > s->tx_base)
            break;
          s->tx_head = (uint8_t) ((s->tx_head + 1) % SP_SEG_TX_SLOTS);
          s->tx_count--;
          s->tx_done++;
          s->stats.messages_sent++;
          ev |= SP_SEG_EV_ACKED;
        }
    }
  if (nak && cand < s->tx_next && !(s->nak_seen && s->last_nak == cand))
    {
      s->tx_next = cand;
      s->nak_seen = true;
      s->last_nak = cand;
    }
  return ev;
}

/* ---- receiving data ------------------------------------------------------ */

static void
ahead_clear (sp_seg *s)
{
  s->rx_ahead = 0;
  s->rx_last_known = false;
  s->rx_cap = 0;
}

/* The LAST segment came: check the stream and deliver. */
static unsigned
finish_message (sp_seg *s, size_t *msg_len)
{
  s->ack_pending = true;
  s->rx_active = false;
  ahead_clear (s);
  if (s->rx_discard)
    return SP_SEG_EV_DROPPED;
  if (s->rx_got != (uint32_t) s->rx_len + SP_SEG_CRC_LEN)
    {
      s->stats.bad_length++;
      return SP_SEG_EV_DROPPED;
    }
  {
    const uint8_t *c = s->rxbuf + s->rx_len;
    uint32_t want = (uint32_t) c[0] | ((uint32_t) c[1] << 8) | ((uint32_t) c[2] << 16) |
                    ((uint32_t) c[3] << 24);

    if (sp_crc32_update (0, s->rxbuf, s->rx_len) != want)
      {
        s->stats.bad_crc++;
        return SP_SEG_EV_DROPPED;
      }
  }
  s->stats.messages_received++;
  if (msg_len != NULL)
    *msg_len = s->rx_len;
  return SP_SEG_EV_MESSAGE;
}

/* A DATA segment d ahead of the expected seq (a gap: reordering or loss).
 * A MIDDLE or LAST of the message being reassembled (or of the one that
 * starts at the expected seq) has a known place in the stream -- every
 * segment but the last is full, and a FIRST carries 2 bytes less -- so it
 * is kept in rxbuf and taken when the gap fills. Anything else (a FIRST,
 * a segment past the message's LAST, one whose place is not known yet)
 * is ignored, as go-back-N does, and comes again. */
static void
keep_ahead (sp_seg *s, const uint8_t *seg, size_t len, uint8_t d)
{
  bool last = (seg[0] & SP_SEG_T_LAST) != 0;
  uint8_t start = s->rx_active ? s->rx_first : s->rx_next;
  uint8_t k = (uint8_t) (seg[1] - start);
  uint32_t n = (uint32_t) len - SP_SEG_HDR;
  uint32_t cap = s->rx_cap, off, limit;
  uint64_t bit;

  if (d >= 64 || (seg[0] & SP_SEG_T_FIRST) || k == 0 || (s->rx_active && s->rx_discard))
    return;
  bit = (uint64_t) 1 << d;
  if (s->rx_ahead & bit)
    return;
  if (s->rx_last_known && k >= (uint8_t) (s->rx_last_seq - start))
    return;
  if (!last)
    {
      if (cap != 0 && n != cap)
        return;
      cap = n;
    }
  else if (cap == 0 || n > cap)
    return;
  if (cap <= SP_SEG_FIRST_HDR - SP_SEG_HDR)
    return;
  off = (cap - (SP_SEG_FIRST_HDR - SP_SEG_HDR)) + (uint32_t) (k - 1) * cap;
  limit = s->rx_active ? (uint32_t) s->rx_len + SP_SEG_CRC_LEN : (uint32_t) s->rxcap;
  if (limit > s->rxcap)
    limit = (uint32_t) s->rxcap;
  if (off + n > limit || (s->rx_active && off < s->rx_got))
    return;
  memcpy (s->rxbuf + off, seg + SP_SEG_HDR, n);
  s->rx_cap = (uint16_t) cap;
  s->rx_ahead |= bit;
  if (last)
    {
      s->rx_last_known = true;
      s->rx_last_seq = seg[1];
      s->rx_last_n = (uint16_t) n;
    }
}

/* One more segment in order (rx_next moves on). */
static void
advance (sp_seg *s)
{
  s->rx_next++;
  s->rx_ahead >>= 1;
  s->stats.segments_received++;
  s->nak_sent = false;
  s->rx_gap_count = 0;
  s->dup_run = false;
  if (++s->rx_since_ack >= s->window / 2)
    s->ack_pending = true;
}

/* Segments kept ahead that are now in order. */
static unsigned
take_ahead (sp_seg *s, size_t *msg_len)
{
  while (s->rx_ahead & 1)
    {
      bool last = s->rx_last_known && s->rx_last_seq == s->rx_next;
      uint32_t n = last ? s->rx_last_n : s->rx_cap;

      advance (s);
      s->rx_got += n;
      if (last)
        return finish_message (s, msg_len);
    }
  return 0;
}

static unsigned
on_data (sp_seg *s, const uint8_t *seg, size_t len, size_t *msg_len)
{
  uint8_t type = seg[0];
  uint8_t seq = seg[1];
  uint8_t d = (uint8_t) (seq - s->rx_next);
  bool first = (type & SP_SEG_T_FIRST) != 0;
  bool last = (type & SP_SEG_T_LAST) != 0;
  const uint8_t *p;
  size_t n;

  if (d != 0)
    {
      if (d < 128)
        {
          unsigned tolerance = s->window / 2 < SP_SEG_REORDER_TOLERANCE ? s->window / 2
                                                                         : SP_SEG_REORDER_TOLERANCE;

          s->stats.out_of_order++;
          keep_ahead (s, seg, len, d);
          if (!s->nak_sent && ++s->rx_gap_count >= tolerance)
            {
              s->nak_pending = true;
              s->nak_sent = true;
            }
        }
      else
        {
          s->stats.duplicates++;
          if (!s->dup_run || seq != (uint8_t) (s->last_dup + 1))
            s->ack_pending = true;
          s->dup_run = true;
          s->last_dup = seq;
        }
      return 0;
    }

  advance (s);

  if (first)
    {
      uint16_t mlen = (uint16_t) (seg[2] | (seg[3] << 8));

      if (s->rx_active)
        {
          s->stats.bad_length++; /* the previous message never ended */
          ahead_clear (s);
        }
      s->rx_active = true;
      s->rx_first = seq;
      s->rx_got = 0;
      s->rx_len = mlen;
      s->rx_discard = false;
      if (mlen == 0)
        {
          s->stats.bad_length++;
          s->rx_discard = true;
        }
      else if ((size_t) mlen + SP_SEG_CRC_LEN > s->rxcap || mlen > SP_SEG_MSG_MAX)
        {
          s->stats.oversize++;
          s->rx_discard = true;
        }
      p = seg + SP_SEG_FIRST_HDR;
      n = len - SP_SEG_FIRST_HDR;
      /* Segments kept ahead were placed for a full FIRST of this size;
       * if it is not, they were another message's: forget them (they
       * were not acknowledged, so they come again). */
      if (s->rx_ahead != 0 && (last || n + (SP_SEG_FIRST_HDR - SP_SEG_HDR) != s->rx_cap))
        ahead_clear (s);
    }
  else
    {
      if (!s->rx_active)
        {
          /* a middle or last without its first: drop until the next first */
          s->stats.bad_length++;
          s->rx_active = true;
          s->rx_discard = true;
          s->rx_first = seq;
          s->rx_len = 0;
          s->rx_got = 0;
        }
      p = seg + SP_SEG_HDR;
      n = len - SP_SEG_HDR;
      if (s->rx_ahead != 0 && !last && n != s->rx_cap)
        ahead_clear (s);
    }

  if (!s->rx_discard)
    {
      if (s->rx_got + n > (uint32_t) s->rx_len + SP_SEG_CRC_LEN)
        {
          s->stats.bad_length++;
          s->rx_discard = true;
        }
      else if (n > 0)
        memcpy (s->rxbuf + s->rx_got, p, n);
    }
  s->rx_got += (uint32_t) n;

  if (last)
    return finish_message (s, msg_len);
  return take_ahead (s, msg_len);
}

unsigned
sp_seg_input (sp_seg *s, uint32_t now, const uint8_t *seg, size_t len, size_t *msg_len)
{
  uint8_t type;

  if (seg == NULL || len < 2 || len > SP_SEG_MAX)
    goto bad;
  s->stats.bytes_received += len;
  type = seg[0];

  if (type & 0x80)
    {
      if (len != 3)
        goto bad;
      switch (type)
        {
        case SP_SEG_T_RESET:
          {
            unsigned ev = SP_SEG_EV_RESET;

            if (s->role != SP_SEG_ROLE_DEVICE)
              goto bad;
            if (s->reset_seen && s->reset_id == seg[1])
              {
                /* a copy of the one taken: answer again, change nothing */
                s->reset_ack_pending = true;
                return 0;
              }
            s->reset_seen = true;
            s->reset_id = seg[1];
            s->tx_done = (uint8_t) (s->tx_done + s->tx_count);
            if (s->tx_done > 0)
              ev |= SP_SEG_EV_ACKED;
            reset_state (s);
            s->state = SP_SEG_STATE_OPEN;
            s->peer_window = clamp_window (seg[2]);
            s->reset_ack_pending = true;
            return ev;
          }
        case SP_SEG_T_RESET_ACK:
          if (s->role != SP_SEG_ROLE_TOOL)
            goto bad;
          if (s->state != SP_SEG_STATE_SYNC || seg[1] != s->reset_id)
            return 0; /* a late copy, or the answer to an older RESET */
          s->state = SP_SEG_STATE_OPEN;
          s->peer_window = clamp_window (seg[2]);
          s->retries = 0;
          s->timer_on = false;
          s->reset_pending = false;
          return SP_SEG_EV_OPEN;
        case SP_SEG_T_ACK:
        case SP_SEG_T_NAK:
          if (s->state != SP_SEG_STATE_OPEN)
            return 0;
          return on_ack (s, now, seg[1], type == SP_SEG_T_NAK, seg[2]);
        default:
          goto bad;
        }
    }

  if (type > SP_SEG_T_ONLY || ((type & SP_SEG_T_FIRST) && len < SP_SEG_FIRST_HDR))
    goto bad;
  if (s->state != SP_SEG_STATE_OPEN)
    return 0;
  return on_data (s, seg, len, msg_len);

bad:
  s->stats.bad_segment++;
  return SP_SEG_EV_DROPPED;
}

/* ---- transmitting -------------------------------------------------------- */

static bool
expired (const sp_seg *s, uint32_t now)
{
  return s->timer_on && (uint32_t) (now - s->timer_start) >= s->rto_ms;
}

static void
run_timer (sp_seg *s, uint32_t now)
{
  if (s->state == SP_SEG_STATE_SYNC)
    {
      if (expired (s, now) && !s->reset_pending)
        {
          s->stats.timeouts++;
          if (++s->retries > s->max_retries)
            {
              s->state = SP_SEG_STATE_FAILED;
              s->timer_on = false;
              return;
            }
          s->reset_pending = true;
          s->timer_on = false;
        }
      return;
    }
  if (s->state != SP_SEG_STATE_OPEN)
    return;
  if (s->tx_base >= s->tx_high)
    {
      s->timer_on = false;
      return;
    }
  if (expired (s, now))
    {
      s->stats.timeouts++;
      if (++s->retries > s->max_retries)
        {
          s->state = SP_SEG_STATE_FAILED;
          s->timer_on = false;
          return;
        }
      s->tx_next = s->tx_base;
      s->nak_seen = false;
      s->timer_start = now;
    }
}

static size_t
put_control (sp_seg *s, uint8_t *out, uint8_t type, uint8_t b1)
{
  out[0] = type;
  out[1] = b1;
  out[2] = s->window;
  s->stats.control_sent++;
  s->stats.bytes_sent += 3;
  return 3;
}

size_t
sp_seg_poll (sp_seg *s, uint32_t now, uint8_t *out, size_t cap)
{
  const sp_seg_txmsg *m = NULL;
  uint32_t k, off, stream, n, i, hdr;
  uint8_t win;

  run_timer (s, now);
  if (s->state == SP_SEG_STATE_FAILED || cap < 3)
    return 0;

  if (s->state == SP_SEG_STATE_SYNC)
    {
      if (!s->reset_pending)
        return 0;
      s->reset_pending = false;
      s->timer_on = true;
      s->timer_start = now;
      return put_control (s, out, SP_SEG_T_RESET, s->reset_id);
    }

  if (s->reset_ack_pending)
    {
      s->reset_ack_pending = false;
      return put_control (s, out, SP_SEG_T_RESET_ACK, s->reset_id);
    }
  if (s->nak_pending || s->ack_pending)
    {
      uint8_t type = s->nak_pending ? SP_SEG_T_NAK : SP_SEG_T_ACK;

      if (s->nak_pending)
        s->stats.naks_sent++;
      s->nak_pending = s->ack_pending = false;
      s->rx_since_ack = 0;
      return put_control (s, out, type, s->rx_next);
    }

  /* data */
  win = s->peer_window < s->window ? s->peer_window : s->window;
  if (s->tx_next >= s->tx_end || s->tx_next - s->tx_base >= win)
    return 0;
  for (i = 0; i < s->tx_count; i++)
    {
      const sp_seg_txmsg *c = &s->tx[(s->tx_head + i) % SP_SEG_TX_SLOTS];

      if (s->tx_next >= c->first && s->tx_next < c->first + c->nsegs)
        {
          m = c;
          break;
        }
    }
  if (m == NULL || cap < (size_t) m->mtu - 3)
    return 0;

  k = s->tx_next - m->first;
  stream = (uint32_t) m->len + SP_SEG_CRC_LEN;
  out[0] = (uint8_t) ((k == 0 ? SP_SEG_T_FIRST : 0) | (k + 1 == m->nsegs ? SP_SEG_T_LAST : 0));
  out[1] = (uint8_t) s->tx_next;
  if (k == 0)
    {
      out[2] = (uint8_t) m->len;
      out[3] = (uint8_t) (m->len >> 8);
      hdr = SP_SEG_FIRST_HDR;
      off = 0;
      n = cap_first (m->mtu);
    }
  else
    {
      hdr = SP_SEG_HDR;
      off = cap_first (m->mtu) + (k - 1) * cap_next (m->mtu);
      n = cap_next (m->mtu);
    }
  if (n > stream - off)
    n = stream - off;
  for (i = 0; i < n; i++)
    {
      uint32_t o = off + i;

      out[hdr + i] = o < m->len ? m->data[o] : (uint8_t) (m->crc >> (8 * (o - m->len)));
    }

  if (s->tx_next < s->tx_high)
    s->stats.segments_resent++;
  s->stats.segments_sent++;
  s->stats.bytes_sent += hdr + n;
  s->tx_next++;
  if (s->tx_next > s->tx_high)
    s->tx_high = s->tx_next;
  if (!s->timer_on)
    {
      s->timer_on = true;
      s->timer_start = now;
    }
  return hdr + n;
}

bool
sp_seg_next_deadline (const sp_seg *s, uint32_t *deadline)
{
  if (s->state == SP_SEG_STATE_FAILED || !s->timer_on)
    return false;
  *deadline = s->timer_start + s->rto_ms;
  return true;
}
