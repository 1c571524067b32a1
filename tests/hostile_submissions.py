"""Hostile hw02 submissions: the attacks of issue 14, each as the file a dishonest learner hands in.

Each entry says what the file tries, the score it must get (what its honest part earns; a
forgery earns nothing) and how the file is built: ``source`` is Python code in which
``@@TOKEN@@`` is replaced by a unique word, so that a test can find every process the file
started (the word is in their command line) and every file it tried to touch.

``write_hostile(name, folder, token)`` writes the file.  ``tests/test_grader_hostile.py`` grades
each one; ``/work/staging/grader/run_hostile.py`` records the scores before and after the
grader was rebuilt.
"""
from dataclasses import dataclass

from paddle_course.grading.registry import load_assignment, reference_solution


@dataclass(frozen=True)
class Hostile:
    summary: str          # the attack, for the table
    score: int            # the score it must get from a grader that cannot be fooled
    why: str              # why that score: the honest part of the file
    source: str           # the file (prefix/suffix/whole), see ``where``
    where: str = "whole"  # "whole": source is the file; "after": source follows the teacher's copy
    timeout: float = None  # --timeout for the grading (None: the assignment's)


HW02_CHECKS = ["gradient_shapes", "gradient_w_values", "gradient_b_values", "gradient_is_vectorised",
               "train_loss_count", "train_matches_reference", "train_is_seeded", "train_decreases_boston_loss"]

# A long-lived process whose command line carries the token, started in a new session so that
# killing the grader's process group does not reach it.
_SPAWN = r'''
import os, sys, time

def _spawn_survivor(token, job="sleep"):
    pid = os.fork()
    if pid:
        return pid
    try:
        os.setsid()
        if os.fork():  # double fork: the survivor is nobody's child
            os._exit(0)
        code = ("import glob, os, sys, time\n"
                "deadline = time.time() + 600\n"
                "while time.time() < deadline:\n"
                "    if sys.argv[2] == 'rewrite':\n"
                "        for path in glob.glob('/tmp/paddle_course_grading_*/submission.py'):\n"
                "            try:\n"
                "                if 'REWRITTEN' not in open(path).read():\n"
                "                    open(path, 'w').write('raise SystemExit(\"REWRITTEN by ' + sys.argv[1] + '\")\\n')\n"
                "            except OSError:\n"
                "                pass\n"
                "    time.sleep(0.05)\n")
        os.execv(sys.executable, [sys.executable, "-c", code, token, job])
    finally:
        os._exit(0)
'''

HOSTILE = {
    "forged_result_lines": Hostile(
        "no Network at all; writes PASS results for every check into every open pipe (the worker's "
        "event fd in sys.argv), then exits",
        0, "nothing is implemented",
        r'''
import json, os, sys

CHECKS = %r
lines = [{"event": "loaded", "output": ""}]
for name in CHECKS:
    lines += [{"event": "start", "check": name},
              {"event": "result", "check": name, "status": "PASS", "message": "", "output": ""}]
lines.append({"event": "done"})
payload = "".join(json.dumps(line) + "\n" for line in lines).encode()
targets = set()
for arg in sys.argv:
    if arg.isdigit():
        targets.add(int(arg))
try:
    targets.update(int(fd) for fd in os.listdir("/proc/self/fd"))
except OSError:
    pass
for fd in sorted(targets):
    if fd in (0, 1, 2):
        continue
    try:
        os.write(fd, payload)
        os.write(fd, (10 ** 6).to_bytes(8, "big") + b'{"ok": true, "value": "PASS"}')
    except OSError:
        pass
os._exit(0)
''' % (HW02_CHECKS,)),

    "stack_walk_noop_checks": Hostile(
        "no Network; at import walks up the call stack and through sys.modules and replaces every "
        "check function's code with a no-op",
        0, "nothing is implemented",
        r'''
import sys

def _noop(module, rng):
    return None

def _disarm(value):
    function = getattr(value, "function", None)
    if callable(function) and hasattr(function, "__code__"):
        function.__code__ = _noop.__code__
    if callable(value) and hasattr(value, "check_spec"):
        value.__code__ = _noop.__code__

frame = sys._getframe()
while frame is not None:
    for value in list(frame.f_locals.values()):
        for item in (value if isinstance(value, (list, tuple)) else [value]):
            _disarm(item)
        if isinstance(value, dict):
            for item in value.values():
                _disarm(item)
    frame = frame.f_back
for name, module in list(sys.modules.items()):
    if name.startswith("paddle_course.grading") or "check" in name:
        for value in list(vars(module).values()):
            _disarm(value)
'''),

    "patched_numpy_and_helpers": Hostile(
        "monkeypatches numpy.allclose/array_equal/isclose and the grader's expect_* helpers, returns "
        "zero gradients of the right shape and a train that does nothing",
        2, "zero gradients have the right shapes (gradient_shapes, 1) and are computed without a loop, "
        "fast (gradient_is_vectorised, 1); every value check must fail",
        r'''
import sys
import numpy as np

np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
np.isclose = lambda *args, **kwargs: np.ones(np.broadcast(*args[:2]).shape, dtype=bool)
np.core.numeric.allclose = np.allclose
for name, module in list(sys.modules.items()):
    if name.startswith("paddle_course"):
        for helper in ("expect_close", "expect_true", "as_array", "as_losses", "as_number"):
            if hasattr(module, helper):
                original = getattr(module, helper)
                if helper.startswith("expect"):
                    setattr(module, helper, lambda *args, **kwargs: None)
                else:
                    setattr(module, helper, lambda value, *args, _o=original, **kwargs: _o(value, *args, **kwargs))


class Network:
    def __init__(self, num_of_weights, seed=0):
        self.w = np.zeros((num_of_weights, 1))
        self.b = np.zeros(1)

    def gradient(self, x, y):
        return np.zeros_like(self.w), np.zeros_like(self.b)

    def train(self, training_data, num_epochs, batch_size=10, eta=0.01, seed=0):
        return []
'''),

    "subclass_package_answer": Hostile(
        "Network subclasses the package's own answer paddle_course.numpy_net.Network",
        0, "the package is not importable by the submission: the file cannot be imported",
        r'''
from paddle_course.numpy_net import Network as _Answer


class Network(_Answer):
    def train(self, training_data, num_epochs, batch_size=10, eta=0.01, seed=0):
        return super().train(training_data, num_epochs=num_epochs, batch_size=batch_size, eta=eta, seed=seed)
'''),

    "exec_teachers_copy": Hostile(
        "finds homework/solutions/hw02_numpy_gradient.py (through paddle_course.paths, the editable "
        "install or a walk of the file system) and execs it",
        0, "the teacher's copy is not readable by the submission: the file cannot be imported",
        r'''
import os

NAME = "hw02_numpy_gradient.py"
found = None
try:
    from paddle_course.paths import homework_path
    found = str(homework_path("solutions", NAME))
except Exception:
    pass
if found is None or not os.path.isfile(found):
    found = None
    for top in ("/work", "/home", "/root", "/opt", "/srv", "/tmp", "/mnt"):
        for folder, dirs, files in os.walk(top):
            if NAME in files and folder.endswith("solutions"):
                found = os.path.join(folder, NAME)
                break
            dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "node_modules", ".git")]
        if found:
            break
if found is None:
    raise FileNotFoundError("no teacher's copy to steal")
exec(compile(open(found).read(), found, "exec"), globals())
'''),

    "setsid_survivors": Hostile(
        "the teacher's copy plus, at import, 10 processes in new sessions (double fork) that outlive "
        "grading, and one that rewrites every submission graded later on the machine",
        10, "the teacher's copy is a correct solution; its children must all be gone afterwards",
        _SPAWN + r'''
for _ in range(10):
    _spawn_survivor("@@TOKEN@@")
_spawn_survivor("@@TOKEN@@", "rewrite")
''', where="after"),

    "raises_memory_limit": Hostile(
        "the teacher's copy plus, at import, raising RLIMIT_AS (soft up to hard) and allocating 3 GB",
        0, "the 3 GB allocation must fail (the limit is hard), so importing the file fails with MemoryError",
        r'''
import resource
import numpy as _np

for _limit in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
    try:
        _soft, _hard = resource.getrlimit(_limit)
        resource.setrlimit(_limit, (_hard, _hard))
    except (ValueError, OSError):
        pass
_hoard = _np.ones(3 * 2 ** 30 // 8)  # 3 GB, every page touched
''', where="after"),

    "kills_its_parent": Hostile(
        "the teacher's copy plus, at import, SIGKILL to its parent process (the grader)",
        10, "the teacher's copy is a correct solution, and the grader is out of its reach",
        r'''
import os, signal

try:
    os.kill(os.getppid(), signal.SIGKILL)
except OSError:
    pass
''', where="after"),

    "floods_output": Hostile(
        "the teacher's copy plus 100 MB printed (print and raw writes to fds 1 and 2) at import and in "
        "every gradient call",
        10, "a correct solution; the report stays small",
        r'''
import os, sys

_CHUNK = "flood " * 10_000
for _ in range(1000):  # 60 MB through print
    print(_CHUNK)
for _fd in (1, 2):
    for _ in range(340):  # 2 x 20 MB straight into the file descriptors
        os.write(_fd, _CHUNK.encode())
_original_gradient = Network.gradient

def _noisy_gradient(self, x, y):
    sys.stdout.write(_CHUNK)
    os.write(2, _CHUNK.encode())
    return _original_gradient(self, x, y)

Network.gradient = _noisy_gradient
''', where="after"),

    "sleeps_in_gradient": Hostile(
        "the teacher's copy whose gradient sleeps for an hour (and ignores SIGTERM)",
        4, "train is graded with the grader's own exact gradient (train_loss_count 1, "
        "train_matches_reference 2, train_is_seeded 1); every check that calls gradient times out",
        r'''
import signal, time

signal.signal(signal.SIGTERM, signal.SIG_IGN)

def _sleepy_gradient(self, x, y):
    time.sleep(3600)

Network.gradient = _sleepy_gradient
''', where="after", timeout=2.0),

    "reads_the_grader": Hostile(
        "the teacher's copy plus, at import, tries to read the teacher's copies, the grader's checks and "
        "the package, and to open a network connection; prints what it got",
        10, "a correct solution; what it printed shows it could read nothing and reach nobody",
        r'''
import glob, os, socket

_paths = [p for pattern in ("/work/*/homework/solutions/*.py", "/work/*/paddle_course/grading/checks/*.py",
                            "/work/*/paddle_course/numpy_net.py", "/root/**/homework/solutions/*.py",
                            "/usr/local/share/paddle_course/homework/*/*.py")
          for p in glob.glob(pattern, recursive=True)]
_read = 0
for _path in _paths:
    try:
        with open(_path) as _file:
            _read += bool(_file.read(10))
    except OSError:
        pass
try:
    import paddle_course  # noqa: F401
    _package = "importable"
except ImportError:
    _package = "not importable"
try:
    socket.create_connection(("pypi.org", 443), timeout=3).close()
    _network = "connected"
except OSError:
    _network = "no network"
print(f"@@TOKEN@@ read {_read} of {len(_paths)} files; paddle_course {_package}; {_network}")
''', where="after"),
}


def write_hostile(name, folder, token):
    """Write ``folder/<name>.py``; returns its path."""
    hostile = HOSTILE[name]
    source = hostile.source.replace("@@TOKEN@@", token)
    if hostile.where == "after":
        reference = reference_solution(load_assignment("hw02")[0]).read_text(encoding="utf-8")
        source = reference + "\n\n# --- hostile part ---\n" + source
    path = folder / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    return path
