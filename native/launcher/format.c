/* Numbers printed as skiff's Node code prints them (stats.c's columns must be the same bytes).
   JavaScript rounds a decimal tie away from zero on the exact binary value (toFixed,
   toPrecision), where printf rounds it to even: so the exact digits are taken from printf (musl's
   and glibc's are exact) and rounded here.  */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

/* Rounds the decimal digit string `digits` (no sign, no point) to its first `keep` digits, half
   up; returns true when that carried into a new leading digit (digits then holds "1" and zeros).  */
static bool
round_digits (char *digits, size_t keep)
{
  size_t len = strlen (digits);
  if (keep >= len)
    return false;
  bool up = digits[keep] >= '5';
  digits[keep] = '\0';
  for (size_t i = keep; up && i-- > 0;)
    {
      if (digits[i] == '9')
        digits[i] = '0';
      else
        {
          digits[i]++;
          up = false;
        }
    }
  if (!up)
    return false;
  memmove (digits + 1, digits, keep + 1);
  digits[0] = '1';
  return true;
}

void
js_fixed (double x, int digits, char *out, size_t size)
{
  /* The exact expansion, then the digits up to `digits` after the point, rounded.  */
  char exact[512];
  snprintf (exact, sizeof exact, "%.120f", x < 0 ? -x : x);
  char *point = strchr (exact, '.');
  size_t whole = (size_t) (point - exact);
  memmove (point, point + 1, strlen (point + 1) + 1);
  bool carried = round_digits (exact, whole + (size_t) digits);
  if (carried)
    whole++;
  snprintf (out, size, "%s%.*s%s%s", x < 0 && strspn (exact, "0") < strlen (exact) ? "-" : "", (int) whole, exact, digits ? "." : "", exact + whole);
}

/* String(Number(x.toPrecision(3))) for 0 <= x < 1e21.  */
static void
js_precision3 (double x, char *out, size_t size)
{
  if (x == 0)
    {
      snprintf (out, size, "0");
      return;
    }
  char exact[512];
  snprintf (exact, sizeof exact, "%.120e", x);
  char *e = strchr (exact, 'e');
  int exponent = atoi (e + 1);
  *e = '\0';
  memmove (exact + 1, exact + 2, strlen (exact + 2) + 1); /* d.ddd → dddd */
  if (round_digits (exact, 3))
    {
      exponent++;
      exact[3] = '\0';
    }
  /* The three digits times 10^(exponent-2), as the shortest decimal: no exponent below 1e21.  */
  size_t significant = 3;
  while (significant > 1 && exact[significant - 1] == '0')
    significant--;
  exact[significant] = '\0';
  int point = exponent + 1; /* digits before the point */
  char text[64];
  size_t n = 0;
  if (point <= 0)
    {
      text[n++] = '0';
      text[n++] = '.';
      for (int z = 0; z < -point && n < 40; z++)
        text[n++] = '0';
      for (size_t d = 0; d < significant; d++)
        text[n++] = exact[d];
    }
  else
    for (size_t d = 0; d < significant || (int) d < point; d++)
      {
        if ((int) d == point && d < significant)
          text[n++] = '.';
        text[n++] = d < significant ? exact[d] : '0';
        if (n > 40)
          break;
      }
  text[n] = '\0';
  snprintf (out, size, "%s", text);
}

void
human_size (double bytes, char *out, size_t size)
{
  static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
  double value = bytes;
  int i = 0;
  while (value >= 1000 && i < 5)
    {
      value /= 1000;
      i++;
    }
  char number[64];
  js_precision3 (value, number, sizeof number);
  snprintf (out, size, "%s %s", number, units[i]);
}

/* src/util/units.ts humanDuration: the time from `since_ms` to `now_ms` in go-units' words.  */
void
human_duration (long long since_ms, long long now_ms, char *out, size_t size)
{
  double seconds = (double) (now_ms - since_ms) / 1000;
  if (seconds < 0)
    seconds = 0;
  double minutes = seconds / 60, hours = minutes / 60, days = hours / 24;
  if (seconds < 1)
    snprintf (out, size, "Less than a second");
  else if (seconds < 2)
    snprintf (out, size, "1 second");
  else if (seconds < 60)
    snprintf (out, size, "%lld seconds", (long long) seconds);
  else if (minutes < 2)
    snprintf (out, size, "About a minute");
  else if (minutes < 60)
    snprintf (out, size, "%lld minutes", (long long) minutes);
  else if (hours < 2)
    snprintf (out, size, "About an hour");
  else if (hours < 48)
    snprintf (out, size, "%lld hours", (long long) hours);
  else if (days < 14)
    snprintf (out, size, "%lld days", (long long) days);
  else if (days < 60)
    snprintf (out, size, "%lld weeks", (long long) (days / 7));
  else if (days < 730)
    snprintf (out, size, "%lld months", (long long) (days / 30));
  else
    snprintf (out, size, "%lld years", (long long) (days / 365));
}
