/* Prints native/launcher/format.c's numbers for
   test/unit/launcher/format.test.ts: each input line "s BYTES" (human_size),
   "f X DIGITS" (js_fixed), "d SINCE_MS NOW_MS" (human_duration) or "i ISO-TIME"
   (json.c's iso_ms) gives one output line.  */
#include <stdio.h>

#include "format.h"
#include "json.h"

int main(void) {
  char line[128], out[512];
  while (fgets(line, sizeof line, stdin)) {
    char kind, text[100];
    double x;
    int digits = 0;
    long long since, now;
    if (sscanf(line, "i %99s", text) == 1) {
      printf("%lld\n", iso_ms(text));
      continue;
    }
    if (sscanf(line, "d %lld %lld", &since, &now) == 2) {
      human_duration(since, now, out, sizeof out);
      puts(out);
      continue;
    }
    if (sscanf(line, "%c %lf %d", &kind, &x, &digits) < 2)
      return 2;
    if (kind == 's')
      human_size(x, out, sizeof out);
    else
      js_fixed(x, digits, out, sizeof out);
    puts(out);
  }
  return 0;
}
