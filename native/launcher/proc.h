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

/* A container's container.json (up to record_max) and state.json, read whole: 1; 0 when it has
   no record (being made, or gone: Node skips it); -1 when Node must answer.  Both are the
   caller's to free, also on -1.  */
int container_files (const char *data, const char *id, size_t record_max, char **record, char **state);
/* A running container's monitor is alive (its pid with the recorded start time) and has written no
   exit file yet: the plain case the launcher answers for.  */
bool monitor_alive (const char *run, const char *id, const char *state);
/* The container has a cgroup of its own: a manager recorded, other than none, cgroups not disabled.  */
bool own_cgroup (const char *record);

#endif
