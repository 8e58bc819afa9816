"""Kept threads for requests' sync code, instead of one new thread per request.

Django's ASGI handler enters a fresh `ThreadSensitiveContext` for every request, so
asgiref starts a one-thread executor for it (and, at its end, a second thread to join
it). Everything a thread keeps is then rebuilt per request: Django's connection
wrapper, Celery's backend and producer state, Redis clients. Under load that is a
measurable share of a checkout's CPU (docs/benchmarks.md).

`KeptThreads` holds a few one-thread executors. A request takes a free one and enters a
`ThreadSensitiveContext` with it (asgiref's documented way to supply the executor: it is
not shut down on exit), so its middleware, view and signals run on that kept thread, one
request at a time, as a WSGI server's threads serve one request after another. When all
are taken the request gets Django's default, a thread of its own.
"""

from concurrent.futures import ThreadPoolExecutor
from itertools import count

_numbers = count(1)


class KeptThreads:
    def __init__(self, size: int) -> None:
        self._free = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"request-{next(_numbers)}")
            for _ in range(size)
        ]

    def take(self) -> ThreadPoolExecutor | None:
        """A free kept thread, or None when every one is serving a request."""
        try:
            return self._free.pop()  # atomic: safe from several event loops' threads
        except IndexError:
            return None

    def give_back_when_idle(self, executor: ThreadPoolExecutor) -> None:
        """Free again once it has done what it was given: a request whose client went
        away ends while its view may still run, and the next request must not queue
        behind that (it gets another thread meanwhile)."""
        executor.submit(self._free.append, executor)  # runs after the work before it

    def free(self) -> int:
        return len(self._free)
