"""What every lesson shares, written once, below all of them.

Nothing here imports another part of ``paddle_course`` (only ``common`` itself), and
importing this package imports none of its modules: each one is imported where it is used.

* ``fileio``      -- atomic writes: text, JSON, figures, whole folders
* ``paths``       -- where ``data/``, ``homework/`` and the shipped hub modules are
* ``progress``    -- progress bars and progress lines (``--quiet``), library noise kept down
* ``plots``       -- matplotlib without a screen, and the fonts the figures use (Chinese included)
* ``webui``       -- what the web pages share: Gradio imported offline, uploads checked, problems as sentences
* ``images``      -- read, check, decode (base64), encode and save images: one set of rules
* ``checkpoints`` -- find the weights (``model.safetensors``, an old ``model.pdparams``; a file, a folder,
                    ``best_model/``, ``epoch_N/``); load without running code (through ``safe_weights``);
                    save weights and optimizer state atomically as safetensors + JSON
* ``safe_weights`` -- safetensors/npz weights, and the restricted unpickler for user-given pickles
* ``seeding``     -- one call seeds Python, NumPy and Paddle
* ``parallel``    -- data-parallel plumbing: ranks, per-process batches, gradient averaging, dropout replay
* ``trainer``     -- ``hub.Trainer`` with atomic checkpoints, a resume that runs no code, best + last N
                    epochs kept, the best dev epoch (the start included) chosen on the exact dev metric;
                    and its data-parallel variant (course 3.3)
* ``finetune_report`` -- what every fine-tune reports: dev held out if not given, your task and the base task
  before and after
* ``inputs``      -- files and numbers a learner typed, checked with pathlib before anything heavy loads
* ``hub``         -- the registry of the course's PaddleHub modules: names, folders, a loader (course 3.1)
"""
