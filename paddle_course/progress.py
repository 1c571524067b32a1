"""Progress bars for long loops (tqdm), silenced by ``--quiet``."""
import sys

from tqdm.auto import tqdm


def progress(iterable=None, *, desc=None, total=None, quiet=False, unit="it"):
    """A tqdm bar on stderr, or the bare iterable when ``quiet``."""
    return tqdm(iterable, desc=desc, total=total, disable=quiet, unit=unit, file=sys.stderr,
                dynamic_ncols=True, leave=False)


def say(message, quiet=False):
    """Print a line of progress to stdout unless ``quiet``."""
    if not quiet:
        print(message, flush=True)
