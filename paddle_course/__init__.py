"""paddle_course: the PaddlePaddle course as a package you can run offline.

The course's sections, and where each lives (one numbering everywhere: docstrings, CLI help, README):

=======  ======================================================  ===========================================
section  lesson                                                  package
=======  ======================================================  ===========================================
1.3      Boston house prices with a hand-written NumPy network   ``boston`` (``data``, ``numpy_net``)
1.5      the same model in PaddlePaddle: dynamic and static      ``boston`` (``paddle_net``, ``distributed``,
         graph, ``paddle.jit.save``, data-parallel training      ``lesson``)
2        optimizers in NumPy, checked against paddle.optimizer   ``boston`` (``optim``, ``optimizer_comparison``)
3.1      PaddleHub modules: load, install, run                   ``hub_modules``, ``common.hub``,
                                                                 ``common.hub_install``
3.2      three tasks, each a PaddleHub module: Chinese           ``sentiment``, ``detection``, ``ocr``
         sentiment, pedestrian detection, OCR and the waybill
3.3      the Fine-tune API (``hub.Trainer``)                     ``sentiment.finetune``, ``detection.finetune``,
                                                                 ``ocr.finetune``, ``common.trainer``
3.4      serving a module over HTTP (``hub serving``)            ``serving``
hw01-05  homework with an autograder (1.3-1.5, and 3.3)          ``grading``
=======  ======================================================  ===========================================

The rooms, top to bottom (imports only flow downwards):

* ``cli``         -- ``paddle-course ...`` / ``python -m paddle_course ...``: parses, prints, imports the library lazily
* ``tour``        -- ``paddle-course tour``: every lesson in one run (``boston.lesson`` and each package's ``demo``)
* ``serving``     -- ``paddle-course serve``: the modules over HTTP, the ``hub serving`` API (3.4)
* ``app``         -- ``paddle-course app``: the course in the browser, a tab per lesson (Gradio, offline)
* ``boston``      -- course 1 and 2
* ``sentiment``, ``detection``, ``ocr`` -- course 3.2 and 3.3, each with the same rooms: the network(s),
  data readers, ``predict`` (returns data), ``finetune`` (``hub.Trainer``), metrics, ``demo``
* ``grading``     -- the homework autograder
* ``hub_modules`` -- ``course_sentiment``, ``course_pedestrian``, ``course_ocr``: thin PaddleHub modules over
  each package's ``predict``
* ``common``      -- shared below everything: images, checkpoints, seeding, data-parallel helpers, the
  ``hub.Trainer`` helpers, the registry of hub modules, atomic file writes, paths, progress, plots
"""

__version__ = "0.1.0"
