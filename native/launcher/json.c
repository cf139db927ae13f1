/* A minimal reader of JSON as JSON.stringify writes it (the store's records): members found by a
 * dotted path of keys, strings (ASCII escapes only), integers, arrays walked element by element.
 * Anything else is "not found", and the launcher's callers then leave the answer to Node.  */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"

const char *
json_skip_space (const char *p)
{
  while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
    p++;
  return p;
}

/* Past one value (string, number, literal, object, array); NULL when malformed.  */
const char *
json_skip_value (const char *p)
{
  p = json_skip_space (p);
  if (*p == '"')
    {
      for (p++; *p && *p != '"'; p++)
        if (*p == '\\' && !*++p)
          return NULL;
      return *p ? p + 1 : NULL;
    }
  if (*p == '{' || *p == '[')
    {
      char close = *p == '{' ? '}' : ']';
      p = json_skip_space (p + 1);
      if (*p == close)
        return p + 1;
      for (;;)
        {
          if (close == '}')
            {
              p = json_skip_value (p); /* the key */
              if (!p || *(p = json_skip_space (p)) != ':')
                return NULL;
              p++;
            }
          p = json_skip_value (p);
          if (!p)
            return NULL;
          p = json_skip_space (p);
          if (*p == close)
            return p + 1;
          if (*p != ',')
            return NULL;
          p++;
        }
    }
  const char *start = p;
  while (*p && !strchr (",}] \n\t\r", *p))
    p++;
  return p > start ? p : NULL;
}

/* The value at `path` ("config.cgroups") in the object `json`: its first character, NULL when absent.  */
const char *
json_find (const char *json, const char *path)
{
  const char *p = json_skip_space (json);
  while (*path)
    {
      size_t key_len = strcspn (path, ".");
      if (*p != '{')
        return NULL;
      p = json_skip_space (p + 1);
      bool found = false;
      while (*p == '"' && !found)
        {
          const char *key = p + 1, *after = json_skip_value (p);
          if (!after || *(after = json_skip_space (after)) != ':')
            return NULL;
          found = (size_t) (after - 1 - key) == key_len && strncmp (key, path, key_len) == 0;
          p = json_skip_space (after + 1);
          if (found)
            break;
          if (!(p = json_skip_value (p)) || *(p = json_skip_space (p)) != ',')
            return NULL;
          p = json_skip_space (p + 1);
        }
      if (!found)
        return NULL;
      path += key_len;
      if (*path == '.')
        path++;
    }
  return p;
}

/* The string at `p`, unescaped, copied; false when it is not a string or does not fit.  Escapes
   of characters beyond ASCII are refused (JavaScript counts those in UTF-16 units, C in bytes).  */
bool
json_string_at (const char *p, char *out, size_t size)
{
  if (!p || *p != '"')
    return false;
  size_t n = 0;
  for (p++; *p != '"'; p++)
    {
      if (!*p || n + 1 >= size)
        return false;
      char c = *p;
      if (c == '\\')
        {
          unsigned code;
          switch (*++p)
            {
            case '"':
            case '\\':
            case '/':
              c = *p;
              break;
            case 'b':
              c = '\b';
              break;
            case 'f':
              c = '\f';
              break;
            case 'n':
              c = '\n';
              break;
            case 'r':
              c = '\r';
              break;
            case 't':
              c = '\t';
              break;
            case 'u':
              if (strspn (p + 1, "0123456789abcdefABCDEF") < 4 || sscanf (p + 1, "%4x", &code) != 1 || code == 0 || code >= 0x80)
                return false;
              c = (char) code;
              p += 4;
              break;
            default:
              return false;
            }
        }
      out[n++] = c;
    }
  out[n] = '\0';
  return true;
}

/* A string member, unescaped, copied; false when absent or not such a string.  */
bool
json_string (const char *json, const char *path, char *out, size_t size)
{
  return json_string_at (json_find (json, path), out, size);
}

/* A non-negative integer member; -1 when absent or not one.  */
long long
json_integer (const char *json, const char *path)
{
  const char *p = json_find (json, path);
  if (!p || *p < '0' || *p > '9')
    return -1;
  char *end;
  long long n = strtoll (p, &end, 10);
  return strchr (",}] \n\t\r", *end) ? n : -1;
}

/* An integer member, negative ones too; false when absent or not one.  */
bool
json_signed (const char *json, const char *path, long long *out)
{
  const char *p = json_find (json, path);
  if (!p || !(*p == '-' || (*p >= '0' && *p <= '9')))
    return false;
  char *end;
  *out = strtoll (p, &end, 10);
  return end > p + (*p == '-') && strchr (",}] \n\t\r", *end);
}

/* The first element of the array at `p` (its '['), or at its ']' when empty; NULL when `p` is
   not an array.  */
const char *
json_first (const char *p)
{
  return p && *p == '[' ? json_skip_space (p + 1) : NULL;
}

/* The element after the one at `p`, or the array's ']'; NULL when malformed.  */
const char *
json_next (const char *p)
{
  p = json_skip_value (p);
  if (!p)
    return NULL;
  p = json_skip_space (p);
  if (*p == ',')
    return json_skip_space (p + 1);
  return *p == ']' ? p : NULL;
}

/* "2026-12-07T18:50:29.095Z" (Date's toISOString; the monitor's exit file has nanoseconds) in ms
   since the epoch, the fraction cut to milliseconds as JavaScript's Date.parse does; -1 otherwise.  */
long long
iso_ms (const char *text)
{
  struct tm tm = { 0 };
  int used = 0;
  if (sscanf (text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6 || used != 19)
    return -1;
  const char *p = text + 19;
  long long ms = 0;
  if (*p == '.')
    {
      size_t digits = strspn (++p, "0123456789");
      if (digits < 1 || digits > 9)
        return -1;
      for (size_t i = 0; i < 3; i++)
        ms = ms * 10 + (i < digits ? p[i] - '0' : 0);
      p += digits;
    }
  if (strcmp (p, "Z") != 0)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (long long) timegm (&tm) * 1000 + ms;
}
