#ifndef SKIFF_LAUNCHER_JSON_H
#define SKIFF_LAUNCHER_JSON_H

#include <stdbool.h>
#include <stddef.h>

const char *json_skip_space (const char *p);
/* Past one value (string, number, literal, object, array); NULL when malformed.  */
const char *json_skip_value (const char *p);
/* The value at `path` ("config.cgroups") in the object `json`: its first character, NULL when absent.  */
const char *json_find (const char *json, const char *path);
bool json_string_at (const char *p, char *out, size_t size);
bool json_string (const char *json, const char *path, char *out, size_t size);
long long json_integer (const char *json, const char *path);
bool json_signed (const char *json, const char *path, long long *out);
const char *json_first (const char *p);
const char *json_next (const char *p);
/* "2026-12-07T18:50:29.095Z" (Date's toISOString) in ms since the epoch; -1 otherwise.  */
long long iso_ms (const char *text);

#endif
