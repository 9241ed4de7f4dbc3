/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sa-store.c: the flash layout, the state journal and the identity
 * record (see sa-store.h for the crash-safety argument).
 *
 * Everything is read and written through small stack buffers: the
 * largest is one journal record (SA_JOURNAL_RECORD bytes).
 */
#include "sa-store.h"

#include <stddef.h>
#include <string.h>

#include "sa-agent.h"
#include "sp-frame.h"

/* Chunk for CRCs and comparisons over flash. */
#define CHUNK 64

/* ------------------------------------------------------------------ */
/* Little-endian fields                                                */
/* ------------------------------------------------------------------ */

static void
put16 (uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t) v;
  p[1] = (uint8_t) (v >> 8);
}

static void
put32 (uint8_t *p, uint32_t v)
{
  put16 (p, (uint16_t) v);
  put16 (p + 2, (uint16_t) (v >> 16));
}

static uint16_t
get16 (const uint8_t *p)
{
  return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t
get32 (const uint8_t *p)
{
  return get16 (p) | (uint32_t) get16 (p + 2) << 16;
}

/* ------------------------------------------------------------------ */
/* Raw access                                                          */
/* ------------------------------------------------------------------ */

sp_err
sa_store_read (const sa_store *s, uint32_t offset, uint8_t *buf, size_t len)
{
  if (len == 0)
    return SP_OK;
  if (offset > s->flash->size || len > s->flash->size - offset)
    return SP_ERR_INVALID_ARG;
  return s->flash->read (s->ctx, offset, buf, len);
}

static sp_err
store_write (const sa_store *s, uint32_t offset, const uint8_t *buf, size_t len)
{
  if (len == 0)
    return SP_OK;
  if (offset > s->flash->size || len > s->flash->size - offset)
    return SP_ERR_INVALID_ARG;
  return s->flash->write (s->ctx, offset, buf, len);
}

static sp_err
store_erase (const sa_store *s, uint32_t offset, uint32_t len)
{
  uint32_t o;
  sp_err err;

  for (o = 0; o < len; o += s->sector)
    {
      err = s->flash->erase (s->ctx, offset + o);
      if (err != SP_OK)
        return err;
    }
  return SP_OK;
}

sp_err
sa_store_crc (const sa_store *s, uint32_t offset, size_t len, uint32_t *crc)
{
  uint8_t chunk[CHUNK];
  uint32_t c = 0;
  sp_err err;

  while (len > 0)
    {
      size_t n = len < CHUNK ? len : CHUNK;

      err = sa_store_read (s, offset, chunk, n);
      if (err != SP_OK)
        return err;
      c = sp_crc32_update (c, chunk, n);
      offset += (uint32_t) n;
      len -= n;
    }
  *crc = c;
  return SP_OK;
}

sp_err
sa_store_equals (const sa_store *s, uint32_t offset, const uint8_t *buf,
                 size_t len, bool *equal)
{
  uint8_t chunk[CHUNK];
  sp_err err;

  *equal = false;
  while (len > 0)
    {
      size_t n = len < CHUNK ? len : CHUNK;

      err = sa_store_read (s, offset, chunk, n);
      if (err != SP_OK)
        return err;
      if (memcmp (chunk, buf, n) != 0)
        return SP_OK;
      offset += (uint32_t) n;
      buf += n;
      len -= n;
    }
  *equal = true;
  return SP_OK;
}

sp_err
sa_store_rewrite (const sa_store *s, uint32_t offset, const uint8_t *buf,
                  size_t len)
{
  bool equal;
  sp_err err = store_erase (s, offset, (uint32_t) len);

  if (err == SP_OK)
    err = store_write (s, offset, buf, len);
  if (err == SP_OK)
    err = sa_store_equals (s, offset, buf, len, &equal);
  if (err == SP_OK && !equal)
    err = SP_ERR_VALUE;
  return err;
}

/* ------------------------------------------------------------------ */
/* Layout                                                              */
/* ------------------------------------------------------------------ */

static uint32_t
sectors_for (const sa_store *s, uint32_t bytes)
{
  return (bytes + s->sector - 1) / s->sector * s->sector;
}

sp_err
sa_store_init (sa_store *s, const sa_flash *flash, void *ctx)
{
  uint32_t end;

  memset (s, 0, sizeof *s);
  if (flash == NULL || flash->read == NULL || flash->write == NULL ||
      flash->erase == NULL || flash->sector_size < 512 ||
      flash->sector_size > 65536 || flash->size % flash->sector_size != 0)
    return SP_ERR_INVALID_ARG;
  s->flash = flash;
  s->ctx = ctx;
  s->sector = flash->sector_size;
  s->journal[0] = sectors_for (s, SA_IDENTITY_SIZE);
  s->journal[1] = s->journal[0] + s->sector;
  s->slot0 = s->journal[1] + s->sector;
  s->slot_size = sectors_for (s, SA_CONFIG_MAX);
  s->rev0 = s->slot0 + SA_CONFIG_SLOTS * s->slot_size;
  s->rev_size = sectors_for (s, SA_REVOCATION_MAX);
  end = s->rev0 + SA_REVOCATION_SLOTS * s->rev_size;
  if (flash->size < end)
    return SP_ERR_INVALID_ARG;
  s->bulk = end;
  s->bulk_size = flash->size - end;
  return SP_OK;
}

uint32_t
sa_store_slot (const sa_store *s, unsigned slot)
{
  return s->slot0 + slot * s->slot_size;
}

uint32_t
sa_store_revocation (const sa_store *s, unsigned slot)
{
  return s->rev0 + slot * s->rev_size;
}

unsigned
sa_store_free_slot (const sa_state *st)
{
  unsigned i;

  for (i = 0; i < SA_CONFIG_SLOTS; i++)
    if (i != st->current.slot && i != st->previous.slot && i != st->pending.slot)
      break;
  return i;
}

/* ------------------------------------------------------------------ */
/* Journal                                                             */
/* ------------------------------------------------------------------ */

#define REC_MAGIC 0x31524A53u   /* "SJR1" */
#define REC_CRC (SA_JOURNAL_RECORD - 4)

/* The record: magic, then these fields of sa_state in this order,
 * little-endian, then a CRC-32 of all before it. A table rather than a
 * function per field: it is the same layout read and written. */
typedef struct rec_field {
  uint8_t off;
  uint8_t size;      /* 1, 2, 4, 8, or SP_SHA256_LEN bytes copied as they are */
} rec_field;

#define F(member, size) { (uint8_t) offsetof (sa_state, member), (size) }
#define REF(ref) F (ref.slot, 1), F (ref.classes, 1), F (ref.len, 2), F (ref.crc, 4), \
                 F (ref.version, 8)

static const rec_field rec_fields[] = {
  F (seq, 4), REF (current), REF (previous), REF (pending),
  F (clock_floor, 8), F (revocation_version, 8), F (revocation_crc, 4),
  F (revocation_len, 2), F (revocation_slot, 1), F (bulk_state, 1),
  F (bulk_size, 4), F (bulk_offset, 4), F (bulk_digest, SP_SHA256_LEN),
  F (boots, 4), F (deadline_rollbacks, 4),
};

#undef F
#undef REF

static void
encode_record (const sa_state *st, uint8_t rec[SA_JOURNAL_RECORD])
{
  uint8_t *p = rec + 4;
  size_t i, k;

  memset (rec, 0, SA_JOURNAL_RECORD);
  put32 (rec, REC_MAGIC);
  for (i = 0; i < sizeof rec_fields / sizeof rec_fields[0]; i++)
    {
      const uint8_t *src = (const uint8_t *) st + rec_fields[i].off;
      size_t n = rec_fields[i].size;
      uint64_t v = 0;
      uint32_t v32;
      uint16_t v16;

      switch (n)
        {
        case 1:
          v = *src;
          break;
        case 2:
          memcpy (&v16, src, 2);
          v = v16;
          break;
        case 4:
          memcpy (&v32, src, 4);
          v = v32;
          break;
        case 8:
          memcpy (&v, src, 8);
          break;
        default:
          memcpy (p, src, n);
          p += n;
          continue;
        }
      for (k = 0; k < n; k++)
        *p++ = (uint8_t) (v >> (8 * k));
    }
  put32 (rec + REC_CRC, sp_crc32 (rec, REC_CRC));
}

static bool
decode_record (const uint8_t rec[SA_JOURNAL_RECORD], sa_state *st)
{
  const uint8_t *p = rec + 4;
  size_t i, k;

  if (get32 (rec) != REC_MAGIC || get32 (rec + REC_CRC) != sp_crc32 (rec, REC_CRC))
    return false;
  memset (st, 0, sizeof *st);
  for (i = 0; i < sizeof rec_fields / sizeof rec_fields[0]; i++)
    {
      uint8_t *dst = (uint8_t *) st + rec_fields[i].off;
      size_t n = rec_fields[i].size;
      uint64_t v = 0;
      uint32_t v32;
      uint16_t v16;

      if (n > 8)
        {
          memcpy (dst, p, n);
          p += n;
          continue;
        }
      for (k = n; k-- > 0;)
        v = (v << 8) | p[k];
      p += n;
      v32 = (uint32_t) v;
      v16 = (uint16_t) v;
      if (n == 1)
        *dst = (uint8_t) v;
      else if (n == 2)
        memcpy (dst, &v16, 2);
      else if (n == 4)
        memcpy (dst, &v32, 4);
      else
        memcpy (dst, &v, 8);
    }
  /* A record names only slots that exist. */
  return st->current.slot < SA_CONFIG_SLOTS &&
         (st->previous.slot < SA_CONFIG_SLOTS || st->previous.slot == SA_SLOT_NONE) &&
         (st->pending.slot < SA_CONFIG_SLOTS || st->pending.slot == SA_SLOT_NONE) &&
         (st->revocation_slot < SA_REVOCATION_SLOTS ||
          st->revocation_slot == SA_SLOT_NONE) &&
         st->current.len <= SA_CONFIG_MAX && st->pending.len <= SA_CONFIG_MAX &&
         st->previous.len <= SA_CONFIG_MAX && st->revocation_len <= SA_REVOCATION_MAX &&
         st->bulk_state <= SA_BULK_COMPLETE;
}

static bool
is_blank (const uint8_t *p, size_t len)
{
  size_t i;

  for (i = 0; i < len; i++)
    if (p[i] != 0xFF)
      return false;
  return true;
}

static uint32_t
records_per_sector (const sa_store *s)
{
  return s->sector / SA_JOURNAL_RECORD;
}

sp_err
sa_store_load (sa_store *s)
{
  uint8_t rec[SA_JOURNAL_RECORD];
  uint32_t last_used[2] = { 0, 0 };
  bool found = false;
  unsigned j;
  uint32_t i;
  sa_state st;
  sp_err err;

  for (j = 0; j < 2; j++)
    for (i = 0; i < records_per_sector (s); i++)
      {
        err = sa_store_read (s, s->journal[j] + i * SA_JOURNAL_RECORD, rec,
                             SA_JOURNAL_RECORD);
        if (err != SP_OK)
          return err;
        if (is_blank (rec, SA_JOURNAL_RECORD))
          continue;
        /* A torn record is not blank either: never write over it. */
        last_used[j] = i + 1;
        if (decode_record (rec, &st) && (!found || st.seq > s->state.seq))
          {
            found = true;
            s->state = st;
            s->active = (uint8_t) j;
          }
      }
  if (!found)
    return SP_ERR_MISSING;
  s->next_record = (uint16_t) last_used[s->active];
  return SP_OK;
}

sp_err
sa_store_append (sa_store *s, const sa_state *next)
{
  uint8_t rec[SA_JOURNAL_RECORD];
  unsigned sector = s->active;
  uint32_t index = s->next_record, at;
  bool equal = false;
  sp_err err;

  /* next may be s->state itself. */
  encode_record (next, rec);
  put32 (rec + 4, s->state.seq + 1);
  put32 (rec + REC_CRC, sp_crc32 (rec, REC_CRC));
  if (index >= records_per_sector (s))
    {
      /* The active sector is full: start the other one. The newest
       * record stays where it is until the new one is complete. */
      sector = !s->active;
      index = 0;
      err = store_erase (s, s->journal[sector], s->sector);
      if (err != SP_OK)
        return err;
    }
  at = s->journal[sector] + index * SA_JOURNAL_RECORD;
  err = store_write (s, at, rec, SA_JOURNAL_RECORD);
  if (err == SP_OK)
    err = sa_store_equals (s, at, rec, SA_JOURNAL_RECORD, &equal);
  if (err == SP_OK && !equal)
    err = SP_ERR_VALUE;
  if (err != SP_OK)
    {
      /* Whatever that place holds now, it is not blank: skip it. In a
       * fresh sector the old one stays active (and full), so the next
       * append erases the fresh one again. */
      if (sector == s->active)
        s->next_record = (uint16_t) (index + 1);
      return err;
    }
  s->active = (uint8_t) sector;
  s->next_record = (uint16_t) (index + 1);
  decode_record (rec, &s->state);
  return SP_OK;
}

/* ------------------------------------------------------------------ */
/* Identity                                                            */
/* ------------------------------------------------------------------ */

/* The identity record, at offset 0:
 *
 *      0  magic "SGID"           4  format (1)
 *      8  serial: length, 64 bytes
 *     73  model: length, 64 bytes
 *    138  firmware: length, 64 bytes
 *    203  identity key scalar (32)     235  KEM key scalar (32)
 *    267  number of certificates       268  their lengths (3 x u16)
 *    274  the certificates, one after the other (3 x SA_CERT_MAX)
 *   2194  number of authorities
 *   2195  authorities: kid length, kid (64), public key (65), 4 times
 *   2715  CRC-32 of everything before
 */
#define ID_MAGIC 0x44494753u
#define ID_FORMAT 1u
#define ID_TEXT(i) (8u + (i) * (1u + SA_SERIAL_MAX))
#define ID_KEY(i) (203u + (i) * SP_P256_SCALAR_LEN)
#define ID_N_CHAIN 267u
#define ID_CHAIN_LEN 268u
#define ID_CHAIN 274u
#define ID_N_AUTH (ID_CHAIN + SA_CHAIN_MAX * SA_CERT_MAX)
#define ID_AUTH_SIZE (1u + SP_COSE_KID_MAX + SP_P256_PUB_LEN)
#define ID_AUTH(i) (ID_N_AUTH + 1u + (i) * ID_AUTH_SIZE)
#define ID_CRC (ID_AUTH (SA_AUTHORITIES_MAX))

#if ID_CRC + 4 != SA_IDENTITY_SIZE
#error "identity layout and SA_IDENTITY_SIZE disagree"
#endif

static sp_err
write_text (const sa_store *s, uint32_t at, const char *text)
{
  uint8_t len = (uint8_t) strlen (text);
  sp_err err = store_write (s, at, &len, 1);

  if (err == SP_OK)
    err = store_write (s, at + 1, (const uint8_t *) text, len);
  return err;
}

static sp_err
write_identity (const sa_store *s, const sa_identity *id)
{
  uint8_t hdr[8], b[2];
  uint32_t at = ID_CHAIN, crc;
  size_t i;
  sp_err err;

  put32 (hdr, ID_MAGIC);
  put32 (hdr + 4, ID_FORMAT);
  err = store_write (s, 0, hdr, sizeof hdr);
  if (err == SP_OK)
    err = write_text (s, ID_TEXT (SA_ID_SERIAL), id->serial);
  if (err == SP_OK)
    err = write_text (s, ID_TEXT (SA_ID_MODEL), id->model);
  if (err == SP_OK)
    err = write_text (s, ID_TEXT (SA_ID_FIRMWARE), id->firmware);
  if (err == SP_OK)
    err = store_write (s, ID_KEY (SA_ID_IDENTITY_KEY), id->identity_d,
                       SP_P256_SCALAR_LEN);
  if (err == SP_OK)
    err = store_write (s, ID_KEY (SA_ID_KEM_KEY), id->kem_d, SP_P256_SCALAR_LEN);
  b[0] = (uint8_t) id->n_chain;
  if (err == SP_OK)
    err = store_write (s, ID_N_CHAIN, b, 1);
  for (i = 0; i < id->n_chain && err == SP_OK; i++)
    {
      put16 (b, (uint16_t) id->chain_len[i]);
      err = store_write (s, ID_CHAIN_LEN + 2 * (uint32_t) i, b, 2);
      if (err == SP_OK)
        err = store_write (s, at, id->chain[i], id->chain_len[i]);
      at += (uint32_t) id->chain_len[i];
    }
  b[0] = (uint8_t) id->n_authorities;
  if (err == SP_OK)
    err = store_write (s, ID_N_AUTH, b, 1);
  for (i = 0; i < id->n_authorities && err == SP_OK; i++)
    {
      const sa_authority *a = &id->authorities[i];

      b[0] = (uint8_t) a->kid_len;
      err = store_write (s, ID_AUTH (i), b, 1);
      if (err == SP_OK)
        err = store_write (s, ID_AUTH (i) + 1, a->kid, a->kid_len);
      if (err == SP_OK)
        err = store_write (s, ID_AUTH (i) + 1 + SP_COSE_KID_MAX, a->pub,
                           SP_P256_PUB_LEN);
    }
  /* The CRC covers the bytes as they are in flash, gaps included. */
  if (err == SP_OK)
    err = sa_store_crc (s, 0, ID_CRC, &crc);
  if (err == SP_OK)
    {
      uint8_t c[4];

      put32 (c, crc);
      err = store_write (s, ID_CRC, c, 4);
    }
  return err;
}

sp_err
sa_store_identity_check (const sa_store *s)
{
  uint8_t hdr[8], c[4];
  uint32_t crc;
  sp_err err = sa_store_read (s, 0, hdr, sizeof hdr);

  if (err == SP_OK)
    err = sa_store_read (s, ID_CRC, c, 4);
  if (err == SP_OK)
    err = sa_store_crc (s, 0, ID_CRC, &crc);
  if (err != SP_OK)
    return err;
  if (get32 (hdr) != ID_MAGIC || get32 (hdr + 4) != ID_FORMAT || get32 (c) != crc)
    return SP_ERR_VALUE;
  return SP_OK;
}

sp_err
sa_store_identity_text (const sa_store *s, unsigned which, char *out, size_t *len)
{
  uint8_t n;
  sp_err err = sa_store_read (s, ID_TEXT (which), &n, 1);

  if (err == SP_OK && (n == 0 || n > SA_SERIAL_MAX))
    err = SP_ERR_VALUE;
  if (err == SP_OK)
    err = sa_store_read (s, ID_TEXT (which) + 1, (uint8_t *) out, n);
  if (err == SP_OK)
    *len = n;
  return err;
}

sp_err
sa_store_identity_text_equals (const sa_store *s, unsigned which, const char *p,
                               size_t len, bool *equal)
{
  uint8_t n;
  sp_err err = sa_store_read (s, ID_TEXT (which), &n, 1);

  *equal = false;
  if (err != SP_OK || n != len)
    return err;
  return sa_store_equals (s, ID_TEXT (which) + 1, (const uint8_t *) p, len, equal);
}

sp_err
sa_store_identity_key (const sa_store *s, unsigned which,
                       uint8_t d[SP_P256_SCALAR_LEN])
{
  return sa_store_read (s, ID_KEY (which), d, SP_P256_SCALAR_LEN);
}

sp_err
sa_store_identity_chain (const sa_store *s, size_t *n, uint32_t offset[3],
                         uint16_t len[3])
{
  uint8_t b[1 + 2 * SA_CHAIN_MAX];
  uint32_t at = ID_CHAIN;
  size_t i;
  sp_err err = sa_store_read (s, ID_N_CHAIN, b, sizeof b);

  if (err != SP_OK)
    return err;
  if (b[0] == 0 || b[0] > SA_CHAIN_MAX)
    return SP_ERR_VALUE;
  for (i = 0; i < b[0]; i++)
    {
      len[i] = get16 (b + 1 + 2 * i);
      if (len[i] == 0 || len[i] > SA_CERT_MAX)
        return SP_ERR_VALUE;
      offset[i] = at;
      at += len[i];
    }
  *n = b[0];
  return SP_OK;
}

sp_err
sa_store_identity_n_authorities (const sa_store *s, size_t *n)
{
  uint8_t b;
  sp_err err = sa_store_read (s, ID_N_AUTH, &b, 1);

  if (err == SP_OK && b > SA_AUTHORITIES_MAX)
    err = SP_ERR_VALUE;
  if (err == SP_OK)
    *n = b;
  return err;
}

sp_err
sa_store_identity_authority (const sa_store *s, size_t i, uint8_t *kid,
                             size_t *kid_len, uint8_t pub[SP_P256_PUB_LEN])
{
  uint8_t n;
  sp_err err = sa_store_read (s, ID_AUTH (i), &n, 1);

  if (err == SP_OK && (n == 0 || n > SP_COSE_KID_MAX))
    err = SP_ERR_VALUE;
  if (err == SP_OK)
    err = sa_store_read (s, ID_AUTH (i) + 1, kid, n);
  if (err == SP_OK)
    err = sa_store_read (s, ID_AUTH (i) + 1 + SP_COSE_KID_MAX, pub, SP_P256_PUB_LEN);
  if (err == SP_OK)
    *kid_len = n;
  return err;
}

/* ------------------------------------------------------------------ */
/* Format and bulk                                                     */
/* ------------------------------------------------------------------ */

sp_err
sa_store_format (sa_store *s, const sa_identity *id)
{
  sa_state st;
  uint32_t crc;
  sp_err err;

  err = store_erase (s, 0, s->flash->size);
  if (err == SP_OK)
    err = write_identity (s, id);
  if (err == SP_OK)
    err = store_write (s, sa_store_slot (s, 0), id->config, id->config_len);
  if (err == SP_OK)
    err = sa_store_crc (s, sa_store_slot (s, 0), id->config_len, &crc);
  if (err == SP_OK && crc != sp_crc32 (id->config, id->config_len))
    err = SP_ERR_VALUE;
  if (err != SP_OK)
    return err;

  memset (&st, 0, sizeof st);
  st.current.slot = 0;
  st.current.version = id->config_version;
  st.current.len = (uint16_t) id->config_len;
  st.current.crc = crc;
  st.previous.slot = SA_SLOT_NONE;
  st.pending.slot = SA_SLOT_NONE;
  st.revocation_slot = SA_SLOT_NONE;
  st.clock_floor = id->clock_floor;
  memset (&s->state, 0, sizeof s->state);
  s->active = 0;
  s->next_record = 0;
  return sa_store_append (s, &st);
}

sp_err
sa_store_bulk_write (const sa_store *s, uint32_t offset, const uint8_t *data,
                     size_t len)
{
  sp_err err;

  if (offset > s->bulk_size || len > s->bulk_size - offset)
    return SP_ERR_INVALID_ARG;
  while (len > 0)
    {
      uint32_t in_sector = offset % s->sector;
      size_t n = s->sector - in_sector;

      if (n > len)
        n = len;
      if (in_sector == 0)
        {
          err = s->flash->erase (s->ctx, s->bulk + offset);
          if (err != SP_OK)
            return err;
        }
      err = store_write (s, s->bulk + offset, data, n);
      if (err != SP_OK)
        return err;
      offset += (uint32_t) n;
      data += n;
      len -= n;
    }
  return SP_OK;
}
