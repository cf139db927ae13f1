#ifndef SKIFF_LAUNCHER_FORMAT_H
#define SKIFF_LAUNCHER_FORMAT_H

#include <stddef.h>

/* Podman's tables: no column narrower than this (printTable's MIN_COLUMN_WIDTH).  */
#define MIN_COLUMN_WIDTH 10

/* JavaScript's x.toFixed(digits) (0 <= x < 1e21).  */
void js_fixed (double x, int digits, char *out, size_t size);
/* src/util/units.ts humanSize: "1.5 kB", "12.3 MB", "0 B".  */
void human_size (double bytes, char *out, size_t size);

/* src/util/units.ts humanDuration: "Less than a second", "5 seconds", "About an hour", ...  */
void human_duration (long long since_ms, long long now_ms, char *out, size_t size);

#endif
