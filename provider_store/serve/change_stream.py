"""Server-Sent Events: one broadcast from the thread that follows the catalog to every open
``GET /v1/changes/stream`` answer.

The follower thread :meth:`ChangeBroadcast.publish`\\es each frame; every subscriber (an
answer being streamed, on the server's event loop) has a bounded queue of its own, filled from
the loop's thread. A subscriber that falls :data:`QUEUE_SIZE` frames behind is dropped (its
stream ends; it reconnects with ``Last-Event-ID`` and reads what it missed from the feed). On
shutdown :meth:`ChangeBroadcast.close` ends every stream at once, so the server stops without
waiting for its clients.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["HEARTBEAT_SECONDS", "MAX_SUBSCRIBERS", "ChangeBroadcast", "sse_frame"]

QUEUE_SIZE = 1000
MAX_SUBSCRIBERS = 256
HEARTBEAT_SECONDS = 15.0
_END = b""  # what a queue is given to end its stream


def sse_frame(event: str, data: Any, event_id: str | None = None) -> bytes:
    """One event in the ``text/event-stream`` format (the data as one line of JSON)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"{head}event: {event}\ndata: {body}\n\n".encode()


class ChangeBroadcast:
    """Frames from one thread to the queues of many streams on an event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[asyncio.Queue[bytes], asyncio.AbstractEventLoop] = {}
        self._closed = False

    def subscribe(self) -> asyncio.Queue[bytes] | None:
        """A queue for a new stream on the running loop; None when too many are open or the
        server is stopping."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_SIZE)
        with self._lock:
            if self._closed or len(self._queues) >= MAX_SUBSCRIBERS:
                return None
            self._queues[queue] = loop
        return queue

    def unsubscribe(self, queue: asyncio.Queue[bytes]) -> None:
        """Forget a stream's queue (its answer ended)."""
        with self._lock:
            self._queues.pop(queue, None)

    def publish(self, frame: bytes) -> None:
        """Send ``frame`` to every stream (from any thread)."""
        with self._lock:
            targets = list(self._queues.items())
        for queue, loop in targets:
            try:
                loop.call_soon_threadsafe(self._put, queue, frame)
            except RuntimeError:  # the loop is closed: the server is gone
                self.unsubscribe(queue)

    def close(self) -> None:
        """End every stream now and refuse new ones."""
        with self._lock:
            self._closed = True
            targets = list(self._queues.items())
        for queue, loop in targets:
            try:
                loop.call_soon_threadsafe(self._end, queue)
            except RuntimeError:
                pass

    def _put(self, queue: asyncio.Queue[bytes], frame: bytes) -> None:
        try:
            queue.put_nowait(frame)
        except asyncio.QueueFull:  # too slow a reader: end its stream
            self.unsubscribe(queue)
            self._end(queue)

    @staticmethod
    def _end(queue: asyncio.Queue[bytes]) -> None:
        while True:
            try:
                queue.put_nowait(_END)
                return
            except asyncio.QueueFull:
                queue.get_nowait()


async def stream_frames(
    broadcast: ChangeBroadcast, queue: asyncio.Queue[bytes], first: list[bytes]
) -> AsyncIterator[bytes]:
    """The body of one stream: ``first`` frames, then every published frame, a comment line
    every :data:`HEARTBEAT_SECONDS` while nothing happens, until the stream is ended."""
    try:
        for frame in first:
            yield frame
        while True:
            try:
                frame = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            if frame == _END:
                return
            yield frame
    finally:
        broadcast.unsubscribe(queue)
