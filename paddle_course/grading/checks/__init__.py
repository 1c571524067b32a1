"""One module per assignment (``hw01.py``, ``hw02.py``, ...), found by :mod:`paddle_course.grading.registry`."""
