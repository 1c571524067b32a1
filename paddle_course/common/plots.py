"""matplotlib for scripts without a screen, and the fonts the course's pictures use."""
from pathlib import Path


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (files only, no window), imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def matplotlib_font(file_name):
    """A TrueType font that ships with matplotlib, e.g. ``DejaVuSerif.ttf`` (Latin and digits only)."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / file_name
