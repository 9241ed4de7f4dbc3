/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sp-crypto-port.h"

void
sp_wipe (void *p, size_t len)
{
  /* A volatile pointer keeps the stores: proto is C99 and cannot rely on
   * explicit_bzero or memset_s being there on a device. */
  volatile unsigned char *v = p;

  while (len--)
    *v++ = 0;
}

int
sp_ct_memcmp (const void *a, const void *b, size_t len)
{
  const unsigned char *x = a;
  const unsigned char *y = b;
  unsigned char acc = 0;
  size_t i;

  for (i = 0; i < len; i++)
    acc |= (unsigned char) (x[i] ^ y[i]);
  return acc != 0;
}
