"""The Boston tab (course 1.3-1.5, 2): pick an implementation, train, watch the loss fall.

The training itself is :func:`paddle_course.boston.lesson.train`, run in a process of its own
(:mod:`paddle_course.app.training`); this module turns what it streams into the page: the loss
curve redrawn while it trains, then the table against the least-squares optimum
(``lesson.comparison_table``) and the test houses' predicted against true prices.
Every run keeps its state in the handler's own variables, so two pages never mix.
"""
import time
from types import MappingProxyType

from paddle_course.app.training import TrainingSettings, stream_training
from paddle_course.boston.optim import PADDLE_TWINS
from paddle_course.common.webui import done, page_figure, problem

#: what the page calls each choice -> (lesson implementation, full batch?)
CHOICES = MappingProxyType({
    "NumPy, gradient descent (full batch)": ("numpy", True),
    "NumPy, mini-batch SGD": ("numpy", False),
    "Paddle, dynamic graph": ("dygraph", False),
    "Paddle, static graph": ("static", False),
})
DEFAULT_CHOICE = "NumPy, mini-batch SGD"
MAX_EPOCHS = MappingProxyType({True: 5000, False: 1000})  # the page's limit; the CLI has none
REDRAW_EVERY = 0.3  # seconds between two drawings of the curve
TRAINING_ROWS = 404  # 80% of the 506 houses


def defaults(choice):
    """The lesson's learning rate and epochs for a choice, and whether it takes a batch size."""
    from paddle_course.boston.numpy_net import Network

    full_batch = CHOICES[choice][1]
    batch = None if full_batch else 10
    return Network.default_eta(batch), Network.default_epochs(batch), not full_batch


def settings_from_page(choice, learning_rate, batch_size, epochs, seed, optimizer):
    """The page's fields as :class:`TrainingSettings`, or ValueError with a sentence for the page."""
    if choice not in CHOICES:
        raise ValueError(f"choose an implementation ({', '.join(CHOICES)})")
    impl, full_batch = CHOICES[choice]
    for name, value in (("learning rate", learning_rate), ("epochs", epochs), ("seed", seed)):
        if value is None:
            raise ValueError(f"the {name} is empty")
    if not learning_rate > 0:
        raise ValueError(f"the learning rate must be a positive number, got {learning_rate}")
    epochs, seed = int(epochs), int(seed)
    if not 1 <= epochs <= MAX_EPOCHS[full_batch]:
        raise ValueError(f"epochs must be between 1 and {MAX_EPOCHS[full_batch]} here "
                         "(`paddle-course boston train --epochs N` has no limit)")
    if full_batch:
        batch = None
    elif batch_size is None or not 1 <= int(batch_size) <= TRAINING_ROWS:
        raise ValueError(f"the batch size must be between 1 and {TRAINING_ROWS} (the training houses)")
    else:
        batch = int(batch_size)
    if optimizer not in PADDLE_TWINS:
        raise ValueError(f"choose an optimizer ({', '.join(PADDLE_TWINS)})")
    return TrainingSettings(impl, batch, epochs, float(learning_rate), seed, optimizer)


def train_on_page(choice, learning_rate, batch_size, epochs, seed, optimizer):
    """The Train button: yields ``(curve, status, table, predictions)`` as the training goes on."""
    from paddle_course.boston import lesson
    from paddle_course.boston.data import load_dataset

    try:
        settings = settings_from_page(choice, learning_rate, batch_size, epochs, seed, optimizer)
    except ValueError as exc:
        yield None, problem(str(exc)), "", None
        return
    dataset = load_dataset()
    optimum = lesson.closed_form(dataset)
    label = _label(settings)
    yield None, f"Training {label}: starting…", "", None
    losses, next_draw, started, step = [], 0.0, time.perf_counter(), None
    for kind, payload in stream_training(settings):
        if kind == "steps":
            losses.extend(loss for _, _, loss in payload)
            step = payload[-1] if payload else step
            if step and time.perf_counter() >= next_draw:
                drawing = time.perf_counter()
                yield (_curve(label, losses, settings, optimum), _progress(label, settings, step, started),
                       "", None)
                # drawing and sending the figure (Gradio encodes it between our yields) costs CPU the
                # training needs: at most a quarter of the time goes to it, however busy the machine
                next_draw = time.perf_counter() + max(REDRAW_EVERY, 3 * (time.perf_counter() - drawing))
        elif kind == "done":
            yield _finish(label, payload, dataset, optimum, settings)
        else:  # "error": the lesson's own message (diverged, bad value); "crashed": the process died
            yield _curve(label, losses, settings, optimum) if losses else None, problem(payload), "", None


def _label(settings):
    from paddle_course.boston.lesson import run_label

    return f"{run_label(settings.impl, settings.batch_size, settings.optimizer)}, lr {settings.learning_rate:g}"


def _progress(label, settings, step, started):
    epoch, _, loss = step
    return (f"Training {label}: epoch {epoch + 1} of {settings.epochs} "
            f"({100 * (epoch + 1) / settings.epochs:.0f}%), loss {loss:.5f}, {time.perf_counter() - started:.1f} s")


def _curve(label, losses, settings, optimum):
    from paddle_course.boston.figures import plot_loss_curves

    return page_figure(plot_loss_curves, {label: losses}, None, title=f"{label}: training loss",
                       xlabel="epoch" if settings.batch_size is None else "iteration (mini-batch)",
                       optimum=optimum.train_mse)


def _finish(label, result, dataset, optimum, settings):
    """The last update: the full curve, the summary, the table and the predictions."""
    from paddle_course.boston import lesson
    from paddle_course.boston.figures import plot_predictions

    predicted, true = lesson.test_prices(result.w, result.b, dataset)
    mae = float(abs(predicted - true).mean())
    figure = page_figure(plot_predictions, true, predicted, None, title="test houses: predicted vs true price")
    status = done(f"{label}: {result.epochs} epochs in {result.seconds:.2f} s; train MSE {result.train_mse:.5f} = "
                  f"{result.train_mse / optimum.train_mse:.4f} x the least-squares optimum, test MSE "
                  f"{result.test_mse:.5f}; test houses off by {mae:.2f} thousand dollars on average")
    return (_curve(label, result.losses, settings, optimum), status,
            lesson.comparison_table(_with_numpy_twin(result, dataset, settings) + [optimum]), figure)


def _with_numpy_twin(result, dataset, settings):
    """A Paddle run with, before it, the NumPy network trained the same way: the table's last column then
    shows how far Paddle's weights are from NumPy's (course 1.5: the same model, the same numbers)."""
    from paddle_course.boston import lesson
    from paddle_course.boston.numpy_net import TrainingDiverged

    if result.impl == "numpy":
        return [result]
    try:
        twin = lesson.train("numpy", dataset, settings.epochs, settings.batch_size, settings.learning_rate,
                            settings.seed, optimizer=settings.optimizer)
    except TrainingDiverged:
        return [result]
    return [twin, result]


def boston_tab(gr):
    """The tab's components and events, inside the caller's ``gr.Blocks``."""
    learning_rate, epochs, takes_batch = defaults(DEFAULT_CHOICE)
    gr.Markdown("### Boston house prices (course 1.3-1.5, 2)\nThe same linear model four ways. Every run starts "
                "from the same weights (the seed) and, with mini-batches, draws the same batches, so NumPy and "
                "Paddle give the same numbers. Try a learning rate of 5 to see what divergence looks like.")
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            choice = gr.Radio(list(CHOICES), value=DEFAULT_CHOICE, label="Implementation", elem_id="boston-impl")
            with gr.Row():
                lr = gr.Number(value=learning_rate, label="Learning rate", min_width=80, elem_id="boston-lr")
                epoch_box = gr.Number(value=epochs, precision=0, label="Epochs", min_width=80,
                                      elem_id="boston-epochs")
                seed = gr.Number(value=0, precision=0, label="Seed", min_width=80, elem_id="boston-seed")
            batch = gr.Slider(1, TRAINING_ROWS, value=10, step=1, label="Batch size", interactive=takes_batch,
                              elem_id="boston-batch")
            optimizer = gr.Dropdown(list(PADDLE_TWINS), value="SGD", label="Optimizer (course 2)",
                                    elem_id="boston-optimizer")
            with gr.Row():
                train = gr.Button("Train", variant="primary", elem_id="boston-train")
                stop = gr.Button("Stop", variant="stop", elem_id="boston-stop")
        with gr.Column(scale=2):
            status = gr.Markdown("Press **Train**.", elem_id="boston-status")
            curve = gr.Plot(label="Training loss (log scale)", elem_id="boston-curve")
    table = gr.Markdown(elem_id="boston-table")
    predictions = gr.Plot(label="Predicted vs true price", elem_id="boston-predictions")

    def on_choice(name):
        eta, n_epochs, batched = defaults(name)
        return eta, n_epochs, gr.update(interactive=batched)

    choice.change(on_choice, choice, [lr, epoch_box, batch], api_name=False)
    run = train.click(train_on_page, [choice, lr, batch, epoch_box, seed, optimizer],
                      [curve, status, table, predictions], api_name="boston_train", concurrency_limit=4)
    stop.click(lambda: "Stopped.", None, status, cancels=[run], api_name=False)
