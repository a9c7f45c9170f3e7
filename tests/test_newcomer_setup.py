"""What a newcomer meets first: Hindi after the README's set-up, and a demo that keeps to its own home.

Issue 11 §1–2. The model index is a loopback server started here; the package it
serves is a tiny random-weight CTranslate2 model built offline (its Hindi is nonsense,
but every step — index, download, import, load, decode — is the real one).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

import pytest
from loopback import LoopbackSite

from samachar.demo import samples_dir
from samachar.demo.run import choose_language, demo_home, install_hindi
from samachar.models.registry import list_models
from samachar.models.tiny import build_tiny_argos_package

PAGE = next(samples_dir().glob("meridian-wire/*/*.html"))


def samachar(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "samachar", "-q", *args], env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    if check:
        assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A newcomer's environment: a fresh HOME, no samachar variables but the (loopback) model index."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMACHAR_") and k != "XDG_DATA_HOME"}
    env.update(HOME=str(tmp_path / "user"), SAMACHAR_MODEL_INDEX=os.environ["SAMACHAR_MODEL_INDEX"], **extra)
    return env


@pytest.fixture(scope="module")
def tiny_package(tmp_path_factory) -> Path:
    return build_tiny_argos_package(tmp_path_factory.mktemp("pkg") / "translate-en_hi-0_0_1.argosmodel")


def index_site(package: Path) -> LoopbackSite:
    routes = {"/translate-en_hi-0_0_1.argosmodel": (200, "application/zip", package.read_bytes())}
    site = LoopbackSite(routes)
    index = [{"package_type": "translate", "from_code": "en", "to_code": "hi", "package_version": "0.0.1",
              "links": [site.url("/translate-en_hi-0_0_1.argosmodel")]}]
    routes["/index.json"] = (200, "application/json", json.dumps(index).encode())
    return site


def test_the_local_neural_engine_is_part_of_the_base_install():
    base = [r for r in requires("samachar") or [] if "extra ==" not in r]
    names = {r.split(">")[0].split("=")[0].split("[")[0].strip().lower() for r in base}
    assert {"ctranslate2", "sentencepiece", "sacremoses"} <= names, base


def test_an_installed_model_without_its_runtime_names_the_missing_package(tmp_path, tiny_package):
    env = clean_env(tmp_path, SAMACHAR_HOME=str(tmp_path / "home"))
    samachar(env, "init", "--language", "hi")
    samachar(env, "models", "import", str(tiny_package))
    # The runtime made unimportable, as in a venv where it failed to install.
    blocked = ("import sys; sys.modules['ctranslate2'] = None; from samachar.cli import main; "
               "sys.exit(main(sys.argv[1:]))")
    proc = subprocess.run([sys.executable, "-c", blocked, "-q", "translate", str(PAGE), "--to", "hi"], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert "model is installed" in line and "pip install ctranslate2" in line, line
    assert "install a model" not in line  # the old message pointed the wrong way


def test_an_imported_package_translates_into_hindi_after_setup(tmp_path, tiny_package):
    env = clean_env(tmp_path, SAMACHAR_HOME=str(tmp_path / "home"))
    samachar(env, "init", "--language", "hi")
    samachar(env, "models", "import", str(tiny_package))
    data = json.loads(samachar(env, "translate", str(PAGE), "--to", "hi", "--json").stdout)
    assert data["engine"] == "ctranslate2" and data["target_language"] == "hi"
    assert any("\u0900" <= ch <= "\u097f" for ch in data["title"] + data["html"]), data["title"]


def test_the_demo_installs_hindi_when_the_index_answers(tmp_path, tiny_package, monkeypatch):
    models = tmp_path / "models"
    with index_site(tiny_package) as site:
        monkeypatch.setenv("SAMACHAR_MODEL_INDEX", site.url("/index.json"))
        language, engine, why_not = choose_language(models, quiet=True)
        assert site.hits["/translate-en_hi-0_0_1.argosmodel"] == 1
    assert (language, engine, why_not) == ("hi", "ctranslate2", None)
    assert [(m.source, m.target) for m in list_models(models)] == [("en", "hi")]


def test_an_index_that_does_not_answer_is_given_up_quickly(tmp_path, monkeypatch):
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setenv("SAMACHAR_MODEL_INDEX", f"http://127.0.0.1:{silent.getsockname()[1]}/index.json")
        reason = install_hindi(tmp_path / "models", deadline=0.5, show_progress=False)
    assert reason is not None and "did not answer within 0.5 s" in reason
    assert not list_models(tmp_path / "models")


def test_without_an_index_the_demo_falls_back_to_spanish_and_says_why(tmp_path):
    language, engine, why_not = choose_language(tmp_path / "models", quiet=True)
    assert (language, engine) == ("es", "apertium")
    assert why_not and "cannot reach the model index" in why_not


def test_the_demo_home_is_never_the_default_home(tmp_path, monkeypatch):
    monkeypatch.delenv("SAMACHAR_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert demo_home(None) == tmp_path / "data" / "samachar-demo"
    assert demo_home(tmp_path / "mine") == tmp_path / "mine"


def test_make_demo_leaves_the_default_home_untouched(tmp_path):
    """The whole demo with a newcomer's environment; then `init` of the real site just works."""
    env = clean_env(tmp_path)
    out = tmp_path / "site"
    proc = samachar(env, "demo", "--build-only", "--out", str(out), "--no-install")
    default_home = tmp_path / "user" / ".local" / "share" / "samachar"
    demo = tmp_path / "user" / ".local" / "share" / "samachar-demo"
    assert not default_home.exists()
    assert (demo / "samachar.toml").exists() and str(demo) in proc.stdout
    assert list(out.glob("articles/*/index.html"))
    samachar(env, "init", "--language", "hi")
    assert json.loads(samachar(env, "source", "list", "--json").stdout) == []
    assert json.loads(samachar(env, "entry", "list", "--json").stdout) == []
