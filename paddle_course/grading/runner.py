"""Grade one file: run its checks in a separate, time-limited process and collect the results.

The learner's file is copied into a fresh temporary folder, which is also the
worker's working directory and ``$HOME``, so code that deletes or rewrites files
around it only touches copies.  The worker (:mod:`paddle_course.grading.worker`)
reports each check on a pipe; this side gives every check ``timeout`` seconds
and kills the worker's whole process group when one overruns, then starts a
fresh worker for the checks that are left.  Nothing the learner's code does can
make :func:`grade` raise: every problem becomes a failed check with a message.
"""
import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from paddle_course.grading.registry import load_assignment
from paddle_course.common.paths import PACKAGE_DIR

STARTUP_TIMEOUT = 180.0  # python + numpy (+ paddle) on a busy laptop; not counted against the learner
MIN_IMPORT_TIMEOUT = 10.0  # importing the learner's file gets max(timeout, this)
STREAM_KEEP = 4000  # bytes of the worker's raw stdout/stderr kept (output outside any check)


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


class _Drain(threading.Thread):
    """Read a pipe to its end, keeping the first ``STREAM_KEEP`` bytes (a print loop can't block the worker)."""

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe, self.kept, self.total = pipe, bytearray(), 0

    def run(self):
        while True:
            chunk = self.pipe.read1(65536) if hasattr(self.pipe, "read1") else self.pipe.read(65536)
            if not chunk:
                break
            if len(self.kept) < STREAM_KEEP:
                self.kept += chunk[:STREAM_KEEP - len(self.kept)]
            self.total += len(chunk)

    def text(self):
        text = self.kept.decode("utf-8", errors="replace")
        if self.total > STREAM_KEEP:
            text += f"\n... ({self.total - STREAM_KEEP} more bytes not shown)"
        return text


class _Worker:
    """One worker process in its own temporary folder and process group."""

    def __init__(self, assignment, submission, seed, check_names):
        self.workdir = Path(tempfile.mkdtemp(prefix="paddle_course_grading_"))
        target = self.workdir / "submission.py"
        shutil.copyfile(submission, target)
        read_fd, write_fd = os.pipe()
        env = dict(os.environ)
        env.update(
            OMP_NUM_THREADS=env.get("OMP_NUM_THREADS", "1"),
            MPLBACKEND="Agg",
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONIOENCODING="utf-8",
            HOME=str(self.workdir),
            PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE_DIR.parent), env.get("PYTHONPATH")])),
        )
        command = [sys.executable, "-m", "paddle_course.grading.worker", assignment.id, str(target), str(seed),
                   str(write_fd), *check_names]
        try:
            self.process = subprocess.Popen(command, cwd=self.workdir, env=env, pass_fds=(write_fd,),
                                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, start_new_session=True)
        finally:
            os.close(write_fd)
        self.events_fd, self.buffer = read_fd, b""
        self.drains = [_Drain(self.process.stdout), _Drain(self.process.stderr)]
        for drain in self.drains:
            drain.start()

    def next_event(self, deadline):
        """The next event dict, ``"timeout"`` when ``deadline`` passes first, or ``"exit"`` if the worker ended."""
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            ready, _, _ = select.select([self.events_fd], [], [], remaining)
            if not ready:
                return "timeout"
            chunk = os.read(self.events_fd, 65536)
            if not chunk:
                return "exit"
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:  # something else wrote into the pipe; skip it
            return self.next_event(deadline)

    def exit_description(self):
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "the process stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"the process was killed by {name}"
        return f"the process exited with code {code}"

    def stderr_tail(self, limit=800):
        text = self.drains[1].text().strip()
        return text[-limit:]

    def close(self):
        # the whole group: also whatever the learner's code started
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            if self.process.poll() is None:
                self.process.kill()
        self.process.wait()
        for drain in self.drains:
            drain.join(timeout=5)
        os.close(self.events_fd)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _result(spec, status, message="", **extra):
    earned = spec.points if status == "PASS" else 0
    hint = extra.pop("hint", None)
    if status != "PASS" and hint is None:
        hint = spec.hint
    return CheckResult(spec.name, spec.tests, spec.points, earned, status, message, hint=hint, **extra)


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
    report = GradeReport(assignment.id, assignment.title, str(submission.resolve()), seed, timeout)
    results = {}
    remaining = [spec.name for spec in specs]
    by_name = {spec.name: spec for spec in specs}
    import_failure = None
    while remaining and import_failure is None:
        worker = _Worker(assignment, submission, seed, remaining)
        try:
            event = worker.next_event(time.monotonic() + STARTUP_TIMEOUT)
            if not isinstance(event, dict) or event.get("event") != "ready":
                import_failure = (f"the grader could not start ({worker.exit_description()}); "
                                  f"this is a problem of the course, not of your file: {worker.stderr_tail()}")
                break
            import_timeout = max(timeout, MIN_IMPORT_TIMEOUT)
            event = worker.next_event(time.monotonic() + import_timeout)
            if event == "timeout":
                import_failure = (f"importing your file did not finish within {import_timeout:g} s and was stopped: "
                                  "is there an infinite loop (or long work) at the top level of the file? "
                                  "Keep code inside functions or under `if __name__ == \"__main__\":`.")
                break
            if event == "exit":
                import_failure = (f"{worker.exit_description()} while importing your file "
                                  f"(does it call exit() at the top level?) {worker.stderr_tail()}").strip()
                break
            report.import_output = event.get("output", "")
            if event["event"] == "load_error":
                import_failure = f"your file could not be imported: {event['message']}"
                break
            for name in list(remaining):
                spec = by_name[name]
                started = time.monotonic()
                event = worker.next_event(started + timeout)
                if isinstance(event, dict) and event.get("event") == "start":
                    event = worker.next_event(started + timeout)
                seconds = round(time.monotonic() - started, 3)
                remaining.remove(name)
                if event == "timeout":
                    results[name] = _result(spec, "TIMEOUT", seconds=seconds, message=(
                        f"stopped after {timeout:g} s: the check did not finish in time. Look for a loop that "
                        "never ends (a `while` whose condition never changes) or work far larger than needed; "
                        "raise the limit with --timeout if your computer is just slow."))
                    break
                if event == "exit":
                    results[name] = _result(spec, "ERROR", seconds=seconds, message=(
                        f"{worker.exit_description()} during this check: does your code call exit() or "
                        f"os._exit()? {worker.stderr_tail()}").strip())
                    break
                results[name] = _result(spec, event["status"], event.get("message", ""),
                                        expected=event.get("expected"), received=event.get("received"),
                                        hint=event.get("hint"), output=event.get("output", ""), seconds=seconds)
        finally:
            worker.close()
    report.import_error = import_failure
    for name in remaining:
        reason = "not run: your file could not be imported (see above)" if import_failure else "the check did not run"
        results[name] = _result(by_name[name], "FAIL", reason, hint="")
    report.checks = [results[spec.name] for spec in specs]
    return report
