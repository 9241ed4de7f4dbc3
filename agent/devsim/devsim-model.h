/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devsim-model.h: a device model read from its JSON description
 * (data/models/NAME.json; the format is in docs/devsim.md).
 *
 * A model is what ships with a device's firmware: its name, its firmware
 * version, the schema every configuration is judged by (sa_schema, with
 * keys, types, ranges, enums, secret/critical flags and classes) and the
 * factory configuration (version and values). Parsing is strict: unknown
 * members, wrong types, keys that do not fit the profile key syntax of
 * docs/api.md, out-of-range initial values and the like are refused, each
 * with a message that names the member (`fields[2].max: ...`).
 *
 * Ownership: a DevsimModel owns its sa_schema and every string in it; the
 * schema stays valid (and unchanged) until the model is freed, which is
 * what the agent needs (it borrows the schema for its whole life).
 */
#pragma once

#include <glib.h>

#include "sa-agent.h"

G_BEGIN_DECLS

/* Bounds of a model file. */
#define DEVSIM_MODEL_MAX_FIELDS 64
#define DEVSIM_MODEL_MAX_KEY 64
#define DEVSIM_MODEL_MAX_NAME 64
#define DEVSIM_MODEL_MAX_VALUES 64
#define DEVSIM_MODEL_MAX_STRING 1024
#define DEVSIM_MODEL_MAX_JSON (64 * 1024)

typedef struct _DevsimModel DevsimModel;

/* Returns: (transfer full) (nullable) */
DevsimModel     *devsim_model_new_from_data           (const char   *json,
                                                       gssize        len,
                                                       GError      **error);
/* Returns: (transfer full) (nullable) */
DevsimModel     *devsim_model_new_from_file           (const char   *path,
                                                       GError      **error);
void             devsim_model_free                    (DevsimModel  *self);

/* The model name ("acme-gw1"). Returns: (transfer none) */
const char      *devsim_model_get_name                (DevsimModel  *self);
/* The firmware version the model file names. Returns: (transfer none) */
const char      *devsim_model_get_firmware            (DevsimModel  *self);
/* Returns: (transfer none): valid until self is freed; fields sorted in
 * deterministic CBOR order of their keys */
const sa_schema *devsim_model_get_schema              (DevsimModel  *self);
/* The version of the factory configuration (at least 1). */
guint64          devsim_model_get_config_version      (DevsimModel  *self);
/* The factory configuration: a deterministic CBOR map of the keys that
 * have an initial value. Returns: (transfer none) */
GBytes          *devsim_model_get_initial_config      (DevsimModel  *self);
/* The JSON text the model was read from (what the simulator keeps in its
 * ROM). Returns: (transfer none) */
GBytes          *devsim_model_get_json                (DevsimModel  *self);

/* The field of key, or NULL. Returns: (transfer none) (nullable) */
const sa_field  *devsim_model_lookup                  (DevsimModel  *self,
                                                       const char   *key);

/* The deterministic CBOR order of two text keys: shorter first, then
 * bytewise (RFC 8949 §4.2.1). */
int              devsim_model_key_compare             (const char   *a,
                                                       const char   *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DevsimModel, devsim_model_free)

G_END_DECLS
