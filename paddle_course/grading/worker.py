"""The grading process: imports the learner's file and runs checks, reporting each as it goes.

Started by :mod:`paddle_course.grading.runner` as::

    python -m paddle_course.grading.worker ASSIGNMENT SUBMISSION SEED EVENT_FD CHECK [CHECK ...]

in a throw-away working directory.  It never decides about time: it writes one
JSON line per event to the pipe ``EVENT_FD`` (``ready``, ``loaded`` or
``load_error``, then ``start``/``result`` per check, ``done``) and the parent
kills it when a check overruns.  Everything the learner's code prints is
captured per check and cut to a few kilobytes.
"""
import contextlib
import importlib
import importlib.util
import io
import json
import os
import sys
import traceback
import zlib

OUTPUT_KEEP = 2000  # characters of a check's printed output kept for the report


class CappedOutput(io.TextIOBase):
    """A text stream that keeps the first ``OUTPUT_KEEP`` characters and counts the rest."""

    def __init__(self):
        self.kept, self.total = [], 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = OUTPUT_KEEP - min(self.total, OUTPUT_KEEP)
        if room > 0:
            self.kept.append(text[:room])
        self.total += len(text)
        return len(text)

    def summary(self):
        if self.total == 0:
            return ""
        text = "".join(self.kept)
        if self.total > OUTPUT_KEEP:
            text += f"\n... ({self.total - OUTPUT_KEEP} more characters not shown)"
        return text


@contextlib.contextmanager
def captured_output():
    capture = CappedOutput()
    with contextlib.redirect_stdout(capture), contextlib.redirect_stderr(capture):
        yield capture


def describe_exception(exc, submission):
    """One readable paragraph about an exception from the learner's code, pointing at their line."""
    if isinstance(exc, SyntaxError) and exc.filename == submission:
        line = (exc.text or "").rstrip()
        pointer = f"\n    {line}" if line else ""
        return f"SyntaxError in your file, line {exc.lineno}: {exc.msg}{pointer}"
    if isinstance(exc, NotImplementedError):
        frame = _learner_frame(exc, submission, with_source=False)
        todo = f" ({exc})" if str(exc) else ""
        return (f"not implemented yet: {frame or 'your code'} still raises NotImplementedError{todo}. "
                "Fill in the TODO and run the check again.")
    if isinstance(exc, ModuleNotFoundError):
        return (f"ModuleNotFoundError: {exc}. Only numpy (paddle for the Paddle homework, paddlehub and "
                "paddle_course for the fine-tuning one) and the Python standard library are available to your file.")
    where = _learner_frame(exc, submission)
    if not where:  # raised in the check, on something the learner's code returned
        return (f"the check could not use what your code returned ({type(exc).__name__}: {exc}); "
                "compare the return value's type and shape with the docstring")
    return f"your code raised {type(exc).__name__} at {where}: {exc}"


def _learner_frame(exc, submission, with_source=True):
    """``"gradient(), line 12: <source>"`` for the deepest frame in the learner's file."""
    last = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == submission:
            last = frame
    if last is None:
        return ""
    if not with_source:
        return f"{last.name}() (line {last.lineno})"
    return f"{last.name}(), line {last.lineno}: `{(last.line or '').strip()}`"


def _limit_memory(megabytes):
    try:
        import resource

        limit = megabytes * 1024 * 1024
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):  # not on this platform: run without the cap
        pass


def run(assignment_id, submission, seed, event_fd, check_names):
    events = os.fdopen(event_fd, "w", buffering=1, encoding="utf-8")

    def emit(**event):
        events.write(json.dumps(event, default=str) + "\n")
        events.flush()

    import numpy as np

    from paddle_course.grading.framework import CheckFailed, show
    from paddle_course.grading.registry import load_assignment

    assignment, specs = load_assignment(assignment_id)
    for name in assignment.preload:
        importlib.import_module(name)
    emit(event="ready")

    if assignment.memory_limit_mb:
        _limit_memory(assignment.memory_limit_mb)
    sys.path.insert(0, os.path.dirname(submission))
    with captured_output() as capture:
        try:
            spec = importlib.util.spec_from_file_location("submission", submission)
            learner = importlib.util.module_from_spec(spec)
            sys.modules["submission"] = learner
            spec.loader.exec_module(learner)
            error = None
        except BaseException as exc:  # SystemExit and friends from the file are the learner's too
            error = describe_exception(exc, submission)
    if error is not None:
        emit(event="load_error", message=error, output=capture.summary())
        return
    emit(event="loaded", output=capture.summary())

    by_name = {spec.name: spec for spec in specs}
    for name in check_names:
        spec = by_name[name]
        emit(event="start", check=name)
        # each check has its own stream of random numbers, so re-running one check
        # (after a timeout restarted the worker) gives it the same inputs
        rng = np.random.default_rng([int(seed), zlib.crc32(name.encode())])
        result = {"status": "PASS", "message": ""}
        with captured_output() as capture:
            try:
                spec.function(learner, rng)
            except CheckFailed as failure:
                result = {"status": "FAIL", "message": failure.message,
                          "expected": failure.expected, "received": failure.received,
                          "hint": failure.hint}
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                result = {"status": "FAIL", "message": describe_exception(exc, submission)}
        result = {key: (show(value) if key in ("expected", "received") and value is not None
                        and not isinstance(value, str) else value)
                  for key, value in result.items()}
        emit(event="result", check=name, output=capture.summary(), **result)
    emit(event="done")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    assignment_id, submission, seed, event_fd, *check_names = argv
    run(assignment_id, os.path.abspath(submission), int(seed), int(event_fd), check_names)


if __name__ == "__main__":
    main()
