"""Boston benchmark: NumPy vs Paddle dynamic vs Paddle static vs closed form, measured in one run.

    python bench/boston.py            # full run (a few minutes on 2 cores)
    python bench/boston.py --quick    # a smaller width x batch sweep

Table 1 trains every implementation of the linear model on the same data from
the same start and prints wall time, time per epoch, train/test MSE and the
ratio to the least-squares optimum.  Table 2 sweeps batch size and model width
(two-layer ReLU network, NumPy vs Paddle dynamic, dynamic with a to_static model, and static, the static
step with and without fetching the loss) and prints time per epoch and the
ratios, to show where Paddle's per-step overhead stops dominating.
"""
import argparse
import os
import sys
import time

from paddle_course.common.progress import quiet_library_noise

quiet_library_noise()  # before Paddle is imported: GLOG reads its level at start-up

import numpy as np  # noqa: E402

from paddle_course.boston import lesson as boston  # noqa: E402
from paddle_course.boston.data import load_dataset, minibatch_indices  # noqa: E402
from paddle_course.boston.numpy_net import TwoLayerNetwork  # noqa: E402


def linear_table(dataset, epochs):
    rows = boston.compare(dataset, epochs=epochs, batch_size=10)
    optimum = rows[-1].train_mse
    # the target: 100 epochs of NumPy SGD with batch 10 (best of 3: the machine may be busy)
    timing = min((boston.train("numpy", dataset, 100, 10) for _ in range(3)), key=lambda r: r.seconds)
    return rows, optimum, timing


def seconds_per_epoch(run_epoch, repeats):
    """Best of ``repeats`` timed epochs, after one warm-up epoch (kernels, caches)."""
    run_epoch()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_epoch()
        times.append(time.perf_counter() - start)
    return min(times)


def sweep(dataset, batch_sizes, widths, epochs):
    import paddle
    import paddle.nn.functional as F

    from paddle_course.boston import paddle_net

    data = dataset.training_data
    x_all, y_all = data[:, :-1].astype("float32"), data[:, -1:].astype("float32")
    results = []
    for width in widths:
        for batch_size in batch_sizes:
            rng = np.random.default_rng(0)
            batches = minibatch_indices(len(data), batch_size, True, rng)

            net = TwoLayerNetwork(13, width, seed=0)

            def numpy_epoch():
                for rows in batches:
                    x, y = data[rows, :-1], data[rows, -1:]
                    net.update(net.backward(x, y, net.forward(x)), 0.01)

            features, prices = paddle.to_tensor(x_all), paddle.to_tensor(y_all)
            index_tensors = [paddle.to_tensor(rows) for rows in batches]

            def dygraph_epoch_of(model):
                opt = paddle.optimizer.SGD(0.01, parameters=model.parameters())

                def epoch():
                    for index in index_tensors:
                        loss = paddle.mean(F.square_error_cost(model(paddle.gather(features, index)),
                                                               paddle.gather(prices, index)))
                        loss.backward()
                        opt.step()
                        opt.clear_grad()
                return epoch

            t_numpy = seconds_per_epoch(numpy_epoch, epochs)
            t_dygraph = seconds_per_epoch(dygraph_epoch_of(paddle_net.TwoLayerRegressor(13, width)), epochs)
            # 动转静 training: forward and its backward run as one compiled program per step
            compiled = paddle.jit.to_static(paddle_net.TwoLayerRegressor(13, width), full_graph=True)
            t_to_static = seconds_per_epoch(dygraph_epoch_of(compiled), epochs)
            with paddle_net.static_mode():
                trainer = paddle_net.StaticTrainer(lambda: paddle_net.TwoLayerRegressor(13, width), 13, 0.01)
                feeds = [(x_all[rows], y_all[rows]) for rows in batches]

                def static_epoch(fetch):
                    for x, y in feeds:
                        trainer.step(x, y, fetch=fetch)

                t_static = seconds_per_epoch(lambda: static_epoch(True), epochs)
                t_static_nofetch = seconds_per_epoch(lambda: static_epoch(False), epochs)
            results.append((width, batch_size, t_numpy, t_dygraph, t_to_static, t_static, t_static_nofetch))
            print(f"  width {width:>5}, batch {batch_size:>3}: numpy {t_numpy * 1e3:8.2f} ms/epoch, "
                  f"dygraph {t_dygraph * 1e3:8.2f}, static {t_static * 1e3:8.2f}", file=sys.stderr)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smaller width x batch sweep")
    args = parser.parse_args(argv)
    dataset = load_dataset()
    epochs = 300  # the default SGD run, which reaches the optimum; --quick only shortens the sweep
    print(f"Boston benchmark, {os.cpu_count()} CPU cores, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}\n")

    rows, optimum, timing = linear_table(dataset, epochs)
    print(f"Table 1: linear model, {epochs} epochs of SGD (batch 10) from the same start; GD {rows[0].epochs} epochs")
    print(boston.comparison_table(rows))
    numpy_sgd = rows[1]
    print()
    print("| time per epoch relative to NumPy SGD | ratio |")
    print("|---|---:|")
    for r in rows[2:4]:
        print(f"| {r.label} | {r.seconds_per_epoch / numpy_sgd.seconds_per_epoch:.1f}x |")
    gd_ok = rows[0].train_mse <= 1.01 * optimum
    sgd_ok = numpy_sgd.train_mse <= 1.01 * optimum
    print(f"\ntarget NumPy <= 1.01 x optimum: GD {rows[0].train_mse / optimum:.4f} "
          f"{'PASS' if gd_ok else 'FAIL'}, SGD {numpy_sgd.train_mse / optimum:.4f} {'PASS' if sgd_ok else 'FAIL'}")
    print(f"target 100 epochs NumPy SGD (batch 10) < 0.2 s: {timing.seconds:.3f} s "
          f"{'PASS' if timing.seconds < 0.2 else 'FAIL'}")

    widths = [16, 256, 2048] if args.quick else [16, 256, 1024, 4096]
    batch_sizes = [10, 101] if args.quick else [10, 101, 404]
    sweep_epochs = 3 if args.quick else 5
    print(f"\nTable 2: two-layer ReLU network, ms per epoch (404 rows), best of {sweep_epochs} epochs after a warm-up")
    results = sweep(dataset, batch_sizes, widths, sweep_epochs)
    print("| hidden | batch | NumPy | Paddle dynamic | dynamic + to_static | Paddle static | static, no fetch | "
          "dynamic / NumPy | static / NumPy | dynamic / static |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for width, batch, t_np, t_dy, t_ts, t_st, t_nf in results:
        print(f"| {width} | {batch} | {t_np * 1e3:.2f} | {t_dy * 1e3:.2f} | {t_ts * 1e3:.2f} | {t_st * 1e3:.2f} | "
              f"{t_nf * 1e3:.2f} | {t_dy / t_np:.2f}x | {t_st / t_np:.2f}x | {t_dy / t_st:.2f}x |")
    faster = [(w, b) for w, b, t_np, t_dy, t_ts, t_st, _ in results if min(t_dy, t_ts, t_st) < t_np]
    if faster:
        print(f"\nPaddle is faster than NumPy at (hidden, batch): {faster}")
    else:
        print("\nPaddle did not overtake NumPy anywhere in this sweep.")
    return 0 if (gd_ok and sgd_ok) else 1


if __name__ == "__main__":
    sys.exit(main())
