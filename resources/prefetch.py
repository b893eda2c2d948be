"""Pages of an API read one step ahead: the next page is fetched in a background thread while the
current one is written, so the API's latency and the database's work overlap instead of adding up.
No schema knowledge: any iterator of pages works."""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

Page = TypeVar("Page")


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


_END = object()


def prefetched(pages: Iterator[Page], depth: int = 2) -> Iterator[Page]:
    """Fetch the next pages in a background thread while the current one is written: the API's
    latency and the database's work overlap instead of adding up. At most `depth` pages wait."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not put(page):
                    return
            put(_END)
        except BaseException as exc:
            put(_Failed(exc))

    worker = threading.Thread(target=produce, name="page-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join(timeout=30)
