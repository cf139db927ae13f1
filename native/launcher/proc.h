#ifndef SKIFF_LAUNCHER_PROC_H
#define SKIFF_LAUNCHER_PROC_H

#include <stdbool.h>
#include <stddef.h>

size_t read_small (const char *path, char *buf, size_t size);
char *read_bounded (const char *path, size_t max);
bool start_time (const char *pid, char *out, size_t size);
bool data_dir (char *out, size_t size);

struct dirent;
int container_ids (const char *data, struct dirent ***entries);

#endif
