/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sa-schema.h: the device's model schema -- the keys its configuration
 * may hold, their types, ranges and classes -- and the checks of values
 * against it (docs/protocol.md, APPLY). The schema ships with the
 * firmware; a device judges every change by it, never by the service's
 * profile.
 *
 * Ownership: the agent borrows the schema (and every string in it) for
 * its whole life. Nothing here allocates or keeps state.
 */
#ifndef SA_SCHEMA_H
#define SA_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp-cbor.h"
#include "sp-error.h"
#include "sp-msg.h"

typedef enum sa_type {
  SA_TYPE_STRING = 1,
  SA_TYPE_INT = 2,
  SA_TYPE_BOOL = 3,
  SA_TYPE_ENUM = 4,
} sa_type;

/* The numbers are the profiles' (docs/api.md). */
typedef enum sa_class {
  SA_CLASS_CONFIG = 1,      /* scope word config.write */
  SA_CLASS_CREDENTIAL = 2,  /* credential.rotate */
  SA_CLASS_FIRMWARE = 3,    /* firmware.update */
} sa_class;

typedef struct sa_field {
  const char *key;               /* dotted name, as in profiles, 1..64 bytes */
  sa_type type;
  int64_t min, max;              /* INT: the value; STRING: length in bytes */
  const char *const *values;     /* ENUM: the allowed values */
  size_t n_values;
  bool secret;                   /* only STRING; sent sealed, never read back */
  sa_class klass;
  bool critical;                 /* needs a fresh sign-in (step-up) */
} sa_field;

typedef struct sa_schema {
  const char *model;
  const sa_field *fields;        /* sorted by key in deterministic CBOR order
                                  * (shorter first, then bytewise) */
  size_t n_fields;               /* at most SA_MAX_FIELDS */
} sa_schema;

/* Fields a schema may have. */
#define SA_MAX_FIELDS 64

/* Scope bits of a session's token; a class's bit is 1 << klass. */
#define SA_SCOPE_READ 1u                           /* device.read */
#define SA_SCOPE_OF(klass) (1u << (unsigned) (klass))

/* The scope word of a class ("config.write"...), NULL for an unknown one. */
const char *sa_class_scope (sa_class klass);

/* SP_OK if the schema is one the agent can use: a model of 1..64 bytes;
 * at most SA_MAX_FIELDS keys of 1..64 bytes in deterministic order
 * without duplicates; known
 * types and classes; min <= max (STRING: 0 <= min); ENUM with 1.. values
 * of 1..64 bytes; secret only on STRING. SP_ERR_VALUE otherwise. */
sp_err sa_schema_check (const sa_schema *schema);

/* The field named key[0..len), or NULL (binary search). */
const sa_field *sa_schema_find (const sa_schema *schema, const char *key,
                                size_t len);

/* Does v (a decoded value) have f's type and lie in its range / length /
 * enum? */
bool sa_schema_value_ok (const sa_field *f, const sp_msg_value *v);

/* Is p[0..len) valid UTF-8 and a value of a STRING or ENUM field f? */
bool sa_schema_text_ok (const sa_field *f, const uint8_t *p, size_t len);

/* Check a whole configuration: one deterministic CBOR map of schema keys
 * with values that pass sa_schema_value_ok (), decoded with
 * items[0..max_items) (a map of n keys takes 1 + 2n). */
sp_err sa_schema_check_config (const sa_schema *schema, const uint8_t *cbor,
                               size_t len, sp_cbor_item *items,
                               size_t max_items);

#endif /* SA_SCHEMA_H */
