/* Prints native/launcher/format.c's numbers for
   test/unit/launcher/format.test.ts: each input line "s BYTES" (human_size),
   "f X DIGITS" (js_fixed), "d SINCE_MS NOW_MS" (human_duration), "i ISO-TIME"
   (json.c's iso_ms) or "j JSON-STRING" (json_string_at; "-" when refused) gives one
   output line.  */
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "json.h"

int main(void) {
  char line[128], out[512];
  while (fgets(line, sizeof line, stdin)) {
    char kind, text[100];
    double x;
    int digits = 0;
    long long since, now;
    if (line[0] == 'j' && line[1] == ' ') {
      line[strcspn(line, "\n")] = '\0';
      puts(json_string_at(line + 2, out, sizeof out) ? out : "-");
      continue;
    }
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
