"""A cgroup for one sandbox: a process limit, a memory limit that counts tmpfs files too, and a kill
that reaches every process in it (``setsid()`` or not).

cgroup v1 (``pids`` + ``memory`` + ``freezer``, as root or where those hierarchies are
writable) or a delegated v2 group (``pids.max``, ``memory.max``, ``cgroup.kill``).  When
neither can be made, :meth:`Cgroup.create` returns None and the sandbox relies on its PID
namespace or subreaper; :func:`paddle_course.grading.sandbox.containment` says which.
"""
import os
import signal
import time
import uuid
from pathlib import Path

TEMP_PREFIX = "paddle_course_grading_"


class Cgroup:
    """A cgroup of one sandbox: v1 (``pids`` + ``memory`` + ``freezer``) or a delegated v2 group."""

    ROOT = Path("/sys/fs/cgroup")

    def __init__(self, version, folders):
        self.version, self.folders = version, folders  # {controller: folder}

    @staticmethod
    def _own_paths():
        paths = {}
        try:
            lines = Path("/proc/self/cgroup").read_text().splitlines()
        except OSError:
            return paths
        for line in lines:
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else ["unified"]:
                paths[controller] = path
        return paths

    @classmethod
    def _v1_bases(cls):
        own = cls._own_paths()
        bases = {}
        for controller in ("pids", "memory", "freezer"):
            if controller in own:
                base = cls.ROOT / controller / own[controller].lstrip("/")
                if (base / "cgroup.procs").is_file() and os.access(base, os.W_OK):
                    bases[controller] = base
        return bases

    @classmethod
    def _v2_base(cls):
        own = cls._own_paths().get("unified")
        if own is None:
            return None
        for root in (cls.ROOT, cls.ROOT / "unified"):
            base = root / own.lstrip("/")
            if (base / "cgroup.controllers").is_file() and os.access(base, os.W_OK):
                return base
        return None

    @staticmethod
    def _sweep(base, older_than=3600):
        """Remove empty groups of ours left by a grader that was killed (an hour old: not a live grading's)."""
        for child in base.glob(f"{TEMP_PREFIX}*"):
            try:
                if time.time() - child.stat().st_mtime > older_than and not (child / "cgroup.procs").read_text():
                    child.rmdir()
            except OSError:
                pass

    @classmethod
    def create(cls, processes, memory_bytes):
        """A new cgroup of at most ``processes`` tasks and ``memory_bytes``, or None when we cannot make one."""
        name = f"{TEMP_PREFIX}{uuid.uuid4().hex[:12]}"
        bases = cls._v1_bases()
        for base in bases.values():
            cls._sweep(base)
        if "pids" in bases:
            folders = {}
            try:
                for controller, base in bases.items():
                    folders[controller] = base / name
                    folders[controller].mkdir()
                (folders["pids"] / "pids.max").write_text(str(processes))
                if "memory" in folders:
                    (folders["memory"] / "memory.limit_in_bytes").write_text(str(memory_bytes))
                return cls("v1", folders)
            except OSError:
                cls("v1", folders).remove()
        base = cls._v2_base()
        if base is not None:
            folder = base / name
            try:
                folder.mkdir()
                (folder / "pids.max").write_text(str(processes))
                if (folder / "memory.max").is_file():
                    (folder / "memory.max").write_text(str(memory_bytes))
                return cls("v2", {"unified": folder})
            except OSError:
                cls("v2", {"unified": folder}).remove()
        return None

    @classmethod
    def available(cls):
        group = cls.create(64, 1 << 30)
        if group is None:
            return None
        group.remove()
        return group.version

    def procs_files(self):
        return [str(folder / "cgroup.procs") for folder in self.folders.values()]

    def pids(self):
        found = set()
        for folder in self.folders.values():
            try:
                found.update(int(pid) for pid in (folder / "cgroup.procs").read_text().split())
            except OSError:
                pass
        return found

    def kill(self, deadline_seconds=10.0):
        """SIGKILL every process in the group (frozen first, so none can fork meanwhile)."""
        if self.version == "v2" and (self.folders["unified"] / "cgroup.kill").is_file():
            _write(self.folders["unified"] / "cgroup.kill", "1")
        freezer = self.folders.get("freezer")
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            pids = self.pids()
            if not pids:
                return True
            if freezer is not None:
                _write(freezer / "freezer.state", "FROZEN")
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            if freezer is not None:
                _write(freezer / "freezer.state", "THAWED")
            time.sleep(0.01)
        return not self.pids()

    def remove(self):
        for folder in self.folders.values():
            for _ in range(100):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # a killed process may take a moment to leave
                    time.sleep(0.01)


def _write(path, text):
    try:
        Path(path).write_text(text)
    except OSError:
        pass
