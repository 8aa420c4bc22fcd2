"""Run a download's body in a thread of its own, at a lower CPU priority than requests.

A lineage export is CPU work (Parquet decode and encode). In oTree's threadpool it
would compete with participants' requests on equal terms; in its own thread with a
higher nice value the kernel lets participants' requests run first. The bounded queue
also stops the export from running far ahead of what has been sent.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Final

NICE_INCREMENT: Final = 10  # raising one's own niceness needs no privilege
QUEUE_CHUNKS: Final = 4
_DONE: Final = object()


async def run_in_background_thread(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=QUEUE_CHUNKS)
    cancelled = threading.Event()

    def put(item: object) -> None:
        asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()

    def produce() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE_INCREMENT)
        except (AttributeError, OSError):
            pass  # not Linux: run at normal priority
        try:
            for chunk in chunks:
                if cancelled.is_set():
                    return
                put(chunk)
        except BaseException as exc:  # hand the failure to the response
            put(exc)
        finally:
            put(_DONE)

    threading.Thread(target=produce, name="lineage-download", daemon=True).start()
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        cancelled.set()
        while not queue.empty():  # let a producer blocked on a full queue finish
            queue.get_nowait()
