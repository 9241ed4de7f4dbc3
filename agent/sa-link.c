/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sa-link.c: the serial link of the device (USB CDC-ACM): frames in
 * (proto/sp-frame.h's deframer, decoding in place in the link's buffer),
 * requests to the agent (whose dispatch keeps the retry cache), answers
 * out as frames.
 *
 * An answer is COBS-encoded while it is written, one block (at most 254
 * data bytes and its code byte) per write: the link holds no encoded
 * frame, only the answer the agent keeps anyway. The encoding is the
 * minimal form of sp-frame.h (a final full block gets no extra code
 * byte), byte for byte what sp_frame_encode () writes.
 */
#include "sa-agent.h"

#include <string.h>

void
sa_link_init (sa_link *link, sa_agent *agent, sa_write_fn write, void *write_ctx)
{
  memset (link, 0, sizeof *link);
  link->agent = agent;
  link->write = write;
  link->write_ctx = write_ctx;
  sp_deframer_init (&link->deframer, link->rx, sizeof link->rx);
}

/* Write COBS (msg || CRC-32, little-endian) || 0x00. */
static void
send_frame (sa_link *link, const uint8_t *msg, size_t len)
{
  uint8_t block[1 + 254 + 1];
  uint8_t trailer[SP_CRC32_LEN];
  uint32_t crc = sp_crc32 (msg, len);
  size_t total = len + SP_CRC32_LEN, i = 0, k;

  for (k = 0; k < SP_CRC32_LEN; k++, crc >>= 8)
    trailer[k] = (uint8_t) crc;

  for (;;)
    {
      size_t n = 0, out;
      bool last;

      /* A run of up to 254 non-zero bytes. */
      while (i + n < total && n < 254)
        {
          uint8_t b = i + n < len ? msg[i + n] : trailer[i + n - len];

          if (b == 0)
            break;
          block[1 + n++] = b;
        }
      block[0] = (uint8_t) (n + 1);
      i += n;
      if (n == 254)
        last = i == total;      /* a full block stands for no zero */
      else if (i < total)
        {
          i++;                  /* the zero this block stands for; a zero
                                 * at the very end still opens one more
                                 * (empty) block */
          last = false;
        }
      else
        last = true;
      out = n + 1;
      if (last)
        block[out++] = SP_FRAME_DELIMITER;
      if (!link->write (link->write_ctx, block, out) || last)
        return;
    }
}

static void
count_dropped (sa_link *link)
{
  const sp_deframer_stats *st = &link->deframer.stats;
  uint32_t dropped = st->crc + st->cobs + st->oversize;

  if (dropped != link->dropped_seen)
    {
      sa_agent_note_dropped (link->agent, dropped - link->dropped_seen);
      link->dropped_seen = dropped;
    }
}

void
sa_link_receive (sa_link *link, const uint8_t *data, size_t len)
{
  while (len > 0)
    {
      const uint8_t *payload, *resp;
      size_t payload_len, resp_len;
      size_t n = sp_deframer_push (&link->deframer, data, len, &payload,
                                   &payload_len);

      data += n;
      len -= n;
      count_dropped (link);
      if (payload == NULL)
        continue;
      resp_len = sa_agent_dispatch (link->agent, payload, payload_len, &resp);
      if (resp_len > 0)
        send_frame (link, resp, resp_len);
    }
}
