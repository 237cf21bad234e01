"""Keep freed memory for reuse: the C allocator setting that makes NumPy's fresh arrays cheap.

NumPy gives almost every result a new array, so a training step allocates and frees the same
few megabyte-sized arrays again and again. glibc's ``malloc`` hands a large block out as
fresh pages from the operating system (``mmap``) and gives it back when it is freed; the
next allocation of that size then starts from untouched pages, and the kernel stops the
program at the first write to every 4 KiB page of it to supply a zeroed one (a page fault).
For the layers of tier 3 that is real time (docs/performance.md has the measurements).

``keep_freed_memory()`` asks glibc to serve every block below 64 MiB from its heap, where a
freed block stays mapped and is handed out again, and to return free memory at the top of
the heap to the system only beyond 64 MiB. The blocks of a training step (activations,
im2col slices, Winograd tiles: up to a few tens of MiB) are then reused from one step to
the next, while a dataset-sized array still gets its own pages and gives them back when it
is freed, so the process does not keep the memory of its loading phase. It changes the
whole process, so the library never does it on import: the ``nnscratch`` command,
``Trainer.fit`` and the benchmarks call it.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
from collections.abc import Iterator

# mallopt parameters, from glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

LARGEST_HEAP_BLOCK = 64 * 2**20  # bytes: larger arrays (a dataset) get, and give back, their own pages
KEPT_FREE_TOP = 64 * 2**20  # bytes of free memory at the top of the heap kept before any is returned


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse; True when the C library accepted it.

    A no-op that returns False where there is no glibc ``mallopt`` (macOS, Windows, musl's
    accepts nothing). Calling it again changes nothing.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, LARGEST_HEAP_BLOCK)) and bool(mallopt(M_TRIM_THRESHOLD, KEPT_FREE_TOP))


def available_memory() -> int | None:
    """Bytes of memory a new allocation can get without swapping (Linux's ``MemAvailable``), or None
    where the system does not say. Used to refuse a model too large to train before building it."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # the file counts in KiB
    except (OSError, ValueError, IndexError):
        pass
    return None


@contextlib.contextmanager
def allocation_limit(extra_bytes: int) -> Iterator[None]:
    """Inside this block, an allocation that would take the process's address space more than
    ``extra_bytes`` past its size now fails at once with a MemoryError (Linux ``RLIMIT_AS``).

    Why: building a model far too large for the machine would otherwise allocate layer after
    layer until the kernel kills the process, long after the user could have been told. Does
    nothing where the limit cannot be set (not Linux, or a limit already lower).
    """
    try:
        import resource

        with open("/proc/self/statm", encoding="ascii") as statm:
            address_space = int(statm.read().split()[0]) * resource.getpagesize()
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        yield
        return
    limit = address_space + max(int(extra_bytes), 0)
    if soft != resource.RLIM_INFINITY and soft <= limit:
        yield
        return
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
