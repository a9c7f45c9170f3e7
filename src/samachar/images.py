"""Image files the site keeps: fetched through the guarded client, recognised from their bytes, measured, made safe.

A publisher's ``Content-Type`` is not trusted: the type comes from the bytes'
signature (JPEG, PNG, GIF, WebP, AVIF), and anything else is refused unless it
is an SVG document, which is kept only after :func:`sanitize_svg` removed
everything that could run or reach out. Width and height are read from the
format's own header, by hand (no imaging library: nothing is decoded). A kept
image is named by its content (:func:`media_name`), so one picture used by
many articles, or fetched twice, is one file.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from samachar.errors import NotAnImage

if TYPE_CHECKING:
    from lxml import etree

    from samachar.fetch.client import HttpClient
    from samachar.model import Article

MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_ACCEPT = "image/avif,image/webp,image/png,image/jpeg,image/gif,image/svg+xml;q=0.9,*/*;q=0.1"
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
              "image/avif": "avif", "image/svg+xml": "svg"}
_MAX_SIDE = 100_000  # pixels; a larger number in a header is a corrupt or hostile file, not a size


@dataclass(frozen=True)
class ImageFile:
    """Image bytes as kept (an SVG already sanitized), with the type and size read from them."""

    data: bytes
    content_type: str
    width: int | None = None
    height: int | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def name(self) -> str:
        return media_name(self.sha256, self.content_type)


def media_name(sha256: str, content_type: str) -> str:
    """The file name of a kept image: its content's hash and its type's extension (``3f2a….webp``)."""
    return f"{sha256[:16]}.{EXTENSIONS[content_type]}"


MAX_IMAGES_PER_ARTICLE = 20  # a gallery of hundreds is not kept whole


def article_image_urls(article: Article) -> list[str]:
    """The http(s) URLs of an article's lead image and body figures, lead first, each once."""
    images = [article.image] + [b.image for b in article.blocks]
    urls = [i.src for i in images if i is not None and i.src.startswith(("http://", "https://"))]
    return list(dict.fromkeys(urls))[:MAX_IMAGES_PER_ARTICLE]


async def fetch_image(client: HttpClient, url: str, *, robots: bool = False) -> ImageFile:
    """GET ``url`` through the client (SSRF guard, redirects, size cap) and keep it if it is an image."""
    result = await client.fetch(url, accept=IMAGE_ACCEPT, robots=robots)
    return read_image(result.body)


def read_image(data: bytes) -> ImageFile:
    """The image in ``data``, or :class:`NotAnImage` saying what the bytes are not."""
    content_type = sniff_image(data)
    if content_type == "image/svg+xml":
        from lxml import etree  # lazily: the store imports this module on every command

        data = sanitize_svg(data)
        width, height = _svg_size(etree.fromstring(data))
    else:
        try:
            width, height = _RASTER_SIZES[content_type](data)
        except (struct.error, IndexError, ValueError):
            width = height = None  # a truncated header: the type is known, the size is not
    return ImageFile(data, content_type, _side(width), _side(height))


def sniff_image(data: bytes) -> str:
    """The image type by the bytes' signature; an SVG by its root element."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and _avif_brand(data):
        return "image/avif"
    if _SVG_START.match(data[:4096].lstrip(b"\xef\xbb\xbf")):
        return "image/svg+xml"
    head = data[:16].decode("latin-1").encode("unicode_escape").decode("ascii")
    raise NotAnImage(f"not a JPEG, PNG, GIF, WebP, AVIF or SVG image (starts {head!r})" if data else "empty body")


# An SVG document: optional XML declaration, comments and doctype, then <svg.
_SVG_START = re.compile(rb"\s*(?:<\?xml[^>]*\?>\s*)?(?:(?:<!--.*?-->|<\?[^>]*\?>|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)\s*)*"
                        rb"<svg[\s>/]", re.DOTALL | re.IGNORECASE)


def _avif_brand(data: bytes) -> bool:
    size = struct.unpack(">I", data[:4])[0]
    brands = data[8:min(max(size, 16), 256)]
    return any(brands[i:i + 4] in (b"avif", b"avis") for i in range(0, len(brands) - 3, 4))


# -- sizes -----------------------------------------------------------------------------------
def _png_size(data: bytes) -> tuple[int, int]:
    if data[12:16] != b"IHDR":
        raise ValueError("no IHDR")
    return struct.unpack(">II", data[16:24])


def _gif_size(data: bytes) -> tuple[int, int]:
    return struct.unpack("<HH", data[6:10])


_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # frame headers (not DHT, JPG, DAC)


def _jpeg_size(data: bytes) -> tuple[int | None, int | None]:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None, None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # standalone markers
            i += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no frame header came
            return None, None
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None, None


def _webp_size(data: bytes) -> tuple[int | None, int | None]:
    chunk = data[12:16]
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    if chunk == b"VP8L" and data[20] == 0x2F:
        (bits,) = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None, None


def _avif_size(data: bytes) -> tuple[int | None, int | None]:
    """``ispe`` (image spatial extent) of the first item: ``meta`` → ``iprp`` → ``ipco`` → ``ispe``."""
    meta = _child_box(data, 0, len(data), b"meta")
    iprp = meta and _child_box(data, meta[0] + 4, meta[1], b"iprp")  # meta is a full box: 4 bytes of flags
    ipco = iprp and _child_box(data, iprp[0], iprp[1], b"ipco")
    ispe = ipco and _child_box(data, ipco[0], ipco[1], b"ispe")
    if not ispe:
        return None, None
    return struct.unpack(">II", data[ispe[0] + 4:ispe[0] + 12])


def _child_box(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    """(payload start, payload end) of the first ISO-BMFF box of ``kind`` between ``start`` and ``end``."""
    i = start
    while i + 8 <= end:
        (size,) = struct.unpack(">I", data[i:i + 4])
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", data[i + 8:i + 16])
            header = 16
        elif size == 0:
            size = end - i
        if size < header:
            return None
        if data[i + 4:i + 8] == kind:
            return i + header, min(i + size, end)
        i += size
    return None


_RASTER_SIZES = {"image/png": _png_size, "image/gif": _gif_size, "image/jpeg": _jpeg_size,
                 "image/webp": _webp_size, "image/avif": _avif_size}


def _side(value: int | None) -> int | None:
    return value if isinstance(value, int) and 0 < value < _MAX_SIDE else None


# -- SVG ---------------------------------------------------------------------------------------
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_KEPT_ATTRIBUTE_NAMESPACES = ("", XLINK_NS, "http://www.w3.org/XML/1998/namespace")
# SVG elements that run, embed or fetch something, whatever their attributes.
_ACTIVE_ELEMENTS = frozenset(["script", "foreignObject", "iframe", "embed", "object", "audio", "video", "canvas", "handler", "listener", "set", "discard"])
_ANIMATIONS = frozenset(["animate", "animateMotion", "animateTransform", "animateColor"])
_CSS_URL = re.compile(r"url\(\s*(?!['\"]?\s*#)[^)]*\)", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import\b[^;]*;?", re.IGNORECASE)
_ACTIVE_VALUE = re.compile(r"javascript:|vbscript:|data:text/html", re.IGNORECASE)
_LENGTH = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:px)?\s*$")


def sanitize_svg(data: bytes) -> bytes:
    """The SVG with nothing left that could run or load anything; :class:`NotAnImage` if it is no SVG.

    Kept: SVG-namespace elements and their drawing attributes, references inside
    the document (``#id``). Removed: scripts, ``foreignObject`` and other embeds,
    event handlers, animations that could rewrite a link, every external
    ``href``, CSS ``url()``/``@import`` pointing out, comments and processing
    instructions, the doctype. Entity declarations are refused outright.
    """
    if re.search(rb"<!ENTITY", data[:65536], re.IGNORECASE):
        raise NotAnImage("SVG declares XML entities; not kept")
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise NotAnImage(f"SVG is not well-formed XML: {str(exc).splitlines()[0][:120]}") from None
    if root.tag != f"{{{SVG_NS}}}svg":
        raise NotAnImage("SVG root element is not <svg> in the SVG namespace")
    for el in list(root.iter()):
        if el is root:
            continue
        if not isinstance(el.tag, str) or _active(el):
            _remove(el)
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for name, value in list(el.attrib.items()):
            namespace, local = _split(name)
            if (namespace not in _KEPT_ATTRIBUTE_NAMESPACES or local.lower().startswith("on")
                    or (local == "href" and not value.strip().startswith("#")) or _ACTIVE_VALUE.search(value)):
                del el.attrib[name]
            elif local == "style":
                el.set(name, _safe_css(value))
        if _split(el.tag)[1] == "style" and el.text:
            el.text = _safe_css(el.text)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)


def _active(el: etree._Element) -> bool:
    namespace, local = _split(el.tag)
    if namespace != SVG_NS or local in _ACTIVE_ELEMENTS:
        return True
    if local in _ANIMATIONS:
        target = _split(el.get("attributeName") or "")[1].split(":")[-1]
        return target == "href" or any(_ACTIVE_VALUE.search(v) for v in el.attrib.values())
    return False


def _remove(el: etree._Element) -> None:
    """Remove an element and its content, keeping the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _safe_css(text: str) -> str:
    return _CSS_URL.sub("none", _CSS_IMPORT.sub("", text))


def _split(name: str) -> tuple[str, str]:
    if name.startswith("{"):
        namespace, local = name[1:].split("}", 1)
        return namespace, local
    return "", name


def _svg_size(root: etree._Element) -> tuple[int | None, int | None]:
    """``width``/``height`` in pixels, else the ``viewBox`` size; relative units give no size."""
    width, height = (_svg_length(root.get(a)) for a in ("width", "height"))
    if width and height:
        return width, height
    parts = re.split(r"[\s,]+", (root.get("viewBox") or "").strip())
    try:
        box = [float(p) for p in parts] if len(parts) == 4 else []
    except ValueError:
        box = []
    if box and box[2] > 0 and box[3] > 0:
        return round(box[2]), round(box[3])
    return width, height


def _svg_length(value: str | None) -> int | None:
    match = _LENGTH.match(value or "")
    return round(float(match.group(1))) if match else None
