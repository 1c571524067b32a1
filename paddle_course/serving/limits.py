"""What one request may ask of ``paddle-course serve``, checked before any work is done.

Every limit has a CLI option of the same name (``--max-texts`` ...) and a reply naming
it.  The checks run in this order, each as early as it can:

0. on the connection, before the request reaches the app
   (:mod:`paddle_course.serving.connections`): the time to send the request line and
   headers (``--header-timeout-s``, 408 and closed) and open connections
   (``--max-connections``: the longest-waiting idle one is closed to make room, 429 if none is idle);
1. before the body is read: its declared length (``--max-body-mb``, HTTP 413) and the
   module's queue (``--max-queue-mb``, 429);
2. before the JSON is parsed: the body is UTF-8 (400) and holds fewer values than any
   acceptable request could (413), counted at C speed -- 2 million one-character texts
   would otherwise become 2 million Python strings (~130 MB) just to be refused;
3. after parsing, before the module's queue: ``texts`` (``--max-texts``, ``--max-text-chars``),
   ``images`` (``--max-images``, ``--max-image-mb``, ``--max-image-pixels`` read from the
   file header, formats PNG/JPEG/GIF/BMP/WebP only), lone surrogates anywhere (400);
4. the module's queue of work (``--max-queue-items``, 429) and the request's deadline
   (``--deadline-s``, 503 when it passes before the answer is ready).

Nothing here imports more than the standard library (the CLI reads the defaults).
"""
import json
from dataclasses import asdict, dataclass, field, fields

from paddle_course.serving.protocol import RequestError


def _limit(default, help_text):
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class Limits:
    """The limits of one server; each field is the CLI option ``--<field with dashes>`` (see :func:`option`)."""

    max_body_mb: float = _limit(20.0, "largest request body, in MB (HTTP 413)")
    max_texts: int = _limit(1000, "most texts in one request (413)")
    max_text_chars: int = _limit(10_000, "most characters in one text, or in any other string but an image (413)")
    max_images: int = _limit(32, "most images in one request (413)")
    max_image_mb: float = _limit(10.0, "largest image file, in MB after base64 decoding (413)")
    max_image_pixels: int = _limit(4096 * 4096, "most pixels (width x height, read from the file header "
                                   "before decoding) in one image (413)")
    max_queue_items: int = _limit(4096, "most texts + images waiting or running per module; more get HTTP 429")
    max_queue_mb: float = _limit(200.0, "most MB of request bodies being read or waiting per module (429)")
    deadline_s: float = _limit(30.0, "seconds from a request's arrival to its answer; a request still "
                               "waiting then is dropped and answered 503")
    header_timeout_s: float = _limit(5.0, "seconds a connection has to send a request's line and headers, from "
                                     "its opening or from the previous answer; then it is closed (408 if part "
                                     "of a request came, silently if nothing did): slow and idle clients "
                                     "cannot hold connections")
    max_connections: int = _limit(256, "most open connections: at the limit a new connection closes the one "
                                  "waiting longest for its request headers; if every one is being answered, "
                                  "the new one gets HTTP 429 (Retry-After: 1) and is closed")

    def __post_init__(self):
        for limit in fields(self):
            value = getattr(self, limit.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{option(limit.name)} must be a positive number, got {value!r}")
            if isinstance(limit.default, int) and not isinstance(value, int):
                raise ValueError(f"{option(limit.name)} must be a whole number, got {value!r}")
        from paddle_course.common.untrusted_images import MAX_FILE_BYTES, MAX_PIXELS

        if self.max_image_pixels > MAX_PIXELS:
            raise ValueError(f"--max-image-pixels can be at most {MAX_PIXELS} (the modules' own limit)")
        if self.max_image_mb * 2**20 > MAX_FILE_BYTES:
            raise ValueError(f"--max-image-mb can be at most {MAX_FILE_BYTES / 2**20:g} (the modules' own limit)")

    @property
    def max_body_bytes(self):
        return int(self.max_body_mb * 2**20)

    @property
    def max_values(self):
        """More JSON values than any request within the limits needs (its lists, plus room for options)."""
        return max(self.max_texts, self.max_images) + 1024

    def as_dict(self):
        return asdict(self)


def option(name):
    """``max_texts`` -> ``--max-texts``, for messages."""
    return "--" + name.replace("_", "-")


# ---------------------------------------------------------------- the body, before and while parsing



def too_many_values(raw, limit):
    """Whether the JSON text ``raw`` may hold more than ``limit`` values, decided without parsing it.

    Values in arrays and objects are separated by commas, so a text with at most ``limit - 1``
    commas holds at most ``limit`` values per container.  Only when that quick count is too
    high are the commas inside strings left out: with escaped quotes and backslashes
    removed, a comma is inside a string when an odd number of quotes precede it (NumPy,
    ~50 ms for 20 MB).
    """
    if raw.count(b",") < limit:
        return False
    # A lower bound, also at C speed: an unescaped '",' is a quote that ends a string value before
    # the next value, or one that opens a string starting with a comma -- at most two per string.
    if (raw.count(b'",') - raw.count(b'\\",')) // 2 >= limit:
        return True
    import numpy as np

    unescaped = np.frombuffer(raw.replace(b"\\\\", b"").replace(b'\\"', b""), dtype=np.uint8)
    quotes_before = np.cumsum(unescaped == ord('"'), dtype=np.uint8)  # modulo 256: the parity is kept
    outside = (quotes_before & 1) == 0
    return int(np.count_nonzero(outside & (unescaped == ord(",")))) >= limit


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON (send numbers as numbers)")


def parse_body(raw, limits):
    """The request body, UTF-8 JSON, parsed; or a :class:`RequestError` saying why not."""
    if not raw.strip():
        raise RequestError('the request body is empty; send a JSON object such as {"texts": [...]}', status="112")
    if too_many_values(raw, limits.max_values):
        raise RequestError(
            f"the request holds more than {limits.max_values:,} JSON values; one request may send at most "
            f"{limits.max_texts:,} texts ({option('max_texts')}) or {limits.max_images:,} images "
            f"({option('max_images')}): split it", status="101", http_status=413)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RequestError(f"the request body is not UTF-8 text (byte {err.start}); JSON must be UTF-8",
                           status="112") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise RequestError("the request body's JSON is nested too deeply", status="112") from None
    except json.JSONDecodeError as err:
        raise RequestError(f"the request body is not valid JSON: {err}", status="112") from None
    except ValueError as err:  # NaN/Infinity, or an integer of more than 4300 digits
        raise RequestError(f"the request body is not valid JSON: {err}", status="112") from None


# ---------------------------------------------------------------- the values, after parsing

def _describe(value):
    return "null" if value is None else type(value).__name__


def check_texts(texts, limits):
    """``texts``: a non-empty list of at most ``max_texts`` strings of at most ``max_text_chars`` each."""
    if not isinstance(texts, list):
        raise RequestError(f"'texts' must be a list of strings, got {_describe(texts)}")
    if not texts:
        raise RequestError("'texts' is an empty list; send at least one text")
    if len(texts) > limits.max_texts:
        raise RequestError(f"'texts' holds {len(texts):,} texts, more than this server takes in one request "
                           f"({limits.max_texts:,}, {option('max_texts')}): split it", http_status=413)
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise RequestError(f"texts[{index}] must be a string, got {_describe(text)}")


def check_images(images, limits):
    """``images``: a non-empty list of at most ``max_images`` base64 image files, each within the
    byte and pixel limits (read from the file header: nothing is decoded here)."""
    from paddle_course.common import untrusted_images

    if not isinstance(images, list):
        raise RequestError(f"'images' must be a list of base64-encoded image files, got {_describe(images)}")
    if not images:
        raise RequestError("'images' is an empty list; send at least one base64-encoded image")
    if len(images) > limits.max_images:
        raise RequestError(f"'images' holds {len(images)} images, more than this server takes in one request "
                           f"({limits.max_images}, {option('max_images')}): split it", http_status=413)
    max_bytes = int(limits.max_image_mb * 2**20)
    for index, image in enumerate(images):
        where = f"images[{index}]"
        if not isinstance(image, str):
            raise RequestError(f"{where} must be a base64 string, got {_describe(image)}")
        if len(image) * 3 // 4 > max_bytes + 3:  # refused before decoding
            raise RequestError(f"{where} is a file of about {len(image) * 3 / 4 / 2**20:.1f} MB, more than "
                               f"{limits.max_image_mb:g} MB ({option('max_image_mb')})", http_status=413)
        try:
            data = untrusted_images.base64_file_bytes(image, where)
            untrusted_images.check_image_file(data, where, limits.max_image_pixels, max_bytes)
        except untrusted_images.ImageTooLarge as err:
            raise RequestError(f"{err} ({option('max_image_pixels')}, {option('max_image_mb')})",
                               http_status=413) from None
        except ValueError as err:
            raise RequestError(str(err)) from None


def check_strings(value, limits, where="body"):
    """Every string in ``value`` (but the images) has at most ``max_text_chars`` characters and
    no lone surrogate (JSON allows ``"\\ud800"``; it is not a character and cannot be sent back as UTF-8)."""
    stack = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if len(item) > limits.max_text_chars:
                raise RequestError(f"{path} has {len(item):,} characters, more than {limits.max_text_chars:,} "
                                   f"({option('max_text_chars')})", http_status=413)
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as err:
                raise RequestError(f"{path} holds a lone surrogate {item[err.start]!r} at character {err.start}, "
                                   "which is not a Unicode character") from None
        elif isinstance(item, list):
            stack.extend((entry, f"{path}[{index}]") for index, entry in enumerate(item))
        elif isinstance(item, dict):
            for key, entry in item.items():
                if path == "body" and key == "images":
                    continue  # checked by check_images
                stack.append((key, f"a key in {path}"))
                stack.append((entry, key if path == "body" else f"{path}[{key!r}]"))


def check_values(inputs, limits):
    """The shared keys of a request body against the limits (``inputs`` is a dict)."""
    if "texts" in inputs:
        check_texts(inputs["texts"], limits)
    if "images" in inputs:
        check_images(inputs["images"], limits)
    check_strings(inputs, limits)
