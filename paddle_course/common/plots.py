"""matplotlib for scripts without a screen, and the fonts the course's pictures use.

Every figure of the course goes through :func:`pyplot`, which also teaches matplotlib the
course's Chinese fonts, so a label such as ``这本书写得真好`` is drawn instead of empty boxes.
Latin letters and digits come from matplotlib's DejaVu Sans; a character DejaVu lacks falls
back (matplotlib >= 3.6 picks a font per glyph) to

1. the CJK font shipped for OCR (``hub_modules/course_ocr/assets/fonts/wqy-microhei-ppocr.ttf``,
   WenQuanYi Micro Hei cut to the 6613 characters PP-OCRv4 reads), then
2. ``common/fonts/course-cjk-supplement.otf`` (Noto Sans S Chinese cut to what the first one
   lacks of GB2312, the common traditional characters of Big5 and CJK punctuation; 3543 glyphs,
   made by ``scripts/make_cjk_supplement.py``).

Origins and licences: data/README.md.
"""
import contextlib
import threading
from pathlib import Path

from paddle_course.common.paths import PACKAGE_DIR, hub_module_dir

CJK_FONT_FILES = (
    hub_module_dir("course_ocr") / "assets" / "fonts" / "wqy-microhei-ppocr.ttf",
    PACKAGE_DIR / "common" / "fonts" / "course-cjk-supplement.otf",
)
LATIN_FAMILY = "DejaVu Sans"
# matplotlib lays out text (mathtext, pyparsing) with shared state: two threads drawing at once can
# fail with "ParseException: Expected end of text"; a program drawing in threads holds this lock
_DRAWING = threading.Lock()


@contextlib.contextmanager
def drawing():
    """Hold while building and rendering a figure in a program that draws from several threads (the app)."""
    with _DRAWING:
        yield


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (files only, no window) with the CJK fonts set up."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    use_cjk_fonts()
    return plt


def figure(**kwargs):
    """A new ``matplotlib.figure.Figure`` (``figsize=...``) with the CJK fonts set up, outside pyplot.

    pyplot keeps every figure it makes until ``plt.close``; a long-running program that makes
    figures in several threads (the web app) wants figures that are freed like any object.
    ``fig.savefig`` works as usual.
    """
    from matplotlib.figure import Figure

    use_cjk_fonts()
    return Figure(**kwargs)


def use_cjk_fonts():
    """Register the course's CJK fonts with matplotlib and draw text with DejaVu Sans, falling back to them.

    Returns the family names, in fallback order.  Calling it again changes nothing.
    """
    import matplotlib
    from matplotlib import font_manager

    families = [LATIN_FAMILY]
    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    for path in CJK_FONT_FILES:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: a font of the course is missing; reinstall paddle_course")
        if str(path) not in known:
            font_manager.fontManager.addfont(str(path))
        families.append(font_manager.FontProperties(fname=str(path)).get_name())
    # a list of families (not the generic "sans-serif") is what makes matplotlib fall back glyph by glyph
    matplotlib.rcParams["font.family"] = families
    return families


def missing_glyphs(text):
    """The characters of ``text`` that none of the figure fonts can draw (they would come out as boxes)."""
    from fontTools.ttLib import TTFont

    covered = set()
    for path in (matplotlib_font("DejaVuSans.ttf"), *CJK_FONT_FILES):
        with TTFont(str(path), lazy=True) as font:
            covered.update(font.getBestCmap())
    return sorted({ch for ch in text if not ch.isspace() and ord(ch) not in covered})


def matplotlib_font(file_name):
    """A TrueType font that ships with matplotlib, e.g. ``DejaVuSerif.ttf`` (Latin and digits only)."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / file_name
