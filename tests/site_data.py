"""The site tests' shared data: sample Hindi articles, loopback servers, XSS vectors.

``tests/data/site/`` holds plain modules (not a package); they are loaded here once.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

DATA = Path(__file__).parent / "data" / "site"
BASE = "https://news.example.in/"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"site_data_{name}", DATA / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


samples = _load("samples")
loopback = _load("loopback")
xss = _load("xss_vectors")

