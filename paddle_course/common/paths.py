"""Where the course's shipped files are, in a checkout and in an installed copy.

``data/`` and ``homework/`` sit at the top of the repository.  They are found, in order:

1. ``$PADDLE_COURSE_HOME/<name>`` if that variable is set;
2. next to the package (a git checkout, or ``pip install -e .``);
3. ``<sys.prefix>/share/paddle_course/<name>`` (a regular ``pip install .``,
   where setup.py installs them as data_files).
"""
import os
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # paddle_course/


def _candidates(name):
    home = os.environ.get("PADDLE_COURSE_HOME")
    if home:
        yield Path(home) / name
    yield PACKAGE_DIR.parent / name
    yield Path(sys.prefix) / "share" / "paddle_course" / name


def course_dir(name):
    """The folder ``name`` ("data" or "homework") of the course files."""
    tried = []
    for path in _candidates(name):
        if path.is_dir():
            return path
        tried.append(str(path))
    raise FileNotFoundError(
        f"cannot find the course's {name}/ folder; looked in: {', '.join(tried)}. "
        "Reinstall paddle_course or set PADDLE_COURSE_HOME to the repository root."
    )


def data_path(*parts):
    """A file shipped in data/, e.g. ``data_path("housing.data")``."""
    return course_dir("data").joinpath(*parts)


def homework_path(*parts):
    """A file shipped in homework/, e.g. ``homework_path("hw02_numpy_gradient")``."""
    return course_dir("homework").joinpath(*parts)


def hub_module_dir(name):
    """The PaddleHub module directory shipped inside the package."""
    return PACKAGE_DIR / "hub_modules" / name
