"""One Boston training per process, its losses streamed back while it runs (the Boston tab's engine).

Why a process and not a thread: Paddle's graph mode is global to a process.  The static graph
(``paddle.enable_static()``) switches it for every thread, so two learners training "dynamic" and
"static" at the same time in one process break each other's runs (measured: ``data() is only
supported in static graph mode``, ``sgd_(): learning_rate must be Tensor``).  Each training
therefore runs :func:`boston.lesson.train <paddle_course.boston.lesson.train>` in a child
process of its own; the page's generator reads the child's messages.

The children are forked from a ``forkserver`` that has already imported Paddle
(:func:`start_forkserver`), so a run starts in about a tenth of a second instead of the seconds
an ``import paddle`` takes.  Closing the page or pressing "Stop" ends the child.
"""
import multiprocessing
import signal
import threading
import time
from dataclasses import dataclass

#: what the forkserver imports once, so that every training child starts with Paddle loaded
PRELOAD = ("paddle_course.boston.lesson", "paddle_course.boston.paddle_net")
SEND_EVERY = 0.1  # seconds between two batches of losses sent by the child


@dataclass(frozen=True)
class TrainingSettings:
    """What the learner chose; ``batch_size=None`` is full-batch gradient descent."""

    impl: str
    batch_size: int | None
    epochs: int
    learning_rate: float
    seed: int
    optimizer: str = "SGD"


def context():
    """The multiprocessing context the trainings run in."""
    return multiprocessing.get_context("forkserver")


def start_forkserver():
    """Start the forkserver (it imports Paddle) and run one tiny training of each kind, in the background.

    The first Paddle training after a start takes seconds longer than the next ones (Paddle's
    kernels are read from disk on first use); the warm-up pays that before a learner presses
    "Train".  Returns the thread.
    """
    ctx = context()
    ctx.set_forkserver_preload(list(PRELOAD))

    def warm_up():
        process = ctx.Process(target=_warm_up, daemon=True)
        process.start()
        process.join()

    thread = threading.Thread(target=warm_up, name="paddle-course-forkserver", daemon=True)
    thread.start()
    return thread


def _warm_up():
    from paddle_course.boston import lesson
    from paddle_course.common.progress import quiet_library_noise

    quiet_library_noise()
    for impl in ("dygraph", "static"):
        lesson.train(impl, None, epochs=1, batch_size=100)


def _train_in_child(connection, settings):
    """The child: train, sending ``("steps", [(epoch, iteration, loss), ...])`` batches, then the result."""
    from paddle_course.boston import lesson
    from paddle_course.boston.numpy_net import TrainingDiverged
    from paddle_course.common.progress import quiet_library_noise

    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # Paddle's handler prints a C++ report when "Stop" ends us
    quiet_library_noise()
    pending, last_sent = [], 0.0  # the first step goes out at once: the curve starts with it

    def after_step(epoch, iteration, loss):
        nonlocal last_sent
        pending.append((epoch, iteration, loss))
        if time.monotonic() - last_sent >= SEND_EVERY:
            connection.send(("steps", pending[:]))
            pending.clear()
            last_sent = time.monotonic()

    try:
        try:
            result = lesson.train(settings.impl, None, settings.epochs, settings.batch_size,
                                  settings.learning_rate, settings.seed, optimizer=settings.optimizer,
                                  callback=after_step)
            ending = ("done", result)
        except (TrainingDiverged, ValueError) as exc:  # the lesson's own messages, meant for the learner
            ending = ("error", str(exc))
        connection.send(("steps", pending))
        connection.send(ending)
    except BrokenPipeError:
        pass  # the page stopped reading (closed, or "Stop"): nobody wants the rest
    finally:
        connection.close()


def stream_training(settings, poll_seconds=0.05):
    """Train in a child process; yield its messages as they come.

    Yields ``("steps", [(epoch, iteration, loss), ...])`` while training, then one of
    ``("done", TrainResult)``, ``("error", message)`` (diverged, bad setting) or
    ``("crashed", message)`` (the child died).  Closing the generator ends the child.
    """
    ctx = context()
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_train_in_child, args=(sender, settings), daemon=True)
    process.start()
    sender.close()  # the child holds the only writing end: EOF means it is gone
    try:
        while True:
            if not receiver.poll(poll_seconds):
                if not process.is_alive() and not receiver.poll(0):
                    yield "crashed", f"the training process stopped unexpectedly (exit code {process.exitcode})"
                    return
                continue
            try:
                kind, payload = receiver.recv()
            except EOFError:
                process.join(5)
                yield "crashed", f"the training process stopped unexpectedly (exit code {process.exitcode})"
                return
            yield kind, payload
            if kind in ("done", "error"):
                return
    finally:
        receiver.close()
        process.join(0.5)  # after "done" or "error" the child is already on its way out
        if process.is_alive():
            process.terminate()
            process.join(5)
