"""Requests that arrive while the model is busy are answered together by its next call (continuous batching).

Nothing waits on a timer: an idle server runs a lone request at once, a busy one folds everything that queued up
during the previous model call into one batch (up to `max_texts`). The model runs in a worker thread, so the event
loop keeps accepting, validating and rejecting requests meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

Job = tuple[list[Any], asyncio.Future]  # texts (or text pairs) of one request


class ContinuousBatcher:
    def __init__(self, predict: Callable[[list[Any]], list[Any]], max_texts: int, observe_batch=None) -> None:
        self.predict = predict
        self.max_texts = max_texts
        self.observe_batch = observe_batch or (lambda size: None)
        self.queue: asyncio.Queue[Job] = asyncio.Queue()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Answer what is queued, then stop (uvicorn has already finished the open requests by now)."""
        await self.queue.join()
        if self._task is not None:
            self._task.cancel()

    async def submit(self, texts: list[Any]) -> list[Any]:
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((texts, future))
        return await future

    def _take_waiting(self, jobs: list[Job]) -> None:
        count = sum(len(texts) for texts, _ in jobs)
        while count < self.max_texts and not self.queue.empty():
            job = self.queue.get_nowait()
            jobs.append(job)
            count += len(job[0])

    async def _run(self) -> None:
        while True:
            jobs = [await self.queue.get()]
            self._take_waiting(jobs)
            texts = [text for job_texts, _ in jobs for text in job_texts]
            self.observe_batch(len(texts))
            try:
                results = await asyncio.to_thread(self.predict, texts)
            except Exception as error:  # one bad batch fails its requests, never the server
                for _, future in jobs:
                    if not future.done():
                        future.set_exception(error)
            else:
                start = 0
                for job_texts, future in jobs:
                    if not future.done():  # a client that hung up has a cancelled future
                        future.set_result(results[start : start + len(job_texts)])
                    start += len(job_texts)
            finally:
                for _ in jobs:
                    self.queue.task_done()
