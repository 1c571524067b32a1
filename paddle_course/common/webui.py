"""What the course's web pages share: Gradio imported offline, uploads checked, messages for the page.

Each hub module's ``create_gradio_app()`` (PaddleHub's convention) and ``paddle-course app``
build their pages with these helpers, so every page

* imports Gradio with its analytics off (:func:`import_gradio`: no usage report, no version check;
  the course opens no outside connection);
* turns an upload into a BGR image or one sentence saying what is wrong with it
  (:func:`read_uploaded_image`): nothing uploaded, a file too large, not an image, too many pixels;
* shows problems as a line in the page (:func:`problem`), never as a stack trace.
"""
import os
from pathlib import Path

#: the largest upload an image box takes; the app's server refuses anything above MAX_REQUEST_MB outright
MAX_IMAGE_MB = 20
MAX_REQUEST_MB = 64
#: images with more pixels are refused before they are decoded (a 20 MB PNG can hold 1e9 pixels)
MAX_PIXELS = 40_000_000


class UploadProblem(ValueError):
    """An upload the page cannot use; the message is meant for the learner."""


def import_gradio():
    """``gradio``, imported with analytics and telemetry off.

    Gradio reads ``GRADIO_ANALYTICS_ENABLED`` when it is imported and then reports usage to
    api.gradio.app and checks its version there; Hugging Face's hub library reads
    ``HF_HUB_DISABLE_TELEMETRY``.  Both are switched off here, before the import.
    """
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gradio

    _accept_boolean_schemas()
    return gradio


def _accept_boolean_schemas():
    """Let gradio_client 1.7.0 describe a JSON schema that is just ``true`` ("any value").

    pydantic >= 2.11 writes ``"additionalProperties": true`` for the ``dict`` field of Gradio's
    file data, and gradio_client 1.7.0 (pinned with gradio 5.14) fails on it with "argument of
    type 'bool' is not iterable": every page with an image or file box then has no API page
    and no ``gradio_client`` access.  This wraps its schema-to-type function to read ``true``
    as ``Any`` (and ``false`` as ``None``); newer gradio_client releases do the same themselves.
    """
    from gradio_client import utils

    original = utils._json_schema_to_python_type
    if getattr(original, "accepts_boolean_schemas", False):
        return

    def to_python_type(schema, defs=None):
        if isinstance(schema, bool):
            return "Any" if schema else "None"
        return original(schema, defs)

    to_python_type.accepts_boolean_schemas = True
    utils._json_schema_to_python_type = to_python_type


#: the families of the course's CJK fonts as ``paddle-course app`` serves them (``app.server.font_css``)
CJK_FAMILIES = ("Course CJK", "Course CJK Supplement")


def offline_theme(gr):
    """Gradio's default look with fonts Gradio ships (its default asks Google Fonts for "Source Sans Pro").

    After Gradio's own IBM Plex come the course's CJK fonts (when the page serves them) and the
    system's.
    """
    from gradio.themes.utils.fonts import Font, LocalFont

    system = [Font(name) for name in ("ui-sans-serif", "system-ui", "sans-serif")]
    return gr.themes.Default(font=[LocalFont("IBM Plex Sans"), *map(Font, CJK_FAMILIES), *system],
                             font_mono=[LocalFont("IBM Plex Mono"), *map(Font, CJK_FAMILIES),
                                        Font("ui-monospace"), Font("monospace")])


def problem(message):
    """A problem shown in the page (Markdown), instead of an exception."""
    return f"**Problem:** {message}"


def done(message):
    """A success line shown in the page (Markdown)."""
    return f"**Done:** {message}"


def uploaded_path(value):
    """The local path of what a Gradio file or image box passes (a path, a ``FileData``-like object, or None)."""
    if value is None or value == "":
        return None
    if isinstance(value, (str, os.PathLike)):
        return Path(value)
    for key in ("path", "name"):
        path = value.get(key) if isinstance(value, dict) else getattr(value, key, None)
        if path:
            return Path(path)
    raise UploadProblem(f"cannot read the upload ({type(value).__name__})")


def check_upload_size(path, max_mb):
    """Refuse an empty file or one over ``max_mb`` megabytes, naming its size."""
    size = path.stat().st_size
    if size == 0:
        raise UploadProblem(f"{path.name} is empty (0 bytes)")
    if size > max_mb * 1024 * 1024:
        raise UploadProblem(f"{path.name} is {size / 1024 / 1024:.1f} MB; this page takes files up to {max_mb} MB")
    return size


def read_uploaded_image(value, max_mb=MAX_IMAGE_MB, max_pixels=MAX_PIXELS):
    """An uploaded image as BGR ``uint8`` ``(H, W, 3)``, or :class:`UploadProblem` saying what is wrong."""
    path = uploaded_path(value)
    if path is None:
        raise UploadProblem("no image yet: upload one or pick a sample")
    if not path.is_file():
        raise UploadProblem(f"{path.name}: the upload is gone, please upload it again")
    check_upload_size(path, max_mb)
    _check_pixels(path, max_pixels)
    from paddle_course.common.images import MIN_SIDE, check_image, read_image

    try:
        image = read_image(path)
    except ValueError:
        raise UploadProblem(f"{path.name} is not an image we can read (use PNG, JPEG, BMP or WebP)") from None
    try:
        return check_image(image, path.name)
    except ValueError:
        raise UploadProblem(f"{path.name} is {image.shape[1]}x{image.shape[0]} pixels; "
                            f"an image needs at least {MIN_SIDE} pixels a side") from None


def _check_pixels(path, max_pixels):
    """Read only the header (PIL) to refuse a huge image before decoding it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return  # not for PIL to decide: OpenCV reads a few formats PIL does not, and reports the rest
    if width * height > max_pixels:
        raise UploadProblem(f"{path.name} is {width}x{height} pixels; this page takes images up to "
                            f"{max_pixels / 1e6:.0f} megapixels")


def page_figure(draw, *args, **kwargs):
    """``draw(*args, **kwargs)`` -> a matplotlib figure, rendered for a ``gr.Plot``, one figure at a time.

    Gradio would render a returned figure itself, in whichever thread serves the request, while
    another request draws in its own: matplotlib's text layout is not safe for that (see
    :func:`paddle_course.common.plots.drawing`).  Building and rendering happen here under that
    lock; the ``gr.Plot`` receives the finished picture.
    """
    import base64
    import io

    from gradio.components.plot import PlotData

    from paddle_course.common.plots import drawing

    with drawing():
        figure = draw(*args, **kwargs)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="webp")
    return PlotData(type="matplotlib", plot="data:image/webp;base64," + base64.b64encode(buffer.getvalue()).decode())


def bgr_to_rgb(image):
    """An OpenCV BGR image as the RGB array an image box shows."""
    return image[:, :, ::-1].copy()


def page_folder(name):
    """``<temp>/paddle_course_pages-<uid>/<name>/``: where a page writes the files it offers (samples, starters).

    The same folder every run, overwritten with the same files (rendered from fixed seeds), so
    nothing piles up; Gradio copies what it serves into its own cache.
    """
    import tempfile

    user = f"-{os.getuid()}" if hasattr(os, "getuid") else ""  # /tmp is shared between the users of a machine
    folder = Path(tempfile.gettempdir()) / f"paddle_course_pages{user}" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def upload_with_samples(gr, samples, label, elem_id):
    """An upload box and, under it, a gallery of ``samples`` (``[(path, caption), ...]``).

    Clicking a sample puts it into the upload box.  Returns ``(upload, pick)``: the ``gr.File``
    and the gallery's select event, so a page can chain ``pick.then(run, ...)`` to run at once.
    """
    upload = gr.File(label=label, file_types=["image"], type="filepath", elem_id=f"{elem_id}-upload")
    gallery = gr.Gallery(value=[(str(path), caption) for path, caption in samples], label="…or click a sample",
                         columns=min(4, max(1, len(samples))), height=170, allow_preview=False, object_fit="contain",
                         elem_id=f"{elem_id}-samples")
    paths = [str(path) for path, _ in samples]

    def pick(event: gr.SelectData):
        return paths[event.index]

    return upload, gallery.select(pick, inputs=None, outputs=upload, show_progress="hidden", api_name=False)
