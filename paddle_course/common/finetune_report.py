"""What every fine-tune of the course reports: before and after, on data it did not train on (course 3.3).

A fine-tune is only worth keeping if it helps where it was not trained, and does not cost the
model what it already knew.  So every package's ``finetune``

* measures on a **dev** set the fine-tune never trains on: the one given, else a seeded random
  share of the training file, held out and named as such (:func:`hold_out`);
* measures the model's **base task** (what the shipped weights were made for) before and after,
  so that forgetting shows;
* keeps the best epoch on dev, the starting weights counting as epoch 0
  (``common.trainer.atomic_trainer``), and reports the very number the trainer logged for it.

:class:`FinetuneReport` holds that, prints it (:meth:`FinetuneReport.lines`, also under
``--quiet``: quiet means no progress, not no result) and is saved as ``finetune_report.json``
in the checkpoint folder.  Plain Python: no Paddle here.
"""
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

from paddle_course.common.fileio import write_json

DEV_FRACTION = 0.2  # the share of a training file held out for dev when no dev file is given
REPORT_FILE = "finetune_report.json"
FORGETTING = 0.02  # a base-task drop larger than this is called out


def hold_out(items, fraction=DEV_FRACTION, seed=0):
    """``(train, dev)``: a seeded random ``fraction`` of ``items`` held out (at least one, never all).

    Both keep the items' order.  The same ``seed`` holds out the same items.
    """
    items = list(items)
    if len(items) < 2:
        raise ValueError(f"cannot hold out a dev set from {len(items)} example(s): give a dev file, or more data")
    count = min(len(items) - 1, max(1, round(len(items) * fraction)))
    held = set(random.Random(seed).sample(range(len(items)), count))
    return ([item for i, item in enumerate(items) if i not in held],
            [item for i, item in enumerate(items) if i in held])


def held_out_note(count, total, source, seed):
    """How a dev set made by :func:`hold_out` came about, in one line for the learner."""
    return (f"no dev set given: {count} of the {total} examples of {source} were held out at random "
            f"(seed {seed}) and never trained on")


@dataclass
class Measure:
    """One metric on one data set, before and after the fine-tune."""

    task: str     # "your task" or "base task"
    data: str     # what was measured on, e.g. "60 dev lines held out of lines/labels.txt"
    metric: str   # e.g. "line accuracy"
    before: float
    after: float

    @property
    def change(self):
        return self.after - self.before


@dataclass
class FinetuneReport:
    """The result of a fine-tune, as the learner reads it."""

    model: str
    start: str
    dev: str
    epochs: int
    best_epoch: int
    checkpoint: str
    load_hint: str
    seconds: float
    measures: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def measure(self, task, data, metric, before, after):
        self.measures.append(Measure(task, data, metric, float(before), float(after)))
        return self

    @property
    def dev_measure(self):
        return self.measures[0]

    def kept_line(self):
        dev = self.dev_measure
        if self.best_epoch == 0:
            return (f"kept the starting weights (epoch 0): no epoch of {self.epochs} did better on dev "
                    f"({dev.metric} {dev.before:.4f}); the checkpoint holds the start")
        if self.best_epoch is None:
            return f"kept best_model/ of a resumed run ({dev.metric} {dev.after:.4f} on dev)"
        return (f"kept epoch {self.best_epoch} of {self.epochs}, the best on dev ({dev.metric} {dev.after:.4f}, "
                f"the number the trainer logged)")

    def lines(self):
        """The report as lines of text (the CLI prints them, ``--quiet`` or not)."""
        out = [f"fine-tune of {self.model}: {self.epochs} epochs from {self.start} in {self.seconds:.1f} s",
               f"  dev: {self.dev}", *(f"  {note}" for note in self.notes), f"  {self.kept_line()}",
               f"  {'':<12}{'measured on':<56}{'metric':<22}{'before':>8}{'after':>10}"]
        for m in self.measures:
            out.append(f"  {m.task:<12}{m.data:<56}{m.metric:<22}{m.before:>8.4f} ->{m.after:>7.4f}  "
                       f"({m.change:+.4f})")
        for m in self.measures[1:]:
            if m.change < -FORGETTING:
                out.append(f"  warning: the {m.task} lost {-m.change:.4f} {m.metric}: the fine-tune is forgetting "
                           f"what the model knew (fewer epochs, a lower --lr, or more of the base's data help)")
        out.append(f"  checkpoint: {self.checkpoint}  ({self.load_hint})")
        return out

    def to_dict(self):
        return {**asdict(self), "kept": self.kept_line()}

    def save(self, folder):
        """Write ``finetune_report.json`` into ``folder`` (atomically); returns its path."""
        return write_json(Path(folder) / REPORT_FILE, self.to_dict())
