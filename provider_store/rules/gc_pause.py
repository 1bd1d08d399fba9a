"""The cyclic garbage collector paused for a block, and restored as it was.

Two uses. Decoding hostile JSON (``providers``):
A body nested 100,000 deep drives the decoder to Python's recursion limit, where it stops with
a RecursionError that the callers turn into a one-line error. If the collector ran at that depth
(any allocation can start it), the finalizers of unrelated objects would run there too, fail
with RecursionError of their own and print "Exception ignored in …" tracebacks to stderr.
Pausing it for the decode keeps them for the next collection, at a normal depth. Reading the
whole catalog's model view in bulk (``catalog``): rows without cycles, whose growing number
would otherwise start one collection after another over the same heap.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off (restored as it was)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
