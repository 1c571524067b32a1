"""Cheap checks of what a learner typed, done before anything heavy is imported.

A missing file or a zero epoch count should be answered in a fraction of a second, not after
Paddle, OpenCV and a model have loaded (``paddle-course finetune sentiment --train typo.tsv``
used to take 10 s to say the file is missing).  Only ``pathlib`` here: the CLI calls these first,
and the library calls the same functions, so both give the same message.
"""
from pathlib import Path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def existing_file(path, what="file"):
    """``path`` as a Path if it is a file; else FileNotFoundError ``"<path>: no such <what>"``."""
    path = Path(path)
    if path.is_dir():
        raise FileNotFoundError(f"{path}: is a folder, expected a {what}")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such {what}")
    return path


def existing_dir(path, what="folder"):
    """``path`` as a Path if it is a folder; else FileNotFoundError ``"<path>: <what> not found"``."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: {what} not found" + (" (it is a file)" if path.is_file() else ""))
    return path


def image_files(paths):
    """Image files given on a command line, folders expanded to the images inside them (sorted by name).

    A missing file is a FileNotFoundError ``"<path>: image file not found"``; a folder without
    images, or no path at all, a ValueError.  Whether a file really is an image is found out
    when it is decoded (``common.images.read_image``).
    """
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not inside:
                raise ValueError(f"{path}: a folder with no image files ({', '.join(IMAGE_SUFFIXES)})")
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: image file not found")
    if not found:
        raise ValueError("no image files given")
    return [str(p) for p in found]


def positive_int(name, value):
    """``value`` if it is an integer >= 1; else a ValueError naming the option."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def non_negative_int(name, value):
    """``value`` if it is an integer >= 0; else a ValueError naming the option."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be 0 or a positive integer, got {value!r}")
    return value


def positive_number(name, value):
    """``value`` if it is a finite number > 0; else a ValueError naming the option."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return value
