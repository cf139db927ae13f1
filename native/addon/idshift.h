/* idshift.h: an id-shifted copy of a layer directory (see idshift.c).  */
#ifndef SKIFF_IDSHIFT_H
#define SKIFF_IDSHIFT_H
#include <stddef.h>
#include <stdint.h>

/* One range of a user namespace's map: ids inner..inner+count-1 in the container are
 * outer..outer+count-1 in skiff's namespace.  */
struct idshift_range
{
  uint32_t inner, outer, count;
};

struct idshift_map
{
  const struct idshift_range *ranges;
  size_t len;
};

struct idshift_result
{
  uint64_t files, bytes;
  int err;
  char message[512];
};

/* map(id), or id itself where no range holds it.  */
uint32_t idshift_id (const struct idshift_map *map, uint32_t id);

/* Fills the existing, empty directory `target` with a copy of `source` whose owners are map(owner),
 * the data copied by `threads` threads.  0, or -1 with result->message.  */
int idshift_copy (const char *source, const char *target, const struct idshift_map *uids, const struct idshift_map *gids, int threads,
                  struct idshift_result *result);
#endif
