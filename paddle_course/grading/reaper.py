"""Keeps every process a submission starts within reach, when there is no PID namespace to do it.

Used by :mod:`paddle_course.grading.sandbox` only in its fallbacks (no bubblewrap).  Started as::

    python -I -S reaper.py COMMAND...

it makes itself a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``): a process that
double-forks and calls ``setsid()`` is re-parented to it instead of to init, so it cannot get
away.  It runs COMMAND, and when COMMAND ends, when it is sent SIGTERM, or when the grader
dies (``PR_SET_PDEATHSIG``), it kills every descendant it has until none is left, then exits
with COMMAND's status.  Standard library only: it runs without ``paddle_course``.
"""
import ctypes
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def children():
    """The PIDs of this process's children (``/proc/self/task/*/children``)."""
    found = set()
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/children") as file:
                found.update(int(pid) for pid in file.read().split())
        except OSError:
            pass
    return found


def kill_all(deadline_seconds=10.0):
    """SIGKILL every descendant: killing a child re-parents its own children here, so repeat."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        pids = children()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        reaped = False
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                break
            reaped = True
        if not pids and not reaped:
            return
        time.sleep(0.01)


class Stop(Exception):
    """SIGTERM: the grader wants everything gone now."""


def _stop(signum, frame):
    raise Stop()


def main(command):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.stderr.write("reaper: prctl(PR_SET_CHILD_SUBREAPER) failed\n")
        return 125
    signal.signal(signal.SIGTERM, _stop)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() == 1:  # the grader died before the line above
        return 125
    main_pid = os.fork()
    if main_pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            os.execv(command[0], command)
        finally:
            os._exit(127)
    status = 0
    try:
        while True:
            pid, wait_status = os.waitpid(-1, 0)
            if pid == main_pid:
                status = os.waitstatus_to_exitcode(wait_status)
                break
    except (Stop, ChildProcessError):
        status = -signal.SIGTERM
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    kill_all()
    return status if status >= 0 else 128 - status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
