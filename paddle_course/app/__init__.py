"""``paddle-course app``: the course in the browser, one local Gradio page with five tabs.

* ``page``     -- :func:`~paddle_course.app.page.build_page`: the tabs, composed from the three hub
  modules' ``create_gradio_app()`` (PaddleHub's convention) and the two tabs below
* ``boston``   -- the Boston tab (course 1.3-1.5, 2): train, the loss curve streamed as it falls
* ``training`` -- one Boston training per process, its losses streamed back (Paddle's graph mode is per process)
* ``homework`` -- the Homework tab: starter, upload, the autograder's report
* ``server``   -- :func:`~paddle_course.app.server.serve`: the page on 127.0.0.1, offline (no analytics,
  no fonts or scripts from the internet, the course's CJK fonts served by the app itself)
"""
