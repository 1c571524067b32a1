"""The registry of the course's PaddleHub modules: names, folders, lessons, and one loader (course 3.1).

The course ships three PaddleHub modules in ``paddle_course/hub_modules/<name>/``, each a
thin ``module.py`` over its package's predict API:

=====================  ===========================  ==========================================
module                 package (its predict API)    lesson
=====================  ===========================  ==========================================
``course_sentiment``   ``paddle_course.sentiment``  3.2 Chinese sentiment
``course_pedestrian``  ``paddle_course.detection``  3.2 pedestrian detection
``course_ocr``         ``paddle_course.ocr``        3.2 OCR and the waybill (快递单) exercise
=====================  ===========================  ==========================================

:func:`load_module` is how the package itself loads a module (the tour, the CLI,
``paddle-course serve``).  It runs PaddleHub's own loading code
(``Module.init_with_directory``: import ``module.py``, find the ``@moduleinfo`` class,
instantiate it with the keyword arguments) but not ``hub.Module(...)``'s constructor,
because that also starts PaddleHub 2.4's usage-statistics thread
(``paddlehub.server.server.CacheUpdater``), which sends the module's name to
paddlepaddle.org.cn.  The course opens no outside connection
(``tests/test_offline.py`` checks it).  A learner's own ``hub.Module(name=...)`` call
still goes through PaddleHub, statistics included.
"""
import ast
import os
from dataclasses import dataclass
from pathlib import Path

from paddle_course.common.paths import hub_module_dir


@dataclass(frozen=True)
class CourseModule:
    """One shipped module: its PaddleHub name, the package whose predict API it wraps, its lesson."""

    name: str
    package: str
    lesson: str

    @property
    def directory(self):
        return hub_module_dir(self.name)


REGISTRY = {m.name: m for m in (
    CourseModule("course_sentiment", "paddle_course.sentiment", "3.2 Chinese sentiment"),
    CourseModule("course_pedestrian", "paddle_course.detection", "3.2 pedestrian detection"),
    CourseModule("course_ocr", "paddle_course.ocr", "3.2 OCR and the waybill exercise"),
)}
COURSE_MODULES = tuple(REGISTRY)


def module_home():
    """PaddleHub's module folder: ``$HUB_HOME/modules``, by default ``~/.paddlehub/modules``.

    The same rule as ``paddlehub.env.MODULE_HOME``, without importing PaddleHub (slow).
    """
    hub_home = os.environ.get("HUB_HOME") or os.path.join(os.path.expanduser("~"), ".paddlehub")
    return Path(hub_home) / "modules"


def shipped_dir(name):
    """The folder of the course module ``name`` inside the installed package."""
    if name not in REGISTRY:
        raise ValueError(f"unknown course module {name!r}; the course ships: {', '.join(COURSE_MODULES)}")
    directory = Path(hub_module_dir(name))
    if not (directory / "module.py").is_file():
        raise FileNotFoundError(f"course module {name} is missing from this installation ({directory}); "
                                "reinstall paddle_course")
    return directory


def find_module_dir(name_or_dir):
    """The folder of a module given by course name, installed name, or folder path.

    Order: a course module shipped in the package (always in step with the installed
    paddle_course); an existing folder containing ``module.py``; a module installed in
    PaddleHub's module folder (``hub install``, ``paddle-course hub install``).
    """
    if name_or_dir in REGISTRY:
        shipped = Path(hub_module_dir(name_or_dir))
        if (shipped / "module.py").is_file():
            return shipped
        installed = module_home() / name_or_dir
        if (installed / "module.py").is_file():
            return installed
        raise FileNotFoundError(f"course module {name_or_dir} is missing from this installation ({shipped}); "
                                "reinstall paddle_course")
    path = Path(name_or_dir)
    if (path / "module.py").is_file():
        return path.resolve()
    installed = module_home() / str(name_or_dir).replace("-", "_")
    if (installed / "module.py").is_file():
        return installed
    raise ValueError(
        f"unknown module {name_or_dir!r}: not a course module ({', '.join(COURSE_MODULES)}), "
        f"not a folder with a module.py, and not installed in {module_home()}"
    )


def load_module(name_or_dir, **kwargs):
    """The PaddleHub module ``name_or_dir`` (see :func:`find_module_dir`), instantiated with ``kwargs``.

    What ``hub.Module(directory=..., **kwargs)`` returns, without the usage-statistics
    thread (see the module docstring).
    """
    directory = find_module_dir(name_or_dir)
    from paddlehub.module.module import Module as HubModule

    return HubModule.init_with_directory(directory=str(directory), **kwargs)


def module_info(directory):
    """The ``@moduleinfo(...)`` keywords of ``<directory>/module.py`` (name, version, summary, type ...).

    Read from the source without importing it, as ``paddlehub``'s ``load_module_info`` does.
    Raises ValueError if the folder holds no PaddleHub module.
    """
    module_file = Path(directory) / "module.py"
    if not module_file.is_file():
        raise FileNotFoundError(f"{directory} has no module.py")
    tree = ast.parse(module_file.read_text(encoding="utf-8"), filename=str(module_file))
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "moduleinfo":
                return {kw.arg: kw.value.value for kw in decorator.keywords
                        if kw.arg != "meta" and isinstance(kw.value, ast.Constant)}
    raise ValueError(f"{module_file} has no class decorated with @moduleinfo")
