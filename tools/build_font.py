"""Regenerate the site's Devanagari webfont from Debian's ``fonts-noto-core``.

The site ships Noto Sans Devanagari (SIL OFL 1.1) so that Hindi never renders
as boxes on a machine without a Devanagari font. This script writes, under
``src/samachar/publish/static/fonts/``:

- ``noto-sans-devanagari-regular.woff2`` and ``…-bold.woff2``: the fonts cut
  to the code points in :data:`samachar.publish.site.DEVANAGARI_RANGES` (the
  same ranges the ``@font-face`` rules declare), all OpenType layout features
  kept (conjuncts and matras need them), hinting dropped (a third smaller);
- ``OFL.txt``: the copyright notice and licence, taken from the package's
  ``copyright`` file, as OFL condition 2 asks of every copy.

Usage, with the package installed (``apt-get install fonts-noto-core``)::

    .venv/bin/pip install fonttools brotli
    .venv/bin/python tools/build_font.py

or without installing it: ``apt-get download fonts-noto-core`` and pass
``--deb fonts-noto-core_*.deb``. The outputs are committed, so a site builds
and ships the font where the package is absent.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from samachar.publish.site import DEVANAGARI_FONT_FILES, DEVANAGARI_RANGES, STATIC_DIR

FONT_DIR = Path("usr/share/fonts/truetype/noto")
COPYRIGHT = Path("usr/share/doc/fonts-noto-core/copyright")
SOURCES = {"regular": "NotoSansDevanagari-Regular.ttf", "bold": "NotoSansDevanagari-Bold.ttf"}


def subset_font(source: Path, target: Path) -> None:
    """Cut ``source`` to the Devanagari ranges and write it as WOFF2."""
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]  # keeps the copyright and licence records in the font itself
    options.hinting = False
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[cp for first, last in DEVANAGARI_RANGES for cp in range(first, last + 1)])
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(target), options)


def licence_text(copyright_file: Path) -> str:
    """The fonts' copyright lines and the OFL 1.1 text from a Debian ``copyright`` file (DEP-5)."""
    stanzas = [s for s in copyright_file.read_text(encoding="utf-8").split("\n\n") if s.strip()]

    def field(stanza: str, name: str) -> list[str] | None:
        lines = stanza.splitlines()
        for i, line in enumerate(lines):
            if line.startswith(name + ":"):
                value = [line[len(name) + 1:].strip()]
                for more in lines[i + 1:]:
                    if not more.startswith(" "):
                        break
                    value.append("" if more.strip() == "." else more.strip())
                return value
        return None

    fonts = next(s for s in stanzas if (field(s, "Files") or [""])[0] == "*")
    licence = next(s for s in stanzas if (field(s, "License") or [""])[0] == "OFL-1.1" and not field(s, "Files"))
    copyright_lines = [line for line in field(fonts, "Copyright") or [] if line]
    body = field(licence, "License")[1:]
    return ("Noto Sans Devanagari (subset shipped with samachar)\n\n"
            + "\n".join(f"Copyright {line}" for line in copyright_lines)
            + "\n\nThis Font Software is licensed under the SIL Open Font License, Version 1.1.\n\n"
            + _reflow(body) + "\n")


def _reflow(lines: list[str]) -> str:
    """Debian folds paragraphs into short lines with ``.`` between them; join each paragraph again."""
    paragraphs, current = [], []
    for line in lines:
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def build(root: Path, out_dir: Path) -> list[Path]:
    written = []
    for weight, name in SOURCES.items():
        target = out_dir / DEVANAGARI_FONT_FILES[weight]
        subset_font(root / FONT_DIR / name, target)
        written.append(target)
    licence = out_dir / "OFL.txt"
    licence.write_text(licence_text(root / COPYRIGHT), encoding="utf-8")
    written.append(licence)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deb", help="a downloaded fonts-noto-core .deb instead of the installed package")
    parser.add_argument("--out", default=str(STATIC_DIR / "fonts"), help="where the fonts go")
    args = parser.parse_args()
    out_dir = Path(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path("/")
        if args.deb:
            subprocess.run(["dpkg-deb", "-x", args.deb, tmp], check=True)
            root = Path(tmp)
        if not (root / FONT_DIR / SOURCES["regular"]).is_file():
            print(f"error: {root / FONT_DIR / SOURCES['regular']} is missing; "
                  "apt-get install fonts-noto-core, or pass --deb", file=sys.stderr)
            return 2
        for path in build(root, out_dir):
            print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
