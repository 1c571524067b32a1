"""``python -m paddle_course ...`` is the same program as ``paddle-course ...``."""
import sys

from paddle_course.cli import main

if __name__ == "__main__":
    sys.exit(main())
