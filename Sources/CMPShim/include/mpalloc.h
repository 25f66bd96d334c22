#ifndef MPALLOC_H
#define MPALLOC_H
#include <stddef.h>

// A small-object allocator in front of glibc's malloc for the mp process.
// A string value is two small blocks (the value's box and the string's
// storage), and `s.lines()` or `split` make tens of thousands at once:
// glibc served those from its sorted bins once a large block (the list)
// had made it merge its free chunks, ~300 instructions a block. Here a
// small block is a free-list pop or a bump of a pointer.

/// Switches the allocator on; before, and if reserving its region fails,
/// malloc and free are glibc's. Only for a process that never starts a
/// thread (the mp executable, at its start).
void mp_fast_alloc_enable(void);

#endif
