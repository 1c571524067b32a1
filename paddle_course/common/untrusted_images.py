"""Images from the network: the size is read from the file's header before anything is decoded.

Course 3.4 (serving a module).  A 1.3 MB PNG whose header says 32000 x 32000 pixels asks a
decoder for 3 GB; Pillow's and OpenCV's own limits (``Image.MAX_IMAGE_PIXELS``,
``OPENCV_IO_MAX_IMAGE_PIXELS``, 2**30 pixels) are far above what a laptop can give.  So an
image from a client is only decoded after its header has been read here and its
``width x height`` found small enough.  Formats are recognised by their signature (never by
a name the client chose); anything else is refused, because OpenCV also decodes TIFF,
JPEG 2000, OpenEXR, PNM, ... whose headers are not checked here.

Where the size is (all checked against the first bytes of the file only):

======  ===============================================================================
PNG     the IHDR chunk, which must come first: width, height (big-endian uint32)
JPEG    the first SOFn segment (after skipping APPn/DQT/DHT/... by their lengths)
GIF     the logical screen, and every image descriptor (its frames may be larger)
BMP     the DIB header: width, height (int32, a negative height means top-down)
WebP    the VP8 frame header, the VP8L header or the VP8X canvas size
======  ===============================================================================

Used by the ``@serving`` methods of the course's hub modules (so ``hub serving start``
is protected too) and by ``paddle-course serve`` before a request is queued.
"""
import base64
import binascii
import struct
from dataclasses import dataclass

#: The largest image the course's serving methods decode: 8192 x 8192 pixels (201 MB as BGR).
MAX_PIXELS = 8192 * 8192
#: The largest image file they accept (the decoded base64), in bytes.
MAX_FILE_BYTES = 32 * 1024 * 1024
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WebP")


class ImageTooLarge(ValueError):
    """An image file over the byte or pixel limit."""


@dataclass(frozen=True)
class ImageSize:
    format: str
    width: int
    height: int

    @property
    def pixels(self):
        return self.width * self.height


def image_size(data):
    """The format and size of the image file ``data`` (bytes), read from its header only.

    Raises ValueError naming the problem: an unknown format, a truncated or malformed
    header, a zero side.
    """
    data = bytes(data)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        size = _png_size(data)
    elif data[:3] == b"\xff\xd8\xff":
        size = _jpeg_size(data)
    elif data[:6] in (b"GIF87a", b"GIF89a"):
        size = _gif_size(data)
    elif data[:2] == b"BM":
        size = _bmp_size(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        size = _webp_size(data)
    else:
        raise ValueError(f"not an image in a format accepted here ({', '.join(FORMATS[:-1])} or {FORMATS[-1]}); "
                         f"it starts with {bytes(data[:8])!r}")
    if size.width <= 0 or size.height <= 0:
        raise ValueError(f"a {size.format} file of {size.width} x {size.height} pixels")
    return size


def _png_size(data):
    # signature (8), then the first chunk: length (4) "IHDR" width (4) height (4)
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise ValueError("a PNG file whose first chunk is not IHDR (truncated or malformed)")
    width, height = struct.unpack(">II", data[16:24])
    return ImageSize("PNG", width, height)


# JPEG start-of-frame markers carry the size: C0-CF except C4 (DHT), C8 (JPG) and CC (DAC).
_SOF_MARKERS = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# markers that stand alone, without a length: TEM, RST0-7
_STANDALONE_MARKERS = {0x01, *range(0xD0, 0xD8)}


def _jpeg_size(data):
    position = 2
    while True:
        # fill bytes (0xFF) may precede a marker
        while position < len(data) and data[position] == 0xFF:
            position += 1
        if position >= len(data):
            break
        if data[position - 1] != 0xFF:
            raise ValueError("a JPEG file with something else than a marker between its segments")
        marker = data[position]
        position += 1
        if marker in _STANDALONE_MARKERS:
            continue
        if marker in (0xD8, 0xD9, 0xDA):  # SOI again, EOI, or scan data before any frame header
            raise ValueError("a JPEG file whose image data comes before its frame header (SOF)")
        if position + 2 > len(data):
            break
        (length,) = struct.unpack(">H", data[position:position + 2])
        if length < 2:
            raise ValueError("a JPEG file with a malformed segment length")
        if marker in _SOF_MARKERS:
            if position + 7 > len(data):
                break
            height, width = struct.unpack(">HH", data[position + 3:position + 7])
            if height == 0:  # the height would come later, in a DNL segment: refused
                raise ValueError("a JPEG file whose height is not in its frame header (DNL)")
            return ImageSize("JPEG", width, height)
        position += length
    raise ValueError("a JPEG file that ends before its frame header (SOF)")


def _gif_size(data):
    if len(data) < 13:
        raise ValueError("a GIF file shorter than its header")
    width, height, flags = struct.unpack("<HHB", data[6:11])
    position = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)  # global colour table
    frames = 0
    # Frames are image descriptors, each of which may reach beyond the logical screen:
    # the decoder allocates for the larger of the two.
    while position < len(data):
        block = data[position]
        if block == 0x3B:  # trailer
            break
        if block == 0x21:  # extension: label, then sub-blocks
            position = _skip_gif_sub_blocks(data, position + 2)
        elif block == 0x2C:  # image descriptor
            if position + 10 > len(data):
                raise ValueError("a GIF file that ends inside an image descriptor")
            left, top, frame_width, frame_height, frame_flags = struct.unpack("<HHHHB", data[position + 1:position + 10])
            width, height = max(width, left + frame_width), max(height, top + frame_height)
            position += 10 + (3 * 2 ** ((frame_flags & 7) + 1) if frame_flags & 0x80 else 0)
            position = _skip_gif_sub_blocks(data, position + 1)  # after the LZW minimum code size
            frames += 1
        else:
            raise ValueError(f"a GIF file with an unknown block 0x{block:02x}")
    if frames == 0:
        raise ValueError("a GIF file without any image")
    return ImageSize("GIF", width, height)


def _skip_gif_sub_blocks(data, position):
    while position < len(data):
        size = data[position]
        position += 1 + size
        if size == 0:
            return position
    raise ValueError("a GIF file that ends inside a data block")


def _bmp_size(data):
    if len(data) < 26:
        raise ValueError("a BMP file shorter than its header")
    (header_size,) = struct.unpack("<I", data[14:18])
    if header_size == 12:  # OS/2 BITMAPCOREHEADER: unsigned 16-bit sides
        width, height = struct.unpack("<HH", data[18:22])
    elif header_size >= 40 and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        height = abs(height)  # negative: rows stored top-down
    else:
        raise ValueError(f"a BMP file with an unknown header size {header_size}")
    return ImageSize("BMP", width, height)


def _webp_size(data):
    chunk = bytes(data[12:16])
    if chunk == b"VP8 " and len(data) >= 30:
        if data[23:26] != b"\x9d\x01\x2a":
            raise ValueError("a WebP file with a malformed VP8 frame header")
        width, height = struct.unpack("<HH", data[26:30])
        return ImageSize("WebP", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and len(data) >= 25:
        if data[20] != 0x2F:
            raise ValueError("a WebP file with a malformed VP8L header")
        (bits,) = struct.unpack("<I", data[21:25])
        return ImageSize("WebP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return ImageSize("WebP", width, height)
    raise ValueError("a WebP file with an unknown or truncated first chunk")


def base64_file_bytes(text, where="image"):
    """The bytes of one base64 string, strictly decoded (a ``data:image/...;base64,`` URL works too).

    Only the base64 alphabet is accepted (no whitespace), so every decoder that accepts the
    string reads the same bytes from it.
    """
    if not isinstance(text, str) or not text:
        raise ValueError(f"{where}: expected a non-empty base64 string, got {type(text).__name__}")
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}: not valid base64") from None


def check_image_file(data, where="image", max_pixels=MAX_PIXELS, max_bytes=MAX_FILE_BYTES):
    """The :class:`ImageSize` of the image file ``data``, or a ValueError if it is too large or unknown."""
    if len(data) > max_bytes:
        raise ImageTooLarge(f"{where}: the image file is {len(data) / 2**20:.1f} MB, more than the limit of "
                         f"{max_bytes / 2**20:g} MB")
    try:
        size = image_size(data)
    except ValueError as err:
        raise ValueError(f"{where}: the decoded bytes are {err}") from None
    if size.pixels > max_pixels:
        raise ImageTooLarge(f"{where}: the {size.format} header says {size.width} x {size.height} pixels, "
                         f"more than the limit of {max_pixels:,} pixels")
    return size


def decode_base64_image(text, where="image", max_pixels=MAX_PIXELS, max_bytes=MAX_FILE_BYTES):
    """A base64 image file from a client -> BGR ``uint8`` array, its size checked before decoding.

    Raises ValueError naming ``where`` and the problem (not base64, an unknown format, too
    many pixels, bytes that do not decode).
    """
    import cv2
    import numpy as np

    data = base64_file_bytes(text, where)
    size = check_image_file(data, where, max_pixels, max_bytes)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{where}: a {size.format} header, but the image data cannot be decoded")
    if image.shape[0] * image.shape[1] > size.pixels:
        # never expected (EXIF may turn an image, not grow it): the decoder read another size
        raise ValueError(f"{where}: decoded as {image.shape[1]} x {image.shape[0]} pixels, "
                         f"the header says {size.width} x {size.height}")
    return image
