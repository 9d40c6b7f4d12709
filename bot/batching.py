"""Group commits: calls made at the same moment share one database round trip.

`Batched(run)` collects the row ids awaited together (they arrive within one turn of the event loop), calls
`run(ids)` once for all of them and gives each caller its own result. `run` handles its own errors and
answers for every id it was given. Used where many concurrent sends each need one small write or check:
the delivery runner's re-check before a send, and forgetting handlers' answers once sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Generic, TypeVar

R = TypeVar("R")


class Batched(Generic[R]):
    def __init__(self, run: Callable[[list[int]], Awaitable[Mapping[int, R]]]) -> None:
        self._run = run
        self._waiting: dict[int, asyncio.Future[R]] = {}
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, row_id: int) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting[row_id] = future
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # the calls made in this turn of the event loop join one run
        while self._waiting:
            batch, self._waiting = self._waiting, {}
            results = await self._run(list(batch))
            for row_id, future in batch.items():
                if not future.done():
                    future.set_result(results[row_id])
