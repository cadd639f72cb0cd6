"""The worker threads of the one-pass routes (``service.readings.fast``, ``service.fhir.fast``):
each runs its whole request (authentication, use case, commit) in one hop off the event loop,
where FastAPI's general handler takes one per sync dependency, one for the endpoint and one
for the commit."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import Response

# As many as anyio's default limiter allows the app's other routes.
_WORKERS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="mhf-one-pass")


async def in_worker(func: Callable[..., Response], *args: Any) -> Response:
    """``func(*args)`` in a worker thread, in a copy of this context, as run_in_threadpool
    runs it, for a fraction of the event loop's CPU: anyio's to_thread.run_sync (a capacity
    limiter acquired and released, cancel scopes, its own worker queue) cost ~2 % of a single
    reading's post (~75k of ~3.2M instructions). Cancelling the awaiting task does not stop
    the call: the unit of work still commits or rolls back in the thread, and only its
    response is not sent."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_WORKERS, context.run, func, *args)
