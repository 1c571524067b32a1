"""Seed every random step at once: Python's ``random``, NumPy's global generator and Paddle's."""
import random

import numpy as np


def seed_everything(seed):
    """Seed ``random``, ``numpy.random`` and (if it is imported or importable) ``paddle``.

    Weight initialisation and dropout draw from Paddle's generator, data
    augmentation and shuffles from NumPy's or Python's; the same seed then gives
    the same run.  hub.Trainer's own shuffling is seeded by the epoch number.
    """
    import paddle  # every caller trains a Paddle model: the import is already paid for

    random.seed(seed)
    np.random.seed(seed)
    paddle.seed(seed)
