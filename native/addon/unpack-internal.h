/* unpack-internal.h: what the layer unpacker's three parts share: the unpacker's state, and the
 * functions each part offers the others.  unpack.c drives (the queue, the thread, gunzip, digests,
 * the JavaScript side), tar.c reads the tar format, tree.c writes the tree safely.  */
#ifndef SKIFF_UNPACK_INTERNAL_H
#define SKIFF_UNPACK_INTERNAL_H
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <node_api.h>
/* Node exports its OpenSSL and zlib to addons; the headers come with Node's (or the system's).  */
#include <openssl/evp.h>
#include <zlib.h>

#define HIGH_WATER (8u << 20) /* push returns false above this many queued bytes */
#define LOW_WATER (2u << 20)  /* and 'drain' comes when the queue is back below this */
#define OUT_CHUNK (256u << 10)
#define MAX_META (1u << 20) /* a PAX header or a GNU long name */
#define MAX_XATTRS 64
#define MAX_DEPTH 128 /* parent directories kept open */
#define MAX_DEVICES 64

enum failure { OK, REFUSE, RANGE, SYS, CORRUPT, ABORTED };

struct chunk
{
  struct chunk *next;
  size_t len;
  unsigned char data[];
};

struct xattr
{
  const char *name;
  const char *value;
  size_t len;
};

/* What a PAX header ('x') or GNU long name ('L', 'K') says about the next entry.  */
struct pending
{
  char *meta; /* the PAX records, kept until the entry is done (xattrs point into them) */
  char *longname, *longlink;
  const char *path, *linkpath;
  bool has_size, has_uid, has_gid, has_mtime;
  uint64_t size;
  uint64_t uid, gid;
  int64_t mtime_sec;
  long mtime_nsec;
  struct xattr xattrs[MAX_XATTRS];
  int n_xattrs;
};

struct dir_time
{
  char *rel;
  struct timespec mtime;
};

struct unpacker
{
  /* Shared with the main thread, under mu.  */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct chunk *head, *tail;
  size_t queued;
  bool eof, aborted, finished, want_drain;
  atomic_int refs; /* the JS object and the thread */
  napi_threadsafe_function tsfn;

  /* The thread's own.  */
  char *target, *blob_path;
  int target_fd; /* given instead of a path: a duplicate the thread owns */
  bool gzip, chown, plain;
  bool force_owner; /* every entry owned by owner_uid/owner_gid, whatever the tar says (cp into a mapped container) */
  uint64_t owner_uid, owner_gid;
  int root_fd, blob_fd;
  EVP_MD_CTX *pushed_hash, *tar_hash;
  uint64_t pushed_bytes;
  z_stream z;
  bool z_ready, z_ended;
  unsigned char *out;

  /* The tar parser.  */
  enum { HEADER, DATA, META, PAD, END } state;
  unsigned char header[512];
  size_t have;
  uint64_t remaining;
  size_t pad;
  char meta_type; /* 'x', 'g', 'L', 'K' while in META */
  char *meta_buf;
  size_t meta_len;
  struct pending pending;
  int file_fd;         /* the regular file being written, or -1 */
  char name[PATH_MAX]; /* the current entry's name, for messages */
  uint32_t mode;
  uint64_t uid, gid;
  struct timespec mtime;

  /* Open parent directories: stack_fd[i] is the directory at components 0..i.  */
  char *stack_name[MAX_DEPTH];
  int stack_fd[MAX_DEPTH];
  int depth;

  struct dir_time *dir_times;
  size_t n_dir_times, cap_dir_times;

  /* The result.  */
  enum failure failure;
  char message[PATH_MAX + 256];
  uint64_t size, entries, tar_bytes;
  char *devices[MAX_DEVICES];
  int n_devices;
  char pushed_digest[72], tar_digest[72];
};

/* The first failure wins; later ones are dropped.  (unpack.c)  */
void fail (struct unpacker *u, enum failure kind, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));
void refuse (struct unpacker *u, const char *why);
void sys_fail (struct unpacker *u, const char *what, int err);

/* tree.c: entries become files, directories, links, never outside the target.  */
void stack_pop_to (struct unpacker *u, int depth);
void entry_begin (struct unpacker *u, char type, const char *linkname);
void entry_end (struct unpacker *u);
void restore_dir_times (struct unpacker *u);
void write_all (struct unpacker *u, int fd, const unsigned char *p, size_t n, const char *what);

/* tar.c: the tar format, fed as it comes.  */
void tar_feed (struct unpacker *u, const unsigned char *p, size_t n);
void reset_pending (struct unpacker *u);
#endif
