"""One queue per module, and micro-batching of the requests waiting in it (course 3.4).

Each served module has its own :class:`ModuleQueue`: an asyncio task that takes jobs in
arrival order and runs them on the module's own thread, so a long job for one module
never holds up another, and one module is never run from two threads at once.

Micro-batching.  Before a call, the queue waits -- at most ``--batch-window-ms`` -- until as
many jobs wait as were in or waiting for the last call: clients under a steady load come
back at about the same time, and then share one call; a lone client never waits.  A module may declare, as a class attribute, that its ``@serving`` method
answers the entries of one list independently::

    serving_batch = {"items": "texts", "batch_size": "batch_size", "max_batch_size": 64}

``items`` is the keyword whose list gets one result per entry, in order; ``batch_size``
(optional) a keyword that only changes the speed, which the server then sets to the
number of entries in the call (at most ``max_batch_size``).  Jobs waiting for such a
module whose other keywords are equal are merged into one call (entries concatenated, at
most ``--max-texts``/``--max-images`` per call) and the returned list is split back.  The
declaration is the module's promise that each entry's result does not depend on the other
entries, to the last bit: ``tests/test_serving.py`` checks it for the course's modules.
If a merged call raises, or returns a list of the wrong length, each job is run alone,
so an error is reported to the request that caused it.  Modules without the attribute are
called once per request.

A job whose client has gone, or whose deadline has passed, is dropped before it runs.
"""
import asyncio
import collections
import contextlib
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from paddle_course.serving.protocol import RequestError, encode_reply

logger = logging.getLogger("paddle_course.serving")


@dataclass(frozen=True)
class BatchContract:
    """A module's ``serving_batch`` declaration (see the module docstring)."""

    items: str
    batch_size: str = None
    max_batch_size: int = None

    @classmethod
    def of(cls, module, signature):
        """The module's contract, or None if it declares none; ValueError if it is malformed."""
        declared = getattr(module, "serving_batch", None)
        if declared is None:
            return None
        try:
            contract = cls(**declared)
        except TypeError as err:
            raise ValueError(f"{module.name}.serving_batch: {err}") from None
        for key in (contract.items, contract.batch_size):
            if key is not None and key not in signature.parameters:
                raise ValueError(f"{module.name}.serving_batch names {key!r}, which its serving method does not take")
        return contract

    def group(self, kwargs):
        """The key under which jobs may share a call: the keywords besides the items, exactly
        (``1``, ``1.0`` and ``true`` differ); None when the items are not a non-empty list."""
        entries = kwargs.get(self.items)
        if not isinstance(entries, list) or not entries:
            return None
        others = {key: value for key, value in kwargs.items() if key not in (self.items, self.batch_size)}
        return json.dumps(others, sort_keys=True)

    def merge(self, kwargs_list):
        """One call's keywords for several jobs of one group."""
        merged = dict(kwargs_list[0])
        merged[self.items] = [entry for kwargs in kwargs_list for entry in kwargs[self.items]]
        if self.batch_size is not None:
            merged[self.batch_size] = min(len(merged[self.items]), self.max_batch_size or len(merged[self.items]))
        return merged


@dataclass(eq=False)
class Job:
    """One request waiting for its module: its keywords, its share of the queue, its answer."""

    kwargs: dict
    items: int
    nbytes: int
    arrived: float  # time.monotonic()
    deadline: float
    future: asyncio.Future
    group: str = None
    gone: bool = False  # the client left, or was answered that the deadline passed


@dataclass(frozen=True)
class Reply:
    http_status: int
    body: bytes


@contextlib.contextmanager
def graph_mode_restored():
    """Give back Paddle's graph mode as it was before a module call.

    PaddleHub 2.4 runs each method of a module that is not a ``paddle.nn.Layer`` inside
    ``paddle.enable_static()`` and does not switch back when the method raises, so one bad
    request would leave every later dygraph call in static mode.
    """
    import paddle

    was_dynamic = paddle.in_dynamic_mode()
    try:
        yield
    finally:
        if was_dynamic and not paddle.in_dynamic_mode():
            paddle.disable_static()


class ModuleQueue:
    """The queue, the budget and the thread of one served module."""

    def __init__(self, name, module, signature, limits, window_s=0.002):
        self.name = name
        self.method = getattr(module, module.serving_func_name)
        self.contract = BatchContract.of(module, signature)
        self.limits = limits
        self.window_s = window_s
        self.max_call_items = max(limits.max_texts, limits.max_images)
        self.jobs = collections.deque()
        self.queued_items = 0
        self.queued_bytes = 0
        self.calls = 0  # module calls made (a merged batch is one call)
        self.clients = 1  # jobs in the last call + jobs waiting when it ended: how many to wait for next
        self.free_since = 0.0  # when the last call ended
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"serve-{name}")
        self._task = None

    # ------------------------------------------------------------ the budget (event loop only)

    def reserve_bytes(self, nbytes):
        """Count ``nbytes`` of a request body against ``--max-queue-mb``, or raise a 429 RequestError."""
        if self.queued_bytes + nbytes > self.limits.max_queue_mb * 2**20:
            raise RequestError(f"{self.name} has {self.queued_bytes / 2**20:.0f} MB of requests waiting, "
                               f"its limit is {self.limits.max_queue_mb:g} MB (--max-queue-mb): try again later",
                               http_status=429)
        self.queued_bytes += nbytes

    def release_bytes(self, nbytes):
        self.queued_bytes -= nbytes

    def submit(self, kwargs, items, nbytes, arrived, deadline):
        """Queue a checked request; raises a 429 RequestError if ``--max-queue-items`` would be passed.

        The job's ``nbytes`` (already reserved) are released with its items when it is done or dropped.
        """
        if self.queued_items + items > self.limits.max_queue_items:
            raise RequestError(f"{self.name} has {self.queued_items} texts/images waiting; with these {items} it would "
                               f"pass its limit of {self.limits.max_queue_items} (--max-queue-items): try again later",
                               http_status=429)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"queue-{self.name}")
        job = Job(kwargs, items, nbytes, arrived, deadline, asyncio.get_running_loop().create_future(),
                  self.contract.group(kwargs) if self.contract else None)
        self.jobs.append(job)
        self.queued_items += items
        self._wakeup.set()
        return job

    def _finish(self, job, reply=None):
        self.queued_items -= job.items
        self.release_bytes(job.nbytes)
        job.kwargs = None  # the request's data can go now, even if its handler still waits
        if reply is not None and not job.future.done():
            job.future.set_result(reply)

    # ------------------------------------------------------------ the worker

    async def _run(self):
        loop = asyncio.get_running_loop()
        while True:
            while not self.jobs:
                self._wakeup.clear()
                await self._wakeup.wait()
            if self.contract is not None:
                await self._gather()
            batch = self._take_batch()
            if not batch:
                continue
            try:
                replies = await loop.run_in_executor(self._executor, self._call_batch, [job.kwargs for job in batch])
            except Exception as err:  # noqa: BLE001 -- the queue must keep serving
                logger.exception("%s: the module thread failed", self.name)
                replies = [_error_reply(500, f"{self.name} failed: {type(err).__name__}")] * len(batch)
            for job, reply in zip(batch, replies):
                self._finish(job, reply)
            self.clients = len(batch) + len(self.jobs)
            self.free_since = time.monotonic()

    async def _gather(self):
        """Wait, at most the batch window, until as many jobs wait as were in or waiting for the
        last call: clients under a steady load come back at about the same time, and their
        requests then share one call.  The window counts from the oldest job's arrival or the end
        of the last call, whichever is later; after a lone job there is no wait at all."""
        deadline = max(self.jobs[0].arrived, self.free_since) + self.window_s
        while len(self.jobs) < self.clients:
            delay = deadline - time.monotonic()
            if delay <= 0:
                return
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), delay)
            except asyncio.TimeoutError:
                return

    def _take_batch(self):
        """The next job, and the waiting jobs that may share its call; drops jobs nobody waits for."""
        now = time.monotonic()
        batch, kept, total = [], [], 0
        while self.jobs:
            job = self.jobs.popleft()
            if job.gone or job.future.done() or now >= job.deadline:
                self._finish(job)
                continue
            if not batch:
                batch.append(job)
                total = job.items
                if job.group is None:
                    break
            elif job.group == batch[0].group and total + job.items <= self.max_call_items:
                batch.append(job)
                total += job.items
            else:
                kept.append(job)
        self.jobs.extendleft(reversed(kept))
        return batch

    # ------------------------------------------------------------ on the module's thread

    def _call_batch(self, kwargs_list):
        """The replies to the jobs' keywords, from one call if they were merged."""
        if self.contract is None or len(kwargs_list) == 1 and self.contract.group(kwargs_list[0]) is None:
            return [self._reply(kwargs) for kwargs in kwargs_list]
        merged = self.contract.merge(kwargs_list)
        try:
            results = self._call(merged)
        except Exception:  # noqa: BLE001 -- run each alone: the error belongs to one request
            if len(kwargs_list) == 1:
                return [self._reply(merged)]
            return [self._reply(self.contract.merge([kwargs])) for kwargs in kwargs_list]
        sizes = [len(kwargs[self.contract.items]) for kwargs in kwargs_list]
        if not isinstance(results, list) or len(results) != sum(sizes):
            if len(kwargs_list) == 1:
                return [_result_reply(self.name, results)]
            logger.warning("%s: serving_batch declared, but a call with %d %s returned %s; running them one by one",
                           self.name, sum(sizes), self.contract.items, type(results).__name__)
            return [self._reply(self.contract.merge([kwargs])) for kwargs in kwargs_list]
        replies, start = [], 0
        for size in sizes:
            replies.append(_result_reply(self.name, results[start:start + size]))
            start += size
        return replies

    def _call(self, kwargs):
        self.calls += 1
        with graph_mode_restored():
            return self.method(**kwargs)

    def _reply(self, kwargs):
        """The reply to one call: the results, or the module's error."""
        try:
            results = self._call(kwargs)
        except (ValueError, TypeError) as err:
            return _error_reply(400, str(err) or type(err).__name__)
        except Exception as err:  # noqa: BLE001 -- a failing module must not take the server down
            logger.exception("module %s failed on a request", self.name)
            return _error_reply(500, f"{self.name} failed: {type(err).__name__}: {err}")
        return _result_reply(self.name, results)

    def close(self):
        if self._task is not None:
            self._task.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)


def _error_reply(http_status, msg):
    return Reply(http_status, encode_reply("101", msg, ""))


def _result_reply(name, results):
    try:
        return Reply(200, encode_reply("000", "", results))
    except (TypeError, ValueError) as err:
        return _error_reply(500, f"{name} returned a result that is not JSON: {err}")
