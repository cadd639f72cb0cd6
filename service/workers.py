"""The worker threads of the one-pass routes (``service.readings.fast``, ``service.fhir.fast``):
each runs its whole request (authentication, use case, commit) in one hop off the event loop,
where FastAPI's general handler takes one per sync dependency, one for the endpoint and one
for the commit."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import Request, Response
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY

from service.deps import bearer_credentials

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


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def one_pass_handler(
    general: Handler, read_body: Callable[[Request], Awaitable[Any]], work: Callable[..., Response]
) -> Handler:
    """A route's handler that reads the body (``read_body``) and the bearer credentials as
    FastAPI's dependencies read them, then runs ``work(request, credentials, body)`` in one
    worker thread. ``general`` (FastAPI's own handler) answers when Starlette's body limit is
    on: its errors are private types only that handler knows how to answer (the app uses
    BodyLimitMiddleware instead)."""

    async def handler(request: Request) -> Response:
        if MAX_BODY_SIZE_SCOPE_KEY in request.scope:
            return await general(request)
        body = await read_body(request)
        credentials = await bearer_credentials(request)
        return await in_worker(work, request, credentials, body)

    return handler
