"""paddle_course: the PaddlePaddle course as a package you can run offline.

Lessons (each a module named after its idea):

* ``paddle_course.data``       -- Boston housing: loading, normalisation, mini-batches
* ``paddle_course.numpy_net``  -- the hand-written NumPy networks (course 1.3)
* ``paddle_course.paddle_net`` -- the same model in PaddlePaddle, dynamic and static (course 1.5)
* ``paddle_course.cli``        -- ``paddle-course ...`` / ``python -m paddle_course ...``
"""

__version__ = "0.1.0"
