"""Shared test set-up: quiet, single-threaded numerics, and a headless matplotlib."""
import os

# Two cores are shared by the test processes; keep each one single-threaded.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import sys

import pytest


@pytest.fixture(autouse=True)
def paddle_stays_in_dynamic_mode():
    """Fail the test that leaves Paddle in static-graph mode (it breaks every later test that
    loads weights: ``paddle.load`` then returns DenseTensors whose ``shape`` is a method)."""
    yield
    paddle = sys.modules.get("paddle")
    if paddle is not None and not paddle.in_dynamic_mode():
        paddle.disable_static()
        pytest.fail("this test left Paddle in static-graph mode (call paddle.disable_static() or use "
                    "paddle_net.static_mode())")
