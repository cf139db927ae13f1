/* Prints native/launcher/format.c's numbers for
   test/unit/launcher/format.test.ts: each input line "s BYTES" (human_size) or
   "f X DIGITS" (js_fixed) gives one output line.  */
#include <stdio.h>

#include "format.h"

int main(void) {
  char line[128], out[512];
  while (fgets(line, sizeof line, stdin)) {
    char kind;
    double x;
    int digits = 0;
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
