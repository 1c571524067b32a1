"""Write files atomically: a crash or an error never leaves half a file behind.

Everything the course saves (figures, tables, checkpoints, JSON) is first written
to a temporary name in the same folder and then moved over the target with
``os.replace``, which is atomic on POSIX and Windows.  What was saved before
stays intact until the new version is complete.
"""
import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _make_ordinary(path, mode):
    """mkstemp/mkdtemp create private (0600/0700) entries; give the result the usual permissions."""
    os.chmod(path, mode & ~_current_umask())


@contextlib.contextmanager
def atomic_path(target, suffix=""):
    """Yield a temporary path next to ``target``; on success it replaces ``target``.

    ``suffix`` keeps an extension on the temporary name for writers that look at
    it (matplotlib picks the format from ``.png``).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix, dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        _make_ordinary(tmp, 0o666)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(target, text):
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_json(target, obj):
    return write_text(target, json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def save_figure(fig, target, dpi=120):
    """Save a matplotlib figure atomically and close it."""
    import matplotlib.pyplot as plt

    with atomic_path(target) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return Path(target)


@contextlib.contextmanager
def atomic_dir(target):
    """Yield a fresh temporary folder; on success it replaces the folder ``target``.

    For writers that produce several files at once (``paddle.jit.save``,
    checkpoints): the old folder is kept until the new one is complete.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _make_ordinary(tmp, 0o777)
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old.{os.getpid()}")
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
