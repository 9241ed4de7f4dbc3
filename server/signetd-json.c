/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "signetd-json.h"

G_DEFINE_QUARK (signetd-json-error-quark, signetd_json_error)

/* ---- the strict pre-scan ------------------------------------------------ */

/* RFC 8259 over bytes already known to be UTF-8 without NUL. It builds
 * nothing but the decoded names of the members of the objects it is in, to
 * find duplicates; values are skipped, never copied (they may be secrets).
 * Recursion is bounded by SIGNETD_JSON_MAX_DEPTH. */
typedef struct {
  const char *p;
  gsize len;
  gsize pos;
  guint depth;
  guint n_members;
} Scanner;

static gboolean scan_value (Scanner *s, GError **error);

static gboolean
malformed (GError **error)
{
  /* Never quote the input: a body may hold a password. */
  g_set_error_literal (error, SIGNETD_JSON_ERROR, SIGNETD_JSON_ERROR_MALFORMED, "malformed JSON");
  return FALSE;
}

static void
skip_ws (Scanner *s)
{
  while (s->pos < s->len &&
         (s->p[s->pos] == ' ' || s->p[s->pos] == '\t' || s->p[s->pos] == '\n' ||
          s->p[s->pos] == '\r'))
    s->pos++;
}

/* The byte at pos, or 0 at the end (the input holds no NUL). */
static char
peek (const Scanner *s)
{
  return s->pos < s->len ? s->p[s->pos] : '\0';
}

static gboolean
read_hex4 (Scanner *s,
           gunichar *out)
{
  gunichar v = 0;

  if (s->len - s->pos < 4)
    return FALSE;
  for (int i = 0; i < 4; i++)
    {
      int d = g_ascii_xdigit_value (s->p[s->pos + i]);

      if (d < 0)
        return FALSE;
      v = (v << 4) | (gunichar) d;
    }
  s->pos += 4;
  *out = v;
  return TRUE;
}

/* A string at pos (on its opening quote). If name is not NULL, it is a
 * member name and its decoded text is appended to name. Unpaired surrogates
 * are refused everywhere (json-glib 1.6 has no defined answer for them), and
 * so is \u0000: json-glib cuts strings at a NUL, so the name "a\u0000x"
 * would be member "a" -- a duplicate the comparison here would miss -- and
 * the value "alice\u0000x" would silently be "alice". */
static gboolean
scan_string (Scanner  *s,
             GString  *name,
             GError  **error)
{
  s->pos++;
  for (;;)
    {
      guchar c;
      gsize start = s->pos;

      /* A run of plain bytes. */
      while (s->pos < s->len && s->p[s->pos] != '"' && s->p[s->pos] != '\\' &&
             (guchar) s->p[s->pos] >= 0x20)
        s->pos++;
      if (name != NULL)
        g_string_append_len (name, s->p + start, (gssize) (s->pos - start));
      if (s->pos >= s->len)
        return malformed (error);
      c = (guchar) s->p[s->pos++];
      if (c == '"')
        return TRUE;
      if (c != '\\')
        return malformed (error);  /* a control character */

      if (s->pos >= s->len)
        return malformed (error);
      c = (guchar) s->p[s->pos++];
      switch (c)
        {
        case '"': case '\\': case '/':
          break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u':
          {
            gunichar u, lo;

            if (!read_hex4 (s, &u) || u == 0 ||
                (u >= 0xDC00 && u <= 0xDFFF))
              return malformed (error);
            if (u >= 0xD800 && u <= 0xDBFF)
              {
                if (s->len - s->pos < 2 || s->p[s->pos] != '\\' || s->p[s->pos + 1] != 'u')
                  return malformed (error);
                s->pos += 2;
                if (!read_hex4 (s, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                  return malformed (error);
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
              }
            if (name != NULL)
              g_string_append_unichar (name, u);
            continue;
          }
        default:
          return malformed (error);
        }
      if (name != NULL)
        g_string_append_c (name, (char) c);
    }
}

static gboolean
scan_digits (Scanner *s)
{
  gsize start = s->pos;

  while (s->pos < s->len && g_ascii_isdigit (s->p[s->pos]))
    s->pos++;
  return s->pos > start;
}

/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static gboolean
scan_number (Scanner  *s,
             GError  **error)
{
  if (peek (s) == '-')
    s->pos++;
  if (peek (s) == '0')
    s->pos++;
  else if (!scan_digits (s))
    return malformed (error);
  if (peek (s) == '.')
    {
      s->pos++;
      if (!scan_digits (s))
        return malformed (error);
    }
  if (peek (s) == 'e' || peek (s) == 'E')
    {
      s->pos++;
      if (peek (s) == '+' || peek (s) == '-')
        s->pos++;
      if (!scan_digits (s))
        return malformed (error);
    }
  return TRUE;
}

static gboolean
scan_literal (Scanner     *s,
              const char  *word,
              GError     **error)
{
  gsize n = strlen (word);

  if (s->len - s->pos < n || memcmp (s->p + s->pos, word, n) != 0)
    return malformed (error);
  s->pos += n;
  return TRUE;
}

static gboolean
enter (Scanner  *s,
       GError  **error)
{
  if (s->depth >= SIGNETD_JSON_MAX_DEPTH)
    {
      g_set_error (error, SIGNETD_JSON_ERROR, SIGNETD_JSON_ERROR_TOO_DEEP,
                   "the JSON nests deeper than %d levels", SIGNETD_JSON_MAX_DEPTH);
      return FALSE;
    }
  s->depth++;
  s->pos++;
  return TRUE;
}

static gboolean
scan_object (Scanner  *s,
             GError  **error)
{
  g_autoptr(GHashTable) names = NULL;

  if (!enter (s, error))
    return FALSE;
  skip_ws (s);
  if (peek (s) == '}')
    {
      s->pos++;
      s->depth--;
      return TRUE;
    }
  names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (;;)
    {
      g_autoptr(GString) name = g_string_new (NULL);

      if (peek (s) != '"')
        return malformed (error);
      if (!scan_string (s, name, error))
        return FALSE;
      if (++s->n_members > SIGNETD_JSON_MAX_MEMBERS)
        {
          g_set_error (error, SIGNETD_JSON_ERROR, SIGNETD_JSON_ERROR_TOO_MANY_MEMBERS,
                       "more than %d members in the request", SIGNETD_JSON_MAX_MEMBERS);
          return FALSE;
        }
      /* The name is not quoted back: it comes from the client. */
      if (g_hash_table_contains (names, name->str))
        {
          g_set_error_literal (error, SIGNETD_JSON_ERROR, SIGNETD_JSON_ERROR_DUPLICATE_MEMBER,
                               "duplicate member in the request");
          return FALSE;
        }
      g_hash_table_add (names, g_string_free (g_steal_pointer (&name), FALSE));

      skip_ws (s);
      if (peek (s) != ':')
        return malformed (error);
      s->pos++;
      skip_ws (s);
      if (!scan_value (s, error))
        return FALSE;
      skip_ws (s);
      if (peek (s) == '}')
        break;
      if (peek (s) != ',')
        return malformed (error);
      s->pos++;
      skip_ws (s);
    }
  s->pos++;
  s->depth--;
  return TRUE;
}

static gboolean
scan_array (Scanner  *s,
            GError  **error)
{
  if (!enter (s, error))
    return FALSE;
  skip_ws (s);
  if (peek (s) == ']')
    {
      s->pos++;
      s->depth--;
      return TRUE;
    }
  for (;;)
    {
      if (!scan_value (s, error))
        return FALSE;
      skip_ws (s);
      if (peek (s) == ']')
        break;
      if (peek (s) != ',')
        return malformed (error);
      s->pos++;
      skip_ws (s);
    }
  s->pos++;
  s->depth--;
  return TRUE;
}

/* A value at pos (whitespace already skipped). */
static gboolean
scan_value (Scanner  *s,
            GError  **error)
{
  switch (peek (s))
    {
    case '{':
      return scan_object (s, error);
    case '[':
      return scan_array (s, error);
    case '"':
      return scan_string (s, NULL, error);
    case 't':
      return scan_literal (s, "true", error);
    case 'f':
      return scan_literal (s, "false", error);
    case 'n':
      return scan_literal (s, "null", error);
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
      return scan_number (s, error);
    default:
      return malformed (error);
    }
}

/* ---- public API --------------------------------------------------------- */

/**
 * signetd_json_check:
 * @data: (array length=len): the body
 * @len: its length
 * @n_members: (out) (optional): the number of members of all objects
 * @error: a #GError, or %NULL
 *
 * Checks that @data is one JSON text (RFC 8259) in UTF-8, nested at most
 * %SIGNETD_JSON_MAX_DEPTH deep, with at most %SIGNETD_JSON_MAX_MEMBERS
 * members, no two members of one object with the same name (compared after
 * unescaping), no unpaired surrogate escape and no `\u0000` anywhere.
 *
 * Returns: %TRUE if so; otherwise %FALSE with @error set
 *   (%SIGNETD_JSON_ERROR_MALFORMED, _TOO_DEEP, _TOO_MANY_MEMBERS or
 *   _DUPLICATE_MEMBER), whose message never quotes @data.
 */
gboolean
signetd_json_check (const char  *data,
                    gsize        len,
                    guint       *n_members,
                    GError     **error)
{
  Scanner s = { data, len, 0, 0, 0 };

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* g_utf8_validate () with a length also refuses NUL bytes. */
  if (len == 0 || len > G_MAXSSIZE || !g_utf8_validate (data, (gssize) len, NULL))
    return malformed (error);
  skip_ws (&s);
  if (!scan_value (&s, error))
    return FALSE;
  skip_ws (&s);
  if (s.pos != len)
    return malformed (error);
  if (n_members != NULL)
    *n_members = s.n_members;
  return TRUE;
}

/**
 * signetd_json_body_parse:
 * @data: (array length=len): the body
 * @len: its length
 * @spec: (array length=n_spec) (nullable): the members the body must hold
 * @n_spec: their number
 * @out_parser: (out) (transfer full): the parser that owns @out_obj
 * @out_obj: (out) (transfer none): the body's object
 * @error: a #GError, or %NULL
 *
 * Parses a request body that must be a JSON object holding exactly the
 * members of @spec, each of its type, after signetd_json_check().
 *
 * Returns: %TRUE on success; otherwise %FALSE with @error set in
 *   %SIGNETD_JSON_ERROR, with a message fit for a 400 answer.
 */
gboolean
signetd_json_body_parse (const char               *data,
                         gsize                     len,
                         const SignetdJsonMember  *spec,
                         gsize                     n_spec,
                         JsonParser              **out_parser,
                         JsonObject              **out_obj,
                         GError                  **error)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonNode *root;
  JsonObject *obj;

  g_return_val_if_fail (spec != NULL || n_spec == 0, FALSE);
  g_return_val_if_fail (out_parser != NULL && out_obj != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *out_parser = NULL;
  *out_obj = NULL;
  if (!signetd_json_check (data, len, NULL, error))
    return FALSE;
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize) len, NULL))
    /* json-glib's messages quote the input: say nothing more. */
    return malformed (error);
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, SIGNETD_JSON_ERROR, SIGNETD_JSON_ERROR_NOT_OBJECT,
                           "the body must be a JSON object");
      return FALSE;
    }
  obj = json_node_get_object (root);
  {
    g_autoptr(GList) names = json_object_get_members (obj);

    for (GList *l = names; l != NULL; l = l->next)
      {
        gboolean known = FALSE;

        for (gsize i = 0; i < n_spec && !known; i++)
          known = g_str_equal (spec[i].name, l->data);
        if (!known)
          {
            g_set_error_literal (error, SIGNETD_JSON_ERROR, SIGNETD_JSON_ERROR_UNKNOWN_MEMBER,
                                 "unknown member in the request");
            return FALSE;
          }
      }
  }
  for (gsize i = 0; i < n_spec; i++)
    {
      static const char * const what[] = { "a string", "an object", "an array" };
      JsonNode *node = json_object_get_member (obj, spec[i].name);

      if (node == NULL)
        {
          g_set_error (error, SIGNETD_JSON_ERROR, SIGNETD_JSON_ERROR_MISSING_MEMBER,
                       "missing member \"%s\"", spec[i].name);
          return FALSE;
        }
      if ((spec[i].type == SIGNETD_JSON_MEMBER_STRING &&
           (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)) ||
          (spec[i].type == SIGNETD_JSON_MEMBER_OBJECT && !JSON_NODE_HOLDS_OBJECT (node)) ||
          (spec[i].type == SIGNETD_JSON_MEMBER_ARRAY && !JSON_NODE_HOLDS_ARRAY (node)))
        {
          g_set_error (error, SIGNETD_JSON_ERROR, SIGNETD_JSON_ERROR_WRONG_TYPE,
                       "member \"%s\" must be %s", spec[i].name, what[spec[i].type]);
          return FALSE;
        }
    }
  *out_parser = g_steal_pointer (&parser);
  *out_obj = obj;
  return TRUE;
}
