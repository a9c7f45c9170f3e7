"""Image bytes: the type is read from the bytes (never the header), the size from the format's own header,
and an SVG is kept only once nothing in it can run or reach out."""

from __future__ import annotations

import struct
import zlib

import pytest
from lxml import etree

from samachar.errors import NotAnImage
from samachar.images import media_name, read_image, sanitize_svg

SVG_NS = "http://www.w3.org/2000/svg"


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00" + b";"


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def webp_vp8x(width: int, height: int) -> bytes:
    payload = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_lossless(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    payload = b"\x2f" + struct.pack("<I", bits) + b"\x00" * 4
    body = b"WEBP" + b"VP8L" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def box(kind: bytes, payload: bytes, full: bool = False) -> bytes:
    payload = (b"\x00\x00\x00\x00" if full else b"") + payload
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def avif(width: int, height: int) -> bytes:
    ftyp = box(b"ftyp", b"avif" + b"\x00\x00\x00\x00" + b"avifmif1miaf")
    ispe = box(b"ispe", struct.pack(">II", width, height), full=True)
    meta = box(b"meta", box(b"hdlr", b"\x00" * 8 + b"pict" + b"\x00" * 13, full=True)
               + box(b"iprp", box(b"ipco", ispe)), full=True)
    return ftyp + meta + box(b"mdat", b"\x00" * 16)


@pytest.mark.parametrize("make, content_type, extension", [
    (png, "image/png", "png"), (gif, "image/gif", "gif"), (jpeg, "image/jpeg", "jpg"),
    (webp_vp8x, "image/webp", "webp"), (webp_lossless, "image/webp", "webp"), (avif, "image/avif", "avif"),
])
def test_raster_type_and_size_come_from_the_bytes(make, content_type, extension):
    image = read_image(make(321, 123))
    assert (image.content_type, image.width, image.height) == (content_type, 321, 123)
    assert image.name == f"{image.sha256[:16]}.{extension}" == media_name(image.sha256, content_type)


@pytest.mark.parametrize("body", [
    b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
    b"%PDF-1.7\n...", b"", b"\x89PNG", b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"/>',
    b"<svg><script>alert(1)</script></svg>",  # no SVG namespace: no browser would draw it as an image
])
def test_anything_else_is_refused_with_a_one_line_reason(body):
    with pytest.raises(NotAnImage) as caught:
        read_image(body)
    assert "\n" not in str(caught.value)


HOSTILE_SVG = f"""<?xml version="1.0"?>
<?xml-stylesheet href="https://evil.example/x.css"?>
<svg xmlns="{SVG_NS}" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:h="http://www.w3.org/1999/xhtml"
     width="640px" height="360" onload="alert(1)">
  <script>alert(2)</script>
  <h:script>alert(3)</h:script>
  <style>@import url(https://evil.example/a.css); rect {{ fill: url(#g); background: url(https://evil.example/t.png) }}</style>
  <defs><linearGradient id="g"><stop offset="0" stop-color="#036"/></linearGradient></defs>
  <foreignObject width="10" height="10"><h:iframe src="https://evil.example/"/></foreignObject>
  <a xlink:href="javascript:alert(4)"><rect width="10" height="10" onclick="alert(5)" style="fill:url(https://evil.example/u)"/></a>
  <use href="#g"/><use xlink:href="https://evil.example/sprite.svg#x"/>
  <image href="https://evil.example/track.png" width="1" height="1"/>
  <set attributeName="href" to="javascript:alert(6)"/>
  <animate attributeName="xlink:href" values="javascript:alert(7)"/>
  <circle cx="5" cy="5" r="4" fill="url(#g)"/>
</svg>"""


def test_svg_is_sanitized_before_it_is_kept():
    image = read_image(HOSTILE_SVG.encode())
    assert image.content_type == "image/svg+xml" and (image.width, image.height) == (640, 360)
    text = image.data.decode()
    lowered = text.lower()
    for needle in ("script", "alert", "javascript", "foreignobject", "iframe", "evil.example", "onload",
                   "onclick", "xml-stylesheet", "@import", "<set", "<animate"):
        assert needle not in lowered, needle
    root = etree.fromstring(image.data)
    assert root.tag == f"{{{SVG_NS}}}svg"
    assert root.find(f"{{{SVG_NS}}}circle").get("fill") == "url(#g)"  # internal references stay
    assert next(u.get("href") for u in root.iter(f"{{{SVG_NS}}}use")) == "#g"
    assert root.find(f".//{{{SVG_NS}}}linearGradient") is not None and root.find(f".//{{{SVG_NS}}}rect") is not None


def test_svg_size_from_the_view_box_and_entities_are_refused():
    image = read_image(f'<svg xmlns="{SVG_NS}" viewBox="0 0 1200 630"><rect width="5" height="5"/></svg>'.encode())
    assert (image.width, image.height) == (1200, 630)
    laughs = (f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
              f'<svg xmlns="{SVG_NS}"><text>&b;</text></svg>').encode()
    with pytest.raises(NotAnImage, match="entit"):
        sanitize_svg(laughs)


def test_sanitized_svg_is_stable():
    once = sanitize_svg(HOSTILE_SVG.encode())
    assert sanitize_svg(once) == once
