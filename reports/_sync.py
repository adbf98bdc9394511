"""Run pyHanko's synchronous API where an event loop is already running (Jupyter, asyncio apps).

pyHanko's sync functions call `asyncio.run`, which refuses to start inside a running loop;
there, the call goes to a worker thread with no loop of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def outside_event_loop(fn: Callable[[], T]) -> T:
    """Call `fn()` here, or in a worker thread when this thread runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()
