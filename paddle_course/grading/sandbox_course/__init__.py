"""The part of the course's API a homework file may use while it is graded.

Inside the sandbox the real ``paddle_course`` is neither importable nor readable: it holds the
answers to the homework (``numpy_net.Network`` is hw02's, ``paddle_net`` hw04's). The files of
this folder are copied into the sandbox as a small package named ``paddle_course`` instead,
for the assignments that list them in ``Assignment.course_api``:

* ``sentiment.py``: what hw05's starter uses (``network_class``, ``Vocab``, ``read_tsv``,
  ``normalize_text``, ``pad_batch``, ``shipped_model_dir``, ``DEFAULT_CONFIG``, ...);
* ``paths.py`` (as ``paddle_course.common.paths``): ``hub_module_dir`` pointing at the read-only
  copy of the module's assets.

Each mirrors the real module line for line where it matters (the network's layers and
forward, the vocabulary's ids, the TSV reader's errors); ``tests/test_grader_sandbox.py``
compares them with the real ones, so a change of the real network that is not made here fails
a test instead of a learner.
"""
