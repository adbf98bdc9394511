"""Progress display: rich progress bars and spinners on stderr, silent when disabled."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class Progress:
    """A thin wrapper around rich so library code can report progress without caring how."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._console = None
        if enabled:
            from rich.console import Console

            self._console = Console(stderr=True)

    @contextmanager
    def step(self, description: str) -> Iterator[None]:
        """A spinner for a step of unknown length; prints a tick and its time when done."""
        if not self.enabled or self._console is None:
            yield
            return
        import time

        start = time.perf_counter()
        with self._console.status(description + " ..."):
            yield
        self._console.print(
            f"[green]✓[/green] {description} [dim]({time.perf_counter() - start:.1f} s)[/dim]"
        )

    def track(
        self, items: Iterable[T], *, total: int | None = None, description: str
    ) -> Iterator[T]:
        """A progress bar over `items`."""
        if not self.enabled or self._console is None:
            yield from items
            return
        from rich.progress import track

        yield from track(
            items, total=total, description=description, console=self._console, transient=False
        )
