"""Data-parallel training: same global batches, same parameters as one process; only rank 0 writes."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from paddle_course.boston import distributed, lesson
from paddle_course.common import parallel
from paddle_course.boston.data import load_data, minibatch_indices

LAUNCH_TIMEOUT = 240  # seconds; two ranks of 30 short epochs take ~15 s on an idle 2-core machine


@pytest.mark.parametrize("world_size,batch_size", [(2, 10), (2, 4), (4, 8)])
def test_sampler_splits_every_global_batch_into_equal_consecutive_pieces(world_size, batch_size):
    num_samples = 404  # the Boston training rows
    per_rank = [list(parallel.local_batch_sampler(num_samples, batch_size, world_size, rank))
                for rank in range(world_size)]
    global_batches = minibatch_indices(num_samples, batch_size, shuffle=False)
    assert all(len(batches) == len(global_batches) for batches in per_rank)
    for step, global_batch in enumerate(global_batches):
        pieces = [per_rank[rank][step] for rank in range(world_size)]
        assert len({len(piece) for piece in pieces}) == 1  # equal sizes: averaging the means is the global mean
        np.testing.assert_array_equal(np.concatenate(pieces), global_batch)


def test_sampler_refuses_uneven_splits():
    with pytest.raises(ValueError, match="global batch size 10 must be divisible by the number of processes 4"):
        parallel.local_batch_sampler(404, 10, 4, 0)
    with pytest.raises(ValueError, match="405 training rows cannot be split evenly over 2 processes"):
        parallel.local_batch_sampler(405, 10, 2, 0)


def test_one_process_data_parallel_loop_equals_train_dygraph():
    from paddle_course.boston import paddle_net
    from paddle_course.boston.numpy_net import Network

    training_data, _ = load_data()
    net = Network(13, seed=1)
    plain, parallel = (paddle_net.Regressor(13, dtype="float64") for _ in range(2))
    for model in (plain, parallel):
        paddle_net.set_parameters(model, net.w, net.b)
    expected_losses = paddle_net.train_dygraph(plain, training_data, 5, 10, 0.05, seed=1)
    losses, epoch_seconds = distributed.train_dygraph_distributed(parallel, training_data, 5, 10, 0.05, seed=1)
    assert len(epoch_seconds) == 5
    np.testing.assert_allclose(losses, expected_losses, rtol=0, atol=1e-12)
    for got, want in zip(paddle_net.get_parameters(parallel), paddle_net.get_parameters(plain)):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_ranks_other_than_zero_write_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "init_data_parallel", lambda: (1, 2))
    monkeypatch.setattr(distributed, "train_dygraph_distributed",
                        lambda model, data, epochs, *args, **kwargs: ([0.5] * epochs, [0.01] * epochs))
    result = lesson.train_and_save(tmp_path / "out", "dygraph", epochs=3, quiet=True, distributed=True).result
    assert result.losses == [0.5] * 3
    assert not (tmp_path / "out").exists()


def _descendants(pid):
    """Process ids below ``pid`` (the launcher puts its workers in their own sessions)."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _launch(args, cwd, timeout=LAUNCH_TIMEOUT):
    """Run ``python -m paddle.distributed.launch ...``; on timeout kill the launcher and all its workers."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    proc = subprocess.Popen([sys.executable, "-m", "paddle.distributed.launch", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        for pid in _descendants(proc.pid) + [proc.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        output, _ = proc.communicate()
        pytest.fail(f"paddle.distributed.launch did not finish in {timeout} s:\n{output[-3000:]}")
    return proc.returncode, output


@pytest.mark.slow
def test_two_processes_end_with_the_one_process_parameters(tmp_path):
    """``launch --nproc_per_node 2``: every rank gets half of each global batch of 10; after 30 epochs
    (1230 updates) the weights equal those of the ordinary one-process dygraph run."""
    # processes an earlier test left (e.g. the app's forkserver) are not this launch's
    already_running = set(_descendants(os.getpid()))
    course_cli = shutil.which("paddle-course", path=str(Path(sys.executable).parent)) or "paddle-course"
    epochs, seed = 30, 3
    start = time.perf_counter()
    # --host 127.0.0.1: the ranks rendezvous on loopback only, on free ports the launcher picks
    code, output = _launch(["--host", "127.0.0.1", "--nproc_per_node", "2", "--max_restart", "0",
                            "--log_dir", str(tmp_path / "log"),
                            course_cli, "boston", "train", "--impl", "dygraph", "--distributed",
                            "--dtype", "float64", "--epochs", str(epochs), "--seed", str(seed),
                            "--out", str(tmp_path / "out"), "--no-export"], cwd=tmp_path)
    logs = {rank: (tmp_path / "log" / f"workerlog.{rank}").read_text(errors="replace") for rank in (0, 1)}
    assert code == 0, f"launcher failed after {time.perf_counter() - start:.0f} s:\n{output[-3000:]}\n" \
                      f"rank 1 log:\n{logs[1][-3000:]}"

    endpoints = (tmp_path / "log" / "envlog.0").read_text()
    assert "PADDLE_TRAINER_ENDPOINTS=127.0.0.1:" in endpoints and ",127.0.0.1:" in endpoints
    run = distributed.read_run(tmp_path / "out")
    assert run["world_size"] == 2 and run["backend"] == "gloo" and run["rows_per_process_per_step"] == 5
    saved = np.load(tmp_path / "out" / "params.npz")
    reference = lesson.train("dygraph", epochs=epochs, batch_size=10, seed=seed, dtype="float64")
    np.testing.assert_allclose(saved["w"], reference.w, rtol=0, atol=1e-5)
    np.testing.assert_allclose(saved["b"], reference.b, rtol=0, atol=1e-5)
    np.testing.assert_allclose(run["final_loss"], reference.losses[-1], rtol=1e-6)
    assert reference.train_mse < 0.5 * reference.losses[0]  # training really moved the weights

    # rank 0 wrote and reported; rank 1 trained the same steps silently
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == \
        ["distributed.json", "loss.png", "metrics.json", "params.npz", "stats.json"]
    assert "saved to" in logs[0] and "saved to" not in logs[1]
    assert "data-parallel" not in logs[1]
    assert not set(_descendants(os.getpid())) - already_running, "launcher or workers still running"


def test_cli_distributed_needs_the_dygraph_implementation(tmp_path, capsys):
    from paddle_course.cli import main

    assert main(["boston", "train", "--impl", "numpy", "--distributed", "--out", str(tmp_path / "out")]) == 2
    assert "use --impl dygraph" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cli_distributed_without_launcher_trains_in_one_process(tmp_path):
    from paddle_course.cli import main

    out = tmp_path / "out"
    assert main(["boston", "train", "--impl", "dygraph", "--distributed", "--epochs", "3", "--quiet",
                 "--no-export", "--out", str(out)]) == 0
    run = distributed.read_run(out)
    assert run["world_size"] == 1 and run["epochs"] == 3 and run["seconds_per_epoch"] > 0
    assert (out / "params.npz").is_file() and (out / "loss.png").is_file()


HUB_TRAINING_SCRIPT = '''
import os, sys
import numpy as np
import paddle

paddle.set_default_dtype("float64")
import paddlehub as hub

from paddle_course.common.trainer import hub_data_parallel_trainer


class Rows(paddle.io.Dataset):
    def __init__(self):
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((64, 5))
        self.y = self.x @ rng.standard_normal((5, 1)) + 0.1

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


class Model(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.fc = paddle.nn.Linear(5, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return {"loss": paddle.mean((self.fc(x) - y) ** 2)}


out, batch_size = sys.argv[1], int(sys.argv[2])
rank = int(os.environ.get("PADDLE_TRAINER_ID", "0"))
for kind, trainer_class in (("plain", hub.Trainer), ("fixed", hub_data_parallel_trainer())):
    paddle.seed(0)
    model = Model()
    opt = paddle.optimizer.Adam(learning_rate=0.05, parameters=model.parameters())
    os.makedirs(f"{out}/{kind}", exist_ok=True)
    trainer = trainer_class(model, opt, checkpoint_dir=f"{out}/{kind}", use_vdl=False)
    trainer.train(Rows(), epochs=3, batch_size=batch_size, save_interval=100, log_interval=1000)
    np.save(f"{out}/{kind}/w_rank{rank}.npy", model.fc.weight.numpy())
'''


@pytest.mark.slow
def test_hub_trainer_needs_gradient_averaging_to_match_one_process(tmp_path):
    """hub.Trainer on 2 ranks bypasses DataParallel (ranks drift apart); the fixed trainer with batch 4 per
    rank ends with the weights of one process with batch 8."""
    pytest.importorskip("paddlehub")
    script = tmp_path / "hub_training.py"
    script.write_text(HUB_TRAINING_SCRIPT)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    one = subprocess.run([sys.executable, str(script), str(tmp_path / "one"), "8"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=LAUNCH_TIMEOUT)
    assert one.returncode == 0, one.stderr[-3000:]
    code, output = _launch(["--host", "127.0.0.1", "--nproc_per_node", "2", "--max_restart", "0",
                            "--log_dir", str(tmp_path / "log"), str(script), str(tmp_path / "two"), "4"],
                           cwd=tmp_path)
    assert code == 0, output[-3000:]
    reference = np.load(tmp_path / "one" / "fixed" / "w_rank0.npy")
    plain = [np.load(tmp_path / "two" / "plain" / f"w_rank{rank}.npy") for rank in (0, 1)]
    fixed = [np.load(tmp_path / "two" / "fixed" / f"w_rank{rank}.npy") for rank in (0, 1)]
    assert np.abs(plain[0] - plain[1]).max() > 1e-2  # hub.Trainer alone: each rank learned from its half only
    np.testing.assert_allclose(fixed[0], fixed[1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(fixed[0], reference, rtol=0, atol=1e-5)


def test_average_gradients_leaves_a_single_process_alone():
    import paddle

    layer = paddle.nn.Linear(3, 1)
    paddle.mean(layer(paddle.ones([2, 3]))).backward()
    before = layer.weight.grad.numpy().copy()
    parallel.average_gradients(layer.parameters())
    np.testing.assert_array_equal(layer.weight.grad.numpy(), before)
