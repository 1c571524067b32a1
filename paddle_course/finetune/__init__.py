"""Fine-tune wrappers on PaddleHub's Fine-tune API, one module per task."""
import functools
import os
import pickle

from paddle_course.fileio import atomic_dir, atomic_path


@functools.cache
def atomic_trainer():
    """``hub.Trainer`` whose checkpoints are written atomically.

    hub.Trainer writes ``epoch_N/model.pdparams``, ``model.pdopt`` and ``metrics.pkl``
    in place, so an interrupted save leaves a half-written checkpoint that the next
    run resumes from.  Here each folder is written next to its final name and
    renamed into place, and ``metrics.pkl`` likewise: a crash leaves the previous
    checkpoint intact.  (A function, so that importing this package does not import
    PaddleHub; cached, so every caller gets the same class.)
    """
    import paddle
    import paddlehub as hub

    class AtomicTrainer(hub.Trainer):
        def save_model(self, save_dir):
            with atomic_dir(save_dir) as tmp:
                paddle.save(self.model.state_dict(), os.path.join(tmp, "model.pdparams"))
                paddle.save(self.optimizer.state_dict(), os.path.join(tmp, "model.pdopt"))

        def _save_metrics(self):
            with atomic_path(os.path.join(self.checkpoint_dir, "metrics.pkl")) as tmp:
                with open(tmp, "wb") as file:
                    pickle.dump(self.best_metrics, file)

    return AtomicTrainer
