"""Progress bars for long loops (tqdm), silenced by ``--quiet``."""
import os
import sys
import warnings


def progress(iterable=None, *, desc=None, total=None, quiet=False, unit="it"):
    """A tqdm bar on stderr, or the bare iterable when ``quiet``."""
    from tqdm.auto import tqdm  # imported on first use: `paddle-course --help` does not wait for it

    return tqdm(iterable, desc=desc, total=total, disable=quiet, unit=unit, file=sys.stderr,
                dynamic_ncols=True, leave=False)


def say(message, quiet=False):
    """Print a line of progress to stdout unless ``quiet``."""
    if not quiet:
        print(message, flush=True)


def quiet_library_noise():
    """Keep the learner's terminal for the course's own output.

    Paddle's C++ side logs every executor start at INFO level, and a few imported
    packages warn about things a learner cannot act on (no ccache for custom ops,
    setuptools replacing distutils, a PIR tensor without a ``place``).
    """
    os.environ.setdefault("GLOG_minloglevel", "2")
    for message in ("No ccache found", "Setuptools is replacing distutils", "Tensor do not have 'place'",
                    "When training, we now always track global mean and variance"):
        warnings.filterwarnings("ignore", message=message)
