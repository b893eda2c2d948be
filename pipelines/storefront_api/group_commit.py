"""Many requests' orders written in one transaction (group commit), each request answered after its
own transaction committed.

A transaction per request would spend most of its time on the round trips and the commit's flush to
disk, not on the order: at a shop's peak (a sale, a newsletter) that caps the intake at a few hundred
orders a second on a small machine. Here, whatever arrived while the previous batch was being written
goes into the next one, so the batches grow with the load and the cost per order falls with them; at
low load a batch is one order and nothing waits. A request is answered only once its batch committed,
so every 201 is durable. A batch that fails is retried order by order, so one order the database
refuses never fails the others, and an order that still fails is answered 503 (the shop retries it
under the same Idempotency-Key, which makes the retry safe whatever happened).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable

from sqlalchemy import Connection, Engine

from marketsync.assets.storefront.intake import Answer, Submission, receive_orders
from marketsync.resources.session_context import set_actor

log = logging.getLogger("marketsync.storefront_api")

_Item = tuple[Submission, "concurrent.futures.Future[Answer]"]
Receive = Callable[[Connection, list[Submission]], list[Answer]]


class Overloaded(Exception):
    """More orders wait to be written than the intake holds: the request is refused (503), not queued."""


class GroupCommit:
    """The writers of the order intake: `writers` threads, each taking up to `max_batch` waiting orders
    per transaction; at most `max_waiting` orders wait at once."""

    def __init__(self, engine: Engine, *, writers: int = 2, max_batch: int = 200, max_waiting: int = 5000,
                 receive: Receive = receive_orders):
        self.engine, self.writers, self.max_batch, self.receive = engine, writers, max_batch, receive
        self._queue: queue.Queue[_Item | None] = queue.Queue(maxsize=max_waiting)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def _start(self) -> None:
        # Started with the first order rather than with the app: the app may be served without a
        # lifespan (tests, the demo), and a process that never receives an order needs no writer.
        if len(self._threads) == self.writers:
            return
        with self._lock:
            while len(self._threads) < self.writers:
                thread = threading.Thread(target=self._run, name=f"storefront-writer-{len(self._threads)}",
                                          daemon=True)
                thread.start()
                self._threads.append(thread)

    async def submit(self, submission: Submission) -> Answer:
        """Queue the order and wait for its answer (after its transaction committed)."""
        self._start()
        future: concurrent.futures.Future[Answer] = concurrent.futures.Future()
        try:
            self._queue.put_nowait((submission, future))
        except queue.Full:
            raise Overloaded from None
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Let the writers finish what is queued, then stop them."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # the stop is for this thread or another: after this batch
                    break
                batch.append(item)
            self._write(batch)

    def _write(self, batch: list[_Item]) -> None:
        pending = [(s, f) for s, f in batch if f.set_running_or_notify_cancel()]
        if not pending:
            return
        try:
            with self.engine.begin() as conn:
                set_actor(conn, "storefront API")
                answers = self.receive(conn, [s for s, _ in pending])
        except Exception as exc:  # any failure: retried order by order, then answered 503
            if len(pending) > 1:
                log.warning("a batch of %d storefront orders was not written (%s); writing them one by one",
                            len(pending), type(exc).__name__)
                for submission, future in pending:
                    self._write_one(submission, future)
                return
            log.warning("storefront order not written (%s)", type(exc).__name__)
            pending[0][1].set_exception(exc)
            return
        for (_, future), answer in zip(pending, answers, strict=True):
            future.set_result(answer)

    def _write_one(self, submission: Submission, future: concurrent.futures.Future[Answer]) -> None:
        try:
            with self.engine.begin() as conn:
                set_actor(conn, "storefront API")
                answer = self.receive(conn, [submission])[0]
        except Exception as exc:  # answered 503; the shop retries under the same key
            log.warning("storefront order not written (%s)", type(exc).__name__)
            future.set_exception(exc)
            return
        future.set_result(answer)
