"""Data-parallel sentiment fine-tune: same global batches, dropout masks and final weights as one process;
only rank 0 writes."""
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

# Anything PaddleHub writes (config, logs) goes to a throw-away home, here and in the launched ranks.
os.environ.setdefault("HUB_HOME", tempfile.mkdtemp(prefix="hub_home_sentiment_dp_"))

from test_distributed import _descendants, _launch  # noqa: E402  (tests/ is on sys.path under pytest)

from paddle_course import sentiment  # noqa: E402
from paddle_course.common import parallel  # noqa: E402
from paddle_course.cli import main as cli_main  # noqa: E402
from paddle_course.common.paths import hub_module_dir  # noqa: E402

MODULE_DIR = hub_module_dir("course_sentiment")
# 250 texts with a global batch of 16: 15 full steps and a last one of 10 (5 per rank) every epoch
TRAIN_TEXTS, DEV_TEXTS, BATCH, EPOCHS, SEED = 250, 64, 16, 2, 3


@pytest.fixture(scope="module")
def tsvs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sentiment_dp_data")
    sentiment.write_tsv(folder / "train.tsv", sentiment.read_tsv(sentiment.split_path("train"))[:TRAIN_TEXTS])
    sentiment.write_tsv(folder / "dev.tsv", sentiment.read_tsv(sentiment.split_path("dev"))[:DEV_TEXTS])
    return folder / "train.tsv", folder / "dev.tsv"


def _state(checkpoint):
    from paddle_course.common.safe_weights import load_state

    return load_state(sentiment.resolve_checkpoint(checkpoint))


@pytest.mark.parametrize("num_samples,batch_size,world_size", [(TRAIN_TEXTS, BATCH, 2), (248, 16, 4), (40, 8, 2)])
def test_hub_trainer_sampler_pieces_put_together_are_the_one_process_batches(num_samples, batch_size, world_size):
    """hub.Trainer's sampler (shuffled by RandomState(epoch), no padding when the rows divide evenly) gives
    rank r the r-th piece of each global batch, in every epoch, the shorter last batch included."""
    import paddle

    rows = parallel._Rows(num_samples)
    local = parallel.per_process_batch_size(num_samples, batch_size, world_size)
    # the arguments hub.Trainer.train passes, with the launcher's rank and size spelled out
    one = paddle.io.DistributedBatchSampler(rows, batch_size, num_replicas=1, rank=0, shuffle=True)
    ranks = [paddle.io.DistributedBatchSampler(rows, local, num_replicas=world_size, rank=r, shuffle=True)
             for r in range(world_size)]
    for epoch in range(3):
        global_batches = list(one)
        pieces = [list(sampler) for sampler in ranks]
        assert all(len(p) == len(global_batches) for p in pieces)
        for step, batch in enumerate(global_batches):
            assert len({len(p[step]) for p in pieces}) == 1
            assert [i for p in pieces for i in p[step]] == batch
        if epoch:
            assert global_batches != previous  # a new order every epoch
        previous = global_batches


def test_uneven_splits_are_refused_before_anything_is_written(tsvs, tmp_path, monkeypatch, capsys):
    with pytest.raises(ValueError, match="global batch size 15 must be divisible by the number of processes 2"):
        parallel.per_process_batch_size(250, 15, 2)
    with pytest.raises(ValueError, match="251 training texts in x.tsv cannot be split evenly over 2 processes"):
        parallel.per_process_batch_size(251, 16, 2, rows="training texts in x.tsv")
    # as rank 0 of 2 (no collective is reached before the check)
    monkeypatch.setattr(parallel, "init_data_parallel", lambda: (0, 2))
    train, _ = tsvs
    out = tmp_path / "out"
    assert cli_main(["finetune", "sentiment", "--distributed", "--train", str(train), "--batch-size", "15",
                     "--out", str(out), "--quiet"]) == 2
    assert "global batch size 15 must be divisible by the number of processes 2" in capsys.readouterr().err
    assert not out.exists()


def test_launched_without_distributed_is_a_clear_error(tsvs, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PADDLE_TRAINERS_NUM", "2")  # what paddle.distributed.launch sets in every rank
    train, _ = tsvs
    out = tmp_path / "out"
    assert cli_main(["finetune", "sentiment", "--train", str(train), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "one of 2 started by paddle.distributed.launch" in err and "add --distributed" in err
    assert not out.exists()


def test_dropout_replay_gives_every_rank_its_piece_of_the_one_process_mask():
    import paddle

    x = paddle.to_tensor(np.random.default_rng(0).standard_normal((8, 12)).astype("float32"))
    world_size, steps = 4, 3

    def run(rank):
        paddle.seed(11)
        net = paddle.nn.Sequential(paddle.nn.Linear(12, 12), paddle.nn.Dropout(0.5), paddle.nn.Dropout(0.3))
        if rank is not None:
            parallel.replay_random_draws_of_other_ranks(net, rank, world_size)
            rows = x[2 * rank:2 * rank + 2]  # the rank's piece of the global batch
        else:
            rows = x
        outs = [net(rows).numpy() for _ in range(steps)]
        net.eval()
        outs.append(net(rows).numpy())  # eval mode: no draws, no replay
        return outs, paddle.rand([3]).numpy()  # where each generator ended

    one, one_next = run(None)
    pieces = [run(rank) for rank in range(world_size)]
    for step in range(steps + 1):
        np.testing.assert_array_equal(np.concatenate([p[0][step] for p in pieces]), one[step])
    for _, rank_next in pieces:
        np.testing.assert_array_equal(rank_next, one_next)


def test_distributed_without_launcher_trains_in_one_process_like_the_plain_run(tsvs, tmp_path, capsys):
    train, _ = tsvs
    small = tmp_path / "small.tsv"
    sentiment.write_tsv(small, sentiment.read_tsv(train)[:40])
    args = ["finetune", "sentiment", "--train", str(small), "--epochs", "1", "--batch-size", "8", "--seed", "5"]
    assert cli_main(args + ["--out", str(tmp_path / "plain"), "--quiet"]) == 0
    assert cli_main(args + ["--out", str(tmp_path / "dp"), "--distributed", "--log-interval", "100"]) == 0
    out = capsys.readouterr().out
    assert "data-parallel on 1 process: 8 texts per process and step" in out
    assert "not started by `python -m paddle.distributed.launch" in out
    run = json.loads((tmp_path / "dp" / "distributed.json").read_text())
    assert run["world_size"] == 1 and run["batch_size_per_process"] == 8 and len(run["epoch_losses"]) == 1
    assert not (tmp_path / "plain" / "distributed.json").exists()
    plain, dp = _state(tmp_path / "plain"), _state(tmp_path / "dp")
    for key in plain:
        np.testing.assert_array_equal(dp[key], plain[key])


@pytest.mark.slow
def test_two_processes_end_with_the_one_process_weights_and_only_rank_0_writes(tsvs, tmp_path):
    """``launch --nproc_per_node 2``: global batch 16 = 8 per rank, dropout on, 2 epochs of Adam from the
    shipped weights; every checkpoint equals the plain one-process fine-tune's to 1e-5."""
    # processes an earlier test left (e.g. the app's forkserver) are not this launch's
    already_running = set(_descendants(os.getpid()))
    import paddlehub as hub

    from paddle_course.sentiment.finetune import finetune

    train, dev = tsvs
    reference = finetune(train, dev, out_dir=tmp_path / "one", epochs=EPOCHS, batch_size=BATCH, seed=SEED, quiet=True)

    course_cli = shutil.which("paddle-course", path=str(Path(sys.executable).parent)) or "paddle-course"
    start = time.perf_counter()
    # "--" ends the launcher's options: without it, argparse takes --train for an abbreviation of --trainers
    code, output = _launch(["--host", "127.0.0.1", "--nproc_per_node", "2", "--max_restart", "0",
                            "--log_dir", str(tmp_path / "log"), "--",
                            course_cli, "finetune", "sentiment", "--distributed", "--train", str(train),
                            "--dev", str(dev), "--epochs", str(EPOCHS), "--batch-size", str(BATCH),
                            "--seed", str(SEED), "--log-interval", "5", "--out", str(tmp_path / "two")],
                           cwd=tmp_path)
    logs = {rank: (tmp_path / "log" / f"workerlog.{rank}").read_text(errors="replace") for rank in (0, 1)}
    assert code == 0, f"launcher failed after {time.perf_counter() - start:.0f} s:\n{output[-3000:]}\n" \
                      f"rank 1 log:\n{logs[1][-3000:]}"
    endpoints = (tmp_path / "log" / "envlog.0").read_text()
    assert "PADDLE_TRAINER_ENDPOINTS=127.0.0.1:" in endpoints and ",127.0.0.1:" in endpoints

    for checkpoint in ("epoch_1", "epoch_2", "best_model"):
        one, two = _state(tmp_path / "one" / checkpoint), _state(tmp_path / "two" / checkpoint)
        assert one.keys() == two.keys()
        for key in one:
            np.testing.assert_allclose(two[key], one[key], rtol=0, atol=1e-5, err_msg=f"{checkpoint}/{key}")
    start_weights = _state(MODULE_DIR / "assets")
    assert np.abs(_state(tmp_path / "two" / "epoch_2")["fc.weight"] - start_weights["fc.weight"]).max() > 1e-3

    run = json.loads((tmp_path / "two" / "distributed.json").read_text())
    assert run["world_size"] == 2 and run["backend"] == "gloo" and run["batch_size_per_process"] == BATCH // 2
    assert run["best_dev_accuracy"] == pytest.approx(reference["best_dev_accuracy"], abs=1e-6)
    assert len(run["epoch_seconds"]) == len(run["epoch_losses"]) == EPOCHS and 0 < run["final_loss"] < 1

    # rank 0 wrote and reported; rank 1 trained the same steps silently and wrote nothing anywhere
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == \
        sorted([p.name for p in (tmp_path / "one").iterdir()] + ["distributed.json"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log", "one", "two"]
    assert "Saving best model" in logs[0] and "Epoch=2/2" in logs[0] and "fine-tune done" in logs[0]
    for quiet_rank_never_says in ("Saving", "Epoch=", "fine-tune", "data-parallel", "Evaluation"):
        assert quiet_rank_never_says not in logs[1]

    tuned = hub.Module(directory=str(MODULE_DIR), checkpoint=str(tmp_path / "two"))
    np.testing.assert_array_equal(tuned.network.state_dict()["fc.weight"].numpy(),
                                  _state(tmp_path / "two" / "best_model")["fc.weight"])
    assert sentiment.evaluate(tuned, dev) == pytest.approx(run["best_dev_accuracy"], abs=1e-6)
    assert not set(_descendants(os.getpid())) - already_running, "launcher or workers still running"
