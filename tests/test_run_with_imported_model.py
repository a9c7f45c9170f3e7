"""Issue 6's promise at the pipeline level: an imported en→hi package is used by `samachar run`.

The package is a tiny random-weight CTranslate2 model built here (nothing is
downloaded); its Hindi is nonsense, so QA must hold what it cannot trust — but
every article must have gone through the ctranslate2 engine, into Hindi.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("ctranslate2")
pytest.importorskip("sentencepiece")

from samachar.demo.server import SampleServer  # noqa: E402
from samachar.models.tiny import build_tiny_argos_package  # noqa: E402
from samachar.store import Store  # noqa: E402


def samachar(home, *args):
    env = {**os.environ, "SAMACHAR_HOME": str(home), "SAMACHAR_ALLOW_PRIVATE_NETWORKS": "1"}
    proc = subprocess.run([sys.executable, "-m", "samachar", "-q", *args], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc.stdout


def test_run_translates_into_hindi_with_the_imported_package(tmp_path):
    home = tmp_path / "home"
    package = build_tiny_argos_package(tmp_path / "translate-en_hi-tiny.argosmodel")
    samachar(home, "init", "--language", "hi")
    samachar(home, "models", "import", str(package))
    models = json.loads(samachar(home, "models", "list", "--json"))
    assert [(m["source"], m["target"], m["engine"]) for m in models] == [("en", "hi", "ctranslate2")]
    with SampleServer() as base:
        samachar(home, "source", "add", base + "/meridian-wire/feed.json")
        samachar(home, "run", "--once")
    entries = json.loads(samachar(home, "entry", "list", "--json"))
    assert entries and {e["state"] for e in entries} <= {"published", "held"}
    store = Store(f"sqlite:///{home / 'samachar.db'}")
    translated = [store.translations.get(e["id"], "hi") for e in entries]
    assert all(t is not None and t.engine == "ctranslate2" and t.target_lang == "hi" for t in translated)
    assert any(t.flags for t in translated), "QA should flag a random-weight model's output"
    store.close()
