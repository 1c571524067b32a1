"""Run the learner's file contained, with what Linux offers without a daemon.

The child (:mod:`paddle_course.grading.agent`) runs

* in **bubblewrap** (``bwrap``) namespaces: its own PID namespace (when its first process
  ends, the kernel kills every process in it, ``setsid()`` or not), no network, its own
  IPC/UTS, user namespace with every capability dropped; a file system made of read-only
  views of the Python installation (with the ``paddle_course`` package, the course's data
  and homework folders hidden under empty folders), a private ``/tmp`` and working folder
  (tmpfs, gone with the sandbox), ``/grader`` (the agent and a copy of the learner's file)
  and, for an assignment that needs them, ``/course`` (read-only shipped files such as
  hw05's sentiment weights) and a stand-in ``paddle_course`` with only the API the homework
  uses (:mod:`paddle_course.grading.sandbox_course`);
* in a **new session and process group**, killed as a whole, and in a **cgroup** of its
  own when this machine lets us make one (v1 ``pids``/``memory``/``freezer``, or a
  delegated v2 group): a process limit, a memory limit that counts its tmpfs files too,
  and a kill that reaches every process in it;
* with **hard resource limits** (soft = hard, so nothing in it can raise them): address
  space, CPU seconds, file size, open files, processes, no core files;
* with a **fixed environment** (nothing of the grader's is passed on) and ``python -I -S``
  with an explicit ``sys.path`` that has neither the package nor the repository.

Where ``bwrap`` is missing or not allowed (user namespaces switched off), the next
strongest is used and the report says so once: ``unshare`` (PID and network namespaces,
but the file system is visible), else a plain process with the limits above, its own
session and a *subreaper* (:mod:`paddle_course.grading.reaper`) that catches every
double-forked orphan and kills it when grading ends.  Never silently weaker.
"""
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from paddle_course.common.paths import PACKAGE_DIR
from paddle_course.grading import wire
from paddle_course.grading.cgroup import TEMP_PREFIX, Cgroup

GRADING_DIR = Path(__file__).resolve().parent
STREAM_KEEP = 4000  # bytes of the child's raw stdout/stderr kept (output outside any request)
# where things are inside the bubblewrap sandbox
BOX_GRADER, BOX_WORK, BOX_COURSE = "/grader", "/home/learner", "/course"
# a virtual environment is shown to the child here, not at its own path: the README makes `.venv`
# inside the repository, and binding it in place would show the repository's folder too (empty but
# there, and its name says where the course lives)
BOX_VENV = "/venv"
PROBE_TIMEOUT = 20.0


@dataclass(frozen=True)
class Limits:
    """Hard limits of every process of one sandbox (and of all together, with a cgroup)."""

    memory_mb: int = 2048  # address space of each process; the cgroup gets this plus room for tmpfs files
    cpu_seconds: int = 600
    file_mb: int = 128  # largest file it may write
    open_files: int = 256
    processes: int = 64  # RLIMIT_NPROC (threads count too); the cgroup's pids.max

    def rlimits(self):
        return {"RLIMIT_AS": self.memory_mb << 20, "RLIMIT_CPU": int(self.cpu_seconds),
                "RLIMIT_FSIZE": self.file_mb << 20, "RLIMIT_NOFILE": self.open_files,
                "RLIMIT_NPROC": self.processes, "RLIMIT_CORE": 0}


# --- what this machine offers ------------------------------------------------------

@dataclass
class Containment:
    """The strongest containment available here, probed once per process."""

    tool: str  # "bwrap", "unshare" or "none"
    executable: str = None
    cgroup: str = None  # "v1", "v2" or None
    warnings: list = field(default_factory=list)

    def describe(self):
        parts = {"bwrap": "bubblewrap namespaces (pid, net, ipc, uts, user; read-only file system views)",
                 "unshare": "unshare namespaces (pid, net) without file system views",
                 "none": "a plain process (own session, subreaper)"}[self.tool]
        cgroup = f"a {self.cgroup} cgroup" if self.cgroup else "no cgroup"
        return f"{parts}, {cgroup}, hard rlimits, a fixed environment, a private temporary folder"


def _run_probe(command):
    try:
        result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=PROBE_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as error:
        return False, str(error)
    return result.returncode == 0, result.stderr.decode("utf-8", "replace").strip()[-300:]


@functools.lru_cache(maxsize=None)
def containment():
    """Probe bwrap, unshare and cgroups once; the result says what :class:`Sandbox` will use."""
    warnings = []
    cgroup = Cgroup.available()
    bwrap = shutil.which("bwrap")
    if bwrap:
        ok, why = _run_probe([bwrap, *_namespace_args(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
                              "true"])
        if ok:
            return Containment("bwrap", bwrap, cgroup, warnings)
        reason = f"bwrap is installed but cannot make namespaces here ({why})"
    else:
        reason = "bwrap (bubblewrap) is not installed"
    unshare = shutil.which("unshare")
    tool = "none"
    if unshare:
        ok, _ = _run_probe([unshare, *_unshare_args(), "true"])
        tool = "unshare" if ok else "none"
    weaker = ("the submission runs in PID and network namespaces but can read every file you can read"
              if tool == "unshare" else
              "the submission runs as a plain process: it can read every file you can read (the course "
              "package, homework/solutions) and use the network")
    warnings.append(f"{reason}: {weaker}; its time, memory, processes and files are still limited and "
                    "everything it starts is killed. Install bubblewrap (apt-get install bubblewrap) "
                    "for the full sandbox.")
    return Containment(tool, unshare if tool == "unshare" else None, cgroup, warnings)


def _namespace_args():
    return ["--unshare-user", "--uid", "65534", "--gid", "65534", "--cap-drop", "ALL", "--unshare-pid",
            "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent",
            "--new-session"]


def _unshare_args():
    return ["--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--net", "--ipc", "--uts",
            "--mount-proc"]


# --- the child's Python --------------------------------------------------------------

def _python_paths():
    """``sys.path`` for the child: the standard library and site-packages, nothing of the course."""
    own = {PACKAGE_DIR.parent.resolve()}
    keep = []
    for entry in sys.path:
        if not entry:
            continue
        path = Path(entry).resolve()
        if path in own or not path.exists():
            continue
        under_python = any(path == p or p in path.parents for p in _python_roots())
        if under_python or path.name in ("site-packages", "dist-packages"):
            keep.append(str(path))
    return keep


def _python_roots():
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        value = sysconfig.get_paths().get(key)
        if value:
            roots.add(Path(value).resolve())
    return roots


def _venv_prefix():
    """The virtual environment's folder when Python runs in one outside its base installation, else None."""
    prefix, base = Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()
    if prefix == base or base in prefix.parents:
        return None
    return prefix


def _boxed(path):
    """Where ``path`` of this machine is in the sandbox: under :data:`BOX_VENV` when it is in the venv."""
    venv, path = _venv_prefix(), Path(path)
    if venv is not None and (path.resolve() == venv or venv in path.resolve().parents):
        return str(Path(BOX_VENV) / path.resolve().relative_to(venv))
    return str(path)


def _hidden_paths():
    """Folders the child must never see even when they lie inside a folder it sees."""
    hidden = {PACKAGE_DIR.resolve(), PACKAGE_DIR.parent.resolve() / "homework", PACKAGE_DIR.parent.resolve() / "data"}
    for prefix in {sys.prefix, sys.base_prefix}:
        hidden.add(Path(prefix).resolve() / "share" / "paddle_course")
    home = os.environ.get("PADDLE_COURSE_HOME")
    if home:
        hidden.add(Path(home).resolve())
    return {path for path in hidden if path.exists()}


# --- one sandbox ------------------------------------------------------------------------

class _Drain(threading.Thread):
    """Read a pipe to its end, keeping the first ``STREAM_KEEP`` bytes (a print loop can't block the child)."""

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe, self.kept, self.total = pipe, bytearray(), 0

    def run(self):
        while True:
            chunk = self.pipe.read1(65536)
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


class Sandbox:
    """One contained child running the agent; :meth:`close` kills everything it started.

    ``submission`` is the learner's file (copied in); ``preload`` the modules the agent
    imports before saying ready; ``course_api`` the stand-in course modules it gets
    (``"sentiment"``); ``course_files`` folders of the package it may read (e.g.
    ``"hub_modules/course_sentiment/assets"``).
    """

    def __init__(self, submission, limits, preload=(), course_api=(), course_files=()):
        self.how = containment()
        self.limits = limits
        self.folder = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
        self.cgroup = self.process = None
        self.request_fd = self.reply_fd = None
        self.drains = []
        try:
            self._start(Path(submission), preload, course_api, course_files)
        except BaseException:
            self.close()
            raise

    # --- start --------------------------------------------------------------

    def _start(self, submission, preload, course_api, course_files):
        boxed = self.how.tool == "bwrap"
        # where things are as the child sees them
        inside = Path(BOX_GRADER) if boxed else self.folder / "grader"
        work = Path(BOX_WORK) if boxed else self.folder / "work"
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        for fd in (request_write, reply_read):
            wire.widen(fd)
        self.request_fd, self.reply_fd = request_write, reply_read
        config = {"submission_source": str(inside / "submission.py"), "submission": str(work / "submission.py"),
                  "sys_path": [_boxed(p) for p in _python_paths()] if boxed else _python_paths(),
                  "preload": list(preload), "limits": self.limits.rlimits(),
                  "request_fd": request_read, "reply_fd": reply_write}
        self._write_grader_folder(submission, config, course_api, inside, Path(BOX_COURSE) if boxed else PACKAGE_DIR)
        env = {"HOME": str(work), "TMPDIR": "/tmp" if boxed else str(work), "LANG": "C.UTF-8",
               "PYTHONIOENCODING": "utf-8", "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg", "USER": "learner",
               "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        # in the sandbox the base interpreter itself runs (-I -S: the venv's site-packages come from sys_path)
        executable = os.path.realpath(sys.executable) if boxed else sys.executable
        python = [executable, "-I", "-S", str(inside / "agent.py"), str(inside / "config.json")]
        if boxed:
            command, cwd, env = self._bwrap_command(env, course_files, python), self.folder, {}  # bwrap sets env
        else:
            (self.folder / "work").mkdir()
            command, cwd = self._plain_command(python), work
        # the group's memory: the address-space limit plus room for the files in its tmpfs
        memory = (self.limits.memory_mb + 1024) << 20
        self.cgroup = Cgroup.create(self.limits.processes, memory) if self.how.cgroup else None
        if self.cgroup is not None:
            # the shell puts itself into the group, then becomes the sandbox: nothing escapes the group
            files = self.cgroup.procs_files()
            script = "".join(f'echo $$ > "${i + 1}" || exit 126; ' for i in range(len(files)))
            command = ["/bin/sh", "-c", script + f'shift {len(files)}; exec "$@"', "sh", *files, *command]
        try:
            self.process = subprocess.Popen(command, cwd=str(cwd), env=env, pass_fds=(request_read, reply_write),
                                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, start_new_session=True)
        finally:
            os.close(request_read)
            os.close(reply_write)
        os.set_blocking(self.request_fd, False)
        self.drains = [_Drain(self.process.stdout), _Drain(self.process.stderr)]
        for drain in self.drains:
            drain.start()

    def _write_grader_folder(self, submission, config, course_api, inside, course_root):
        """``grader/``: the agent, the wire format, a copy of the learner's file, the config, the stand-in."""
        grader = self.folder / "grader"
        grader.mkdir()
        (self.folder / "empty").mkdir()  # mounted over what the child must not see
        for name in ("agent.py", "wire.py"):
            shutil.copyfile(GRADING_DIR / name, grader / name)
        shutil.copyfile(submission, grader / "submission.py")
        if course_api:
            self._write_course_api(grader / "lib", course_api, course_root)
            config = dict(config, sys_path=[str(inside / "lib"), *config["sys_path"]])
        (grader / "config.json").write_text(json.dumps(config), encoding="utf-8")

    @staticmethod
    def _write_course_api(lib, course_api, course_root):
        """The stand-in package: ``course_api`` names modules (``"sentiment"``, ``"common.paths"``) whose
        files are ``sandbox_course/<last part>.py``; ``COURSE_ROOT`` points at the read-only course files."""
        for dotted in course_api:
            parts = dotted.split(".")
            folders = [lib / "paddle_course"]
            for part in parts[:-1]:
                folders.append(folders[-1] / part)
            for folder in folders:
                folder.mkdir(parents=True, exist_ok=True)
                init = folder / "__init__.py"
                if not init.exists():
                    init.write_text('"""A stand-in of the course package: only what homework may use while graded."""\n')
            folder = folders[-1]
            text = (GRADING_DIR / "sandbox_course" / f"{parts[-1]}.py").read_text(encoding="utf-8")
            text = text.replace('COURSE_ROOT = Path("/course")', f"COURSE_ROOT = Path({str(course_root)!r})")
            (folder / f"{parts[-1]}.py").write_text(text, encoding="utf-8")

    def _bwrap_command(self, env, course_files, python):
        args = [self.how.executable, *_namespace_args(), "--clearenv"]
        for key, value in env.items():
            args += ["--setenv", key, value]
        args += ["--ro-bind", "/usr", "/usr"]
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
        bound = []
        for root in sorted({*map(str, _python_roots()), *_python_paths(), os.path.dirname(sys.executable)}):
            if not any(root == b or root.startswith(b.rstrip("/") + "/") for b in bound) and root != "/":
                bound.append(root)
        bound.append(os.path.dirname(os.path.realpath(sys.executable)))
        for root in bound:
            if root != "/usr" and not root.startswith("/usr/"):
                args += ["--ro-bind", root, _boxed(root)]
        for hidden in sorted(map(str, _hidden_paths())):
            if any(hidden.startswith(b.rstrip("/") + "/") for b in [*bound, "/usr"]):
                args += ["--ro-bind", str(self.folder / "empty"), _boxed(hidden)]
        args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", BOX_WORK,
                 "--ro-bind", str(self.folder / "grader"), BOX_GRADER]
        for relative in course_files:
            args += ["--ro-bind", str(PACKAGE_DIR / relative), f"{BOX_COURSE}/{relative}"]
        args += ["--chdir", BOX_WORK]
        return [*args, *python]

    def _plain_command(self, python):
        reaper = [sys.executable, "-I", "-S", str(GRADING_DIR / "reaper.py")]
        if self.how.tool == "unshare":
            # the reaper is the namespace's first process (as bwrap's own is): signals from inside
            # cannot kill it, and when it ends the kernel kills everything in the namespace
            return [self.how.executable, *_unshare_args(), *reaper, *python]
        return [*reaper, *python]

    # --- state ----------------------------------------------------------------

    def exit_description(self, wait=1.0):
        """``"your program exited with code 3"``, ``"... was killed by SIGKILL"`` or ``"... is still running"``."""
        if self.process is None:
            return "your program did not start"
        try:
            code = self.process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return "your program stopped answering"
        if code > 128 or code < 0:  # bwrap and the reaper report a signal as 128 + its number
            number = -code if code < 0 else code - 128
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            hint = " (out of memory?)" if number == signal.SIGKILL else ""
            return f"your program was killed by {name}{hint}"
        return f"your program exited with code {code}"

    def stderr_tail(self, limit=800):
        if not self.drains:
            return ""
        return self.drains[1].text().strip()[-limit:]

    def survivors(self):
        """Processes of this sandbox still alive (by cgroup; the PID namespace needs no list)."""
        return sorted(self.cgroup.pids()) if self.cgroup is not None else []

    # --- the end ----------------------------------------------------------------

    def close(self):
        """Kill everything the child started, wait for it, remove the folder and the cgroup."""
        if self.cgroup is not None:
            self.cgroup.kill()
        if self.process is not None:
            if self.how.tool == "none" and self.process.poll() is None:
                # the reaper kills every descendant it caught, then exits
                try:
                    self.process.send_signal(signal.SIGTERM)
                    self.process.wait(timeout=10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
        for drain in self.drains:
            drain.join(timeout=5)
        for fd in (self.request_fd, self.reply_fd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.request_fd = self.reply_fd = None
        if self.cgroup is not None:
            self.cgroup.kill()
            self.cgroup.remove()
        shutil.rmtree(self.folder, ignore_errors=True)
