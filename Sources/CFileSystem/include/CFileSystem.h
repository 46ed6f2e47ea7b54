// System calls Swift's Glibc module does not declare (they need _GNU_SOURCE), for
// DurableFiles. One inline wrapper each; nothing else belongs here.
#ifndef TERN_CFILESYSTEM_H
#define TERN_CFILESYSTEM_H

#ifdef __linux__
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <unistd.h>

/// syncfs(2): commits the whole filesystem that holds `descriptor` (data, inodes,
/// directory entries) in one journal commit and one device flush.
static inline int tern_syncfs(int descriptor) { return syncfs(descriptor); }
#endif

#endif
