"""Install the course's PaddleHub modules into PaddleHub's module folder, offline.

Course 3.1 (using PaddleHub modules): after ``paddle-course hub install``, the shipped modules work
everywhere PaddleHub looks for modules by name::

    import paddlehub as hub
    hub.Module(name="course_sentiment").sentiment_classify(texts=["这家店很好吃"])

    $ hub run course_sentiment --input_text "这家店很好吃"
    $ hub serving start -m course_sentiment -p 8866

PaddleHub keeps modules in ``$HUB_HOME/modules/<name>`` (``~/.paddlehub/modules`` by
default).  ``hub install <folder>`` would copy a folder there too, but it also runs
``pip install -r requirements.txt`` if the folder has one (network) and reinstalls every
time; here the copy is compared first and only replaced when it differs, atomically.
"""
import hashlib
import shutil
from pathlib import Path

from paddle_course.common.fileio import atomic_dir
from paddle_course.common.hub import COURSE_MODULES, module_home, module_info, shipped_dir
from paddle_course.common.paths import hub_module_dir

_SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


def tree_digest(directory):
    """A SHA-256 over the relative paths and contents of the module's files (caches excluded)."""
    directory = Path(directory)
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if not path.is_file() or any(part == "__pycache__" or part.startswith(".") for part in relative.parts):
            continue
        if path.suffix == ".pyc":
            continue
        digest.update(str(relative.as_posix()).encode("utf-8") + b"\0")
        with open(path, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def install_modules(names=None):
    """Copy the course modules ``names`` (default: all) into PaddleHub's module folder.

    Idempotent: a module whose installed files are identical is left alone; one that
    differs (an older course version, local edits) is replaced as a whole, atomically.
    Returns one dict per module: ``name``, ``version``, ``path``, ``action``
    ("installed", "updated" or "up to date").
    """
    names = list(names) if names else list(COURSE_MODULES)
    shipped = {name: shipped_dir(name) for name in names}  # all names checked before copying any
    home = module_home()
    home.mkdir(parents=True, exist_ok=True)
    report = []
    for name, source in shipped.items():
        info = module_info(source)
        target = home / info.get("name", name)
        if (target / "module.py").is_file():
            action = "up to date" if tree_digest(target) == tree_digest(source) else "updated"
        else:
            action = "installed"
        if action != "up to date":
            with atomic_dir(target) as staging:
                shutil.copytree(source, staging, ignore=_SKIPPED, dirs_exist_ok=True)
        report.append({"name": name, "version": info.get("version"), "path": str(target), "action": action})
    return report


def list_modules():
    """The course modules with their shipped and installed versions.

    Returns one dict per module: ``name``, ``version`` (shipped, None if missing),
    ``installed`` (version installed in PaddleHub's module folder, or None), ``status``
    ("installed", "not installed", "differs from the shipped copy", "not shipped"),
    ``summary``.
    """
    home = module_home()
    rows = []
    for name in COURSE_MODULES:
        source = Path(hub_module_dir(name))
        target = home / name
        shipped_info = module_info(source) if (source / "module.py").is_file() else None
        installed_info = module_info(target) if (target / "module.py").is_file() else None
        if shipped_info is None:
            status = "not shipped"
        elif installed_info is None:
            status = "not installed"
        elif tree_digest(source) == tree_digest(target):
            status = "installed"
        else:
            status = "differs from the shipped copy"
        rows.append({
            "name": name,
            "version": shipped_info.get("version") if shipped_info else None,
            "installed": installed_info.get("version") if installed_info else None,
            "status": status,
            "summary": (shipped_info or installed_info or {}).get("summary", ""),
        })
    return rows
