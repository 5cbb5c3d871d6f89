"""glibc's allocator, kept from holding on to memory the station has freed. Does nothing off glibc.

Python's own objects stay flat over a day of sessions (tracemalloc), but
glibc keeps what the process frees for reuse: in per-thread arenas, and in
holes among the heap's live blocks, which a session's per-pixel tables and
per-frame arrays (up to a few MB each) leave behind.
"""

from __future__ import annotations

import ctypes
import gc
import os

#: glibc's mallopt parameter for the number of malloc arenas (malloc.h).
_M_ARENA_MAX = -8


def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Keep glibc to a few malloc arenas (unless MALLOC_ARENA_MAX says otherwise): call before any thread starts.

    glibc gives threads their own arenas, up to 8 per core, and keeps what is
    freed in them: with the session's threads made anew for each patient and
    the dashboard's 16 server threads, the station grew by 260 MiB over a
    day's 20 sessions (benchmarks/bench_soak.py, 2026-12-03), and by 150 with
    two: the rest is :func:`release_freed_memory`'s.
    """
    libc = _libc()
    if "MALLOC_ARENA_MAX" in os.environ or libc is None or not hasattr(libc, "mallopt"):
        return
    libc.mallopt(_M_ARENA_MAX, arenas)


def release_freed_memory() -> None:
    """Hand the memory freed so far back to the system (glibc's ``malloc_trim``): at the end of a session.

    Each session builds its measurer's per-pixel tables and its threads
    anew; with two arenas, 20 sessions in a row still grew the station by
    150 MiB and 60 by 290 (benchmarks/bench_soak.py, 2026-12-05), freed
    memory held in the heap's holes. Trimmed as each ends: 126 -> 209 MiB
    over 40, and 146-249 from the 10th to the 80th with no trend. It takes
    3-8 ms, once a session; a session that runs all day (``wallhinge run``,
    ``bench_soak.py --one-session``) stays flat without it. Objects only a
    reference cycle holds (the session's measurer among them) are collected
    first, so their memory is free to hand back.
    """
    gc.collect()
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
