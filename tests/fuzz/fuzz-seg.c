/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-seg.c: libFuzzer harness for sp-seg (BLE segments, docs/ble.md).
 *
 * Two ends, a tool and a device, joined by two queues; the input is a
 * script that the fuzzer drives. Byte 0: the ATT MTU (23 + byte * 2) and
 * the windows; then ops of one byte (low 4 bits the op, high 4 an
 * argument), some followed by data:
 *
 *   0  queue a message on the tool (length from 2 bytes, content made up)
 *   1  the same on the device
 *   2  poll the tool onto its queue     3  poll the device
 *   4  deliver the head of tool->device 5  deliver device->tool
 *   6  drop the head of a queue         7  duplicate it (behind itself)
 *   8  swap the two heads of a queue    9  flip a byte of the head
 *  10  raw segment (1 length byte + bytes) into the device; 11 into the tool
 *  12  advance the clock by arg * 37 ms
 *
 * Without ops 9..11 (no forged or damaged segments), everything delivered
 * must be a whole message that was sent, in order: a subsequence of the
 * sent ones (checked by an index in each message). Structural invariants
 * are checked after every op. Any failure abort()s. Standard C only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp-seg.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort (); } while (0)

#define QMAX 256
#define MSGS 16

typedef struct {
  uint8_t b[SP_SEG_MAX];
  size_t len;
} pkt;

typedef struct {
  pkt q[QMAX];
  size_t n;
} queue;

typedef struct {
  sp_seg s;
  uint8_t rxbuf[SP_SEG_RXBUF_SIZE (SP_SEG_MSG_MAX)];
  uint8_t msgs[MSGS][SP_SEG_MSG_MAX];
  size_t lens[MSGS];
  unsigned sent;       /* queued in sp_seg */
  unsigned taken;      /* freed after take_sent */
  unsigned next_in;    /* the lowest index the peer's next message may have */
} end;

static end tool, dev;
static queue to_dev, to_tool;

static void
push (queue *q, const uint8_t *b, size_t len)
{
  if (q->n >= QMAX || len > SP_SEG_MAX)
    return;
  memcpy (q->q[q->n].b, b, len);
  q->q[q->n].len = len;
  q->n++;
}

static void
pop (queue *q)
{
  if (q->n == 0)
    return;
  memmove (&q->q[0], &q->q[1], (q->n - 1) * sizeof (pkt));
  q->n--;
}

static void
invariants (const sp_seg *s)
{
  CHECK (s->tx_base <= s->tx_next || s->state != SP_SEG_STATE_OPEN);
  CHECK (s->tx_next <= s->tx_end);
  CHECK (s->tx_base <= s->tx_high);
  CHECK (s->tx_high <= s->tx_end);
  CHECK (s->tx_high - s->tx_base <= SP_SEG_WINDOW_MAX);
  CHECK (s->tx_count <= SP_SEG_TX_SLOTS);
  CHECK (s->rx_got <= s->rxcap);
  CHECK (s->window >= SP_SEG_WINDOW_MIN && s->window <= SP_SEG_WINDOW_MAX);
  CHECK (s->peer_window >= SP_SEG_WINDOW_MIN && s->peer_window <= SP_SEG_WINDOW_MAX);
}

static void
deliver (end *to, end *from, const pkt *p, uint32_t now, int clean)
{
  size_t mlen = 0;
  unsigned ev = sp_seg_input (&to->s, now, p->b, p->len, &mlen);

  if (ev & SP_SEG_EV_MESSAGE)
    {
      unsigned idx;

      CHECK (mlen >= 1 && mlen <= SP_SEG_MSG_MAX);
      if (clean)
        {
          /* Byte 0 is the message's index (mod 256) among the peer's. */
          for (idx = to->next_in; idx < from->sent; idx++)
            if ((idx & 0xff) == to->rxbuf[0] && from->lens[idx % MSGS] == mlen &&
                memcmp (from->msgs[idx % MSGS], to->rxbuf, mlen) == 0)
              break;
          CHECK (idx < from->sent);
          to->next_in = idx + 1;
        }
    }
  if (ev & SP_SEG_EV_ACKED)
    {
      unsigned n = sp_seg_take_sent (&to->s);

      to->taken += n;
      CHECK (to->taken <= to->sent);
    }
}

static void
queue_message (end *e, uint32_t len, uint8_t seed)
{
  uint8_t *m;
  uint32_t i;

  if (e->sent - e->taken >= MSGS || e->sent - e->taken >= SP_SEG_TX_SLOTS)
    return;
  len = 1 + len % SP_SEG_MSG_MAX;
  m = e->msgs[e->sent % MSGS];
  for (i = 0; i < len; i++)
    m[i] = (uint8_t) (seed + i * 131u);
  m[0] = (uint8_t) e->sent;
  e->lens[e->sent % MSGS] = len;
  CHECK (sp_seg_send (&e->s, m, len) == SP_SEG_OK || e->s.state == SP_SEG_STATE_FAILED);
  if (e->s.state != SP_SEG_STATE_FAILED)
    e->sent++;
}

static void
poll_into (end *e, queue *q, uint32_t now)
{
  uint8_t b[SP_SEG_MAX];
  size_t n;
  int guard = 0;

  while ((n = sp_seg_poll (&e->s, now, b, sizeof b)) > 0 && guard++ < 80)
    {
      CHECK (n <= (size_t) e->s.mtu - 3);
      push (q, b, n);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  size_t i = 1;
  uint32_t now = 0;
  uint16_t mtu;
  int clean = 1;

  if (size < 1)
    return 0;
  mtu = (uint16_t) (23 + data[0] * 2);
  memset (&tool, 0, sizeof tool);
  memset (&dev, 0, sizeof dev);
  to_dev.n = to_tool.n = 0;
  sp_seg_init (&tool.s, SP_SEG_ROLE_TOOL, mtu, (uint8_t) (data[0] & 0x3f), tool.rxbuf,
               sizeof tool.rxbuf, now);
  sp_seg_init (&dev.s, SP_SEG_ROLE_DEVICE, mtu, (uint8_t) (data[0] >> 2), dev.rxbuf,
               sizeof dev.rxbuf, now);
  sp_seg_set_timeouts (&tool.s, 100, 4);
  sp_seg_set_timeouts (&dev.s, 100, 4);

  while (i < size)
    {
      uint8_t op = data[i] & 0x0f, arg = data[i] >> 4;
      queue *q = (arg & 1) ? &to_tool : &to_dev;

      i++;
      switch (op)
        {
        case 0:
        case 1:
          {
            uint32_t len = 0;

            if (i + 2 <= size)
              len = (uint32_t) data[i] | ((uint32_t) data[i + 1] << 8);
            i += 2;
            queue_message (op == 0 ? &tool : &dev, len, arg);
            break;
          }
        case 2:
          poll_into (&tool, &to_dev, now);
          break;
        case 3:
          poll_into (&dev, &to_tool, now);
          break;
        case 4:
          if (to_dev.n > 0)
            {
              deliver (&dev, &tool, &to_dev.q[0], now, clean);
              pop (&to_dev);
            }
          break;
        case 5:
          if (to_tool.n > 0)
            {
              deliver (&tool, &dev, &to_tool.q[0], now, clean);
              pop (&to_tool);
            }
          break;
        case 6:
          pop (q);
          break;
        case 7:
          /* right behind itself: BLE never delays a copy further */
          if (q->n > 0 && q->n < QMAX)
            {
              memmove (&q->q[1], &q->q[0], q->n * sizeof (pkt));
              q->n++;
            }
          break;
        case 8:
          if (q->n > 1)
            {
              pkt t = q->q[0];

              q->q[0] = q->q[1];
              q->q[1] = t;
            }
          break;
        case 9:
          if (q->n > 0 && i < size)
            {
              q->q[0].b[data[i] % q->q[0].len] ^= (uint8_t) (arg | 1);
              clean = 0;
            }
          i++;
          break;
        case 10:
        case 11:
          {
            size_t len = i < size ? data[i] : 0;

            i++;
            if (len > size - i)
              len = size - i;
            {
              static pkt p;

              memcpy (p.b, data + i, len);
              p.len = len;
              deliver (op == 10 ? &dev : &tool, op == 10 ? &tool : &dev, &p, now, 0);
            }
            clean = 0;
            i += len;
            break;
          }
        case 12:
          now += (uint32_t) arg * 37u;
          break;
        default:
          break;
        }
      invariants (&tool.s);
      invariants (&dev.s);
    }
  return 0;
}
