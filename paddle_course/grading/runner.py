"""Grade one file: its checks run here, its code runs in a contained child.

:func:`grade` starts a :class:`~paddle_course.grading.sandbox.Sandbox` whose agent imports
the learner's file, then runs each check of the assignment in this process with a
:class:`~paddle_course.grading.remote.Remote` of that module: every call into the learner's
code is a request to the child, every comparison, score and message is made here.  Each
check gets ``timeout`` seconds (the child's answers included); when one overruns, or the
child dies, everything in the sandbox is killed and a fresh child takes the checks that
are left.  Nothing the learner's code does can make :func:`grade` raise, and nothing it
prints or writes becomes a verdict: its output is only shown as what it printed.
"""
import importlib
import json
import random
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from paddle_course.grading.framework import CheckFailed, show
from paddle_course.grading.registry import load_assignment
from paddle_course.grading.remote import ChildGone, ChildTimeout, LearnerError, Session
from paddle_course.grading import sandbox as sandboxes
from paddle_course.grading.sandbox import Limits, Sandbox

STARTUP_TIMEOUT = 180.0  # python + numpy (+ paddle) on a busy laptop; not counted against the learner
MIN_IMPORT_TIMEOUT = 10.0  # importing the learner's file gets max(timeout, this)
STARTUP_CPU_SECONDS = 120  # CPU time of the child's start (imports), on top of the checks' time


@dataclass
class CheckResult:
    name: str
    tests: str
    points: int
    earned: int
    status: str  # PASS, FAIL, TIMEOUT or ERROR
    message: str = ""
    expected: str = None
    received: str = None
    hint: str = None
    output: str = ""
    seconds: float = None


@dataclass
class GradeReport:
    assignment: str
    title: str
    submission: str
    seed: int
    timeout: float
    checks: list = field(default_factory=list)
    import_output: str = ""
    import_error: str = None  # why the file could not be imported (then no check ran)
    sandbox: str = ""  # how the learner's code was contained
    warnings: list = field(default_factory=list)  # e.g. that the full sandbox is not available here

    @property
    def score(self):
        return sum(result.earned for result in self.checks)

    @property
    def max_score(self):
        return sum(result.points for result in self.checks)

    @property
    def full_marks(self):
        return self.score == self.max_score

    def result(self, name):
        return next(result for result in self.checks if result.name == name)

    def to_dict(self):
        data = asdict(self)
        data.update(score=self.score, max_score=self.max_score, full_marks=self.full_marks)
        return data

    def to_json(self):
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


def new_seed():
    """A fresh seed for the random inputs, printed with the report so a run can be repeated."""
    return random.SystemRandom().randrange(1, 1_000_000)


# --- what the learner's exceptions mean -------------------------------------------------

def describe_learner_error(error, source_lines, available):
    """One readable paragraph about an exception of the learner's code, pointing at their line."""
    if error.syntax is not None:
        line, message, text = error.syntax
        pointer = f"\n    {text}" if text else ""
        return f"SyntaxError in your file, line {line}: {message}{pointer}"
    if error.is_a("NotImplementedError"):
        where = f"{error.frames[-1][1]}() (line {error.frames[-1][0]})" if error.frames else "your code"
        todo = f" ({error.message})" if error.message else ""
        return (f"not implemented yet: {where} still raises NotImplementedError{todo}. "
                "Fill in the TODO and run the check again.")
    if error.is_a("ModuleNotFoundError"):
        return f"ModuleNotFoundError: {error.message}. Only {available} are available to your file while it is graded."
    if not error.frames:  # raised on something the learner's code returned, not in their file
        return (f"the check could not use what your code returned ({error.type_name}: {error.message}); "
                "compare the return value's type and shape with the docstring")
    line, function = error.frames[-1]
    text = source_lines[line - 1].strip() if 0 < line <= len(source_lines) else ""
    return f"your code raised {error.type_name} at {function}(), line {line}: `{text}`: {error.message}"


def _available_modules(assignment):
    names = ["numpy", *[name for name in assignment.preload if "." not in name and name != "numpy"]]
    names += [f"paddle_course.{name}" for name in assignment.course_api]
    return ", ".join(names) + " and the Python standard library"


def _result(spec, status, message="", **extra):
    earned = spec.points if status == "PASS" else 0
    hint = extra.pop("hint", None)
    if status != "PASS" and hint is None:
        hint = spec.hint
    return CheckResult(spec.name, spec.tests, spec.points, earned, status, message, hint=hint, **extra)


def _text(value):
    return value if value is None or isinstance(value, str) else show(value)


def _import_trusted(assignment):
    """Import what the checks need (paddle, ...) while the child starts (in this thread: Paddle's
    dygraph mode is per thread, so it must not be imported in another one)."""
    for name in assignment.trusted_preload:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the check that needs it reports the problem
            pass


@dataclass(frozen=True)
class _Grading:
    """What stays the same for every child of one grading."""

    assignment: object
    submission: Path
    source: str  # the grader's own copy of the file: source lines for the messages, loops for the checks
    timeout: float
    seed: int

    @property
    def source_lines(self):
        return self.source.splitlines()

    @property
    def available(self):
        return _available_modules(self.assignment)


def _start_session(grading, checks_left):
    limits = Limits(memory_mb=grading.assignment.memory_limit_mb,
                    cpu_seconds=int(STARTUP_CPU_SECONDS + grading.timeout * (checks_left + 1)))
    sandbox = Sandbox(grading.submission, limits, preload=grading.assignment.preload,
                      course_api=grading.assignment.course_api, course_files=grading.assignment.course_files)
    return Session(sandbox, grading.source)


def _open_module(session, grading, report):
    """``(module, None)`` once the child is ready and has imported the file, else ``(None, why not)``."""
    try:
        session.wait_ready(STARTUP_TIMEOUT)
    except (ChildGone, ChildTimeout) as problem:
        return None, (f"the grader could not start ({str(problem) or 'no answer'}); this is a problem of the "
                      f"course, not of your file: {session.sandbox.stderr_tail()}").strip()
    import_timeout = max(grading.timeout, MIN_IMPORT_TIMEOUT)
    session.deadline = time.monotonic() + import_timeout
    try:
        module = session.load()
    except ChildTimeout:
        return None, (f"importing your file did not finish within {import_timeout:g} s and was stopped: "
                      "is there an infinite loop (or long work) at the top level of the file? "
                      "Keep code inside functions or under `if __name__ == \"__main__\":`.")
    except ChildGone as gone:
        return None, (f"{gone} while importing your file (does it call exit() at the top level?) "
                      f"{session.sandbox.stderr_tail()}").strip()
    except LearnerError as error:
        report.import_output = session.take_output()
        problem = describe_learner_error(error, grading.source_lines, grading.available)
        return None, f"your file could not be imported: {problem}"
    report.import_output = session.take_output()
    return module, None


def _run_checks(session, module, specs, grading):
    """Results of ``specs`` in order, up to and including the first TIMEOUT or ERROR (the child is spent)."""
    results = []
    for spec in specs:
        started = time.monotonic()
        session.deadline = started + grading.timeout
        # each check has its own stream of random numbers, so re-running one check
        # (after a timeout restarted the child) gives it the same inputs
        rng = np.random.default_rng([int(grading.seed), zlib.crc32(spec.name.encode())])
        outcome = _run_check(spec, module, rng, grading.source_lines, grading.available, grading.timeout)
        outcome.seconds = round(time.monotonic() - started, 3)
        outcome.output = session.take_output()
        if outcome.status == "ERROR":
            outcome.message = f"{outcome.message} {session.sandbox.stderr_tail()}".strip()
        results.append(outcome)
        if outcome.status in ("TIMEOUT", "ERROR"):
            break
    return results


def grade(assignment_name, submission, timeout=None, seed=None):
    """Grade the file ``submission`` for an assignment; returns a :class:`GradeReport`.

    ``timeout`` is the limit of one check in seconds (the assignment's default if
    None), ``seed`` fixes the random inputs (a fresh one if None).
    """
    assignment, specs = load_assignment(assignment_name)
    submission = Path(submission)
    if not submission.is_file():
        raise FileNotFoundError(f"{submission}: no such file to grade")
    timeout = float(assignment.check_timeout if timeout is None else timeout)
    if not timeout > 0:
        raise ValueError(f"--timeout must be a positive number of seconds, got {timeout}")
    seed = new_seed() if seed is None else int(seed)
    if seed < 0:
        raise ValueError(f"--seed must be a non-negative integer, got {seed}")
    how = sandboxes.containment()
    report = GradeReport(assignment.id, assignment.title, str(submission.resolve()), seed, timeout,
                         sandbox=how.describe(), warnings=list(how.warnings))
    grading = _Grading(assignment, submission, submission.read_bytes().decode("utf-8", errors="replace"),
                       timeout, seed)
    results, remaining, import_failure = {}, list(specs), None
    while remaining and import_failure is None:
        session = _start_session(grading, len(remaining))
        try:
            _import_trusted(assignment)
            module, import_failure = _open_module(session, grading, report)
            if module is not None:  # a fresh child for the checks left after a TIMEOUT or ERROR
                for outcome in _run_checks(session, module, remaining, grading):
                    results[outcome.name] = outcome
                remaining = [spec for spec in remaining if spec.name not in results]
        finally:
            session.sandbox.close()
    report.import_error = import_failure
    for spec in remaining:
        reason = "not run: your file could not be imported (see above)" if import_failure else "the check did not run"
        results[spec.name] = _result(spec, "FAIL", reason, hint="")
    report.checks = [results[spec.name] for spec in specs]
    return report


def _run_check(spec, module, rng, source_lines, available, timeout):
    """One check, its outcome as a :class:`CheckResult` (PASS, FAIL, TIMEOUT or ERROR)."""
    try:
        spec.function(module, rng)
    except CheckFailed as failure:
        return _result(spec, "FAIL", failure.message, expected=_text(failure.expected),
                       received=_text(failure.received), hint=failure.hint)
    except ChildTimeout:
        return _result(spec, "TIMEOUT", (
            f"stopped after {timeout:g} s: the check did not finish in time. Look for a loop that "
            "never ends (a `while` whose condition never changes) or work far larger than needed; "
            "raise the limit with --timeout if your computer is just slow."))
    except ChildGone as gone:
        return _result(spec, "ERROR", f"{gone} during this check: does your code call exit() or os._exit()?")
    except LearnerError as error:
        return _result(spec, "FAIL", describe_learner_error(error, source_lines, available))
    except Exception as error:  # noqa: BLE001 - the check choked on what the learner's code returned
        return _result(spec, "FAIL", f"the check could not use what your code returned ({type(error).__name__}: "
                       f"{error}); compare the return value's type and shape with the docstring")
    return _result(spec, "PASS")
