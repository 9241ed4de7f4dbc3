/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-json-body: signetd's strict JSON request bodies (server/signetd-json.c),
 * what any client on the network sends. Oracles: a body the pre-scan accepts
 * holds, in json-glib's tree, exactly as many members as the pre-scan counted
 * (so json-glib merged no two members the pre-scan took for different
 * names); a body accepted against a spec has exactly its members.
 */
#include <stdint.h>
#include <stdlib.h>

#include "signetd-json.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static guint
count_members (JsonNode *node)
{
  guint n = 0;

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *obj = json_node_get_object (node);
      g_autoptr(GList) values = json_object_get_values (obj);

      n = json_object_get_size (obj);
      for (GList *l = values; l != NULL; l = l->next)
        n += count_members (l->data);
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        n += count_members (json_array_get_element (array, i));
    }
  return n;
}

static void
parse_with (const char *text, gsize len, const SignetdJsonMember *spec, gsize n_spec)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *obj = NULL;

  if (!signetd_json_body_parse (text, len, spec, n_spec, &parser, &obj, &error))
    {
      if (error == NULL || error->domain != SIGNETD_JSON_ERROR || parser != NULL || obj != NULL)
        abort ();
      return;
    }
  if (error != NULL || parser == NULL || obj == NULL || json_object_get_size (obj) != n_spec)
    abort ();
  for (gsize i = 0; i < n_spec; i++)
    if (!json_object_has_member (obj, spec[i].name))
      abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const SignetdJsonMember login[] = {
    { "username", SIGNETD_JSON_MEMBER_STRING },
    { "password", SIGNETD_JSON_MEMBER_STRING },
    { "otp", SIGNETD_JSON_MEMBER_STRING },
    { "pop_key", SIGNETD_JSON_MEMBER_OBJECT },
  };
  static const SignetdJsonMember seal[] = {
    { "evidence", SIGNETD_JSON_MEMBER_STRING },
    { "chain", SIGNETD_JSON_MEMBER_ARRAY },
    { "profile", SIGNETD_JSON_MEMBER_STRING },
    { "fields", SIGNETD_JSON_MEMBER_ARRAY },
  };
  const char *text = (const char *) data;
  g_autoptr(JsonParser) parser = NULL;
  guint n_members = 0;

  /* signetd reads at most 64 KiB of body. */
  if (size > 65536)
    return 0;

  if (signetd_json_check (text, size, &n_members, NULL))
    {
      parser = json_parser_new_immutable ();
      if (json_parser_load_from_data (parser, text, (gssize) size, NULL) &&
          count_members (json_parser_get_root (parser)) != n_members)
        abort ();
    }

  parse_with (text, size, login, G_N_ELEMENTS (login));
  parse_with (text, size, seal, G_N_ELEMENTS (seal));
  parse_with (text, size, NULL, 0);
  return 0;
}
