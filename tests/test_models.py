"""The models folder: import, list, remove, and install from a package index served on loopback."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("ctranslate2")
pytest.importorskip("sentencepiece")

from samachar.cli import main  # noqa: E402
from samachar.errors import ConfigError  # noqa: E402
from samachar.models import describe_model, find_model, import_model, list_models, remove_models  # noqa: E402
from samachar.models.argos_index import DownloadError, install_model  # noqa: E402
from samachar.models.tiny import build_tiny_argos_package  # noqa: E402


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    return build_tiny_argos_package(tmp_path_factory.mktemp("pkg") / "translate-en_hi-tiny.argosmodel")


def test_import_package_file_then_list_and_find(package, tmp_path):
    models = tmp_path / "models"
    model = import_model(package, models)
    assert (model.source, model.target, model.kind, model.engine) == ("en", "hi", "argos", "ctranslate2")
    assert (model.path / "model" / "model.bin").exists() and (model.path / "samachar-model.json").exists()
    assert [m.path for m in list_models(models)] == [model.path]
    assert find_model(models, "en", "hi") == model
    assert find_model(models, "hi", "en") is None
    assert not list(models.glob(".import-*")), "staging folder left behind"


def test_import_unpacked_folder_and_reimport_replaces(package, tmp_path):
    models = tmp_path / "models"
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(unpacked)
    folder = unpacked / "translate-en_hi-tiny"
    first = import_model(folder, models)
    assert folder.exists(), "import copies, it never moves the operator's folder"
    meta = json.loads((folder / "metadata.json").read_text())
    meta["package_version"] = "0.0.2"
    (folder / "metadata.json").write_text(json.dumps(meta))
    second = import_model(folder, models)
    assert second.version == "0.0.2"
    assert [m.version for m in list_models(models)] == ["0.0.2"], "the older version was replaced"
    assert not first.path.exists()


def test_remove_by_pair_and_by_name(package, tmp_path):
    models = tmp_path / "models"
    model = import_model(package, models)
    assert remove_models(models, source="hi", target="en") == []
    assert [m.path for m in remove_models(models, source="en", target="hi")] == [model.path]
    model = import_model(package, models)
    assert remove_models(models, name_or_path=model.path.name)[0].path == model.path
    assert list_models(models) == []


def test_bad_packages_give_one_line_errors(tmp_path):
    models = tmp_path / "models"
    not_zip = tmp_path / "broken.argosmodel"
    not_zip.write_bytes(b"this is not a zip file")
    with pytest.raises(ConfigError, match="not a model package"):
        import_model(not_zip, models)
    evil = tmp_path / "evil.argosmodel"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../../outside.txt", "x")
    with pytest.raises(ConfigError, match="outside the package"):
        import_model(evil, models)
    assert not (tmp_path / "outside.txt").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("hello")
    with pytest.raises(ConfigError) as excinfo:
        import_model(empty, models)
    assert "\n" not in str(excinfo.value)
    with pytest.raises(ConfigError, match="no such file"):
        import_model(tmp_path / "missing.argosmodel", models)


def test_cli_import_list_json_remove(package, tmp_path, capsys):
    home = tmp_path / "home"
    assert main(["--home", str(home), "models", "list"]) == 0
    assert "no models" in capsys.readouterr().out
    assert main(["--home", str(home), "models", "import", str(package)]) == 0
    assert "imported en→hi" in capsys.readouterr().out
    assert main(["--home", str(home), "models", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(m["source"], m["target"], m["engine"]) for m in listed] == [("en", "hi", "ctranslate2")]
    assert Path(listed[0]["path"]).parent == home / "models"
    assert main(["--home", str(home), "models", "remove", "en", "hi"]) == 0
    capsys.readouterr()
    assert main(["--home", str(home), "models", "remove", "en", "hi"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no installed model") and err.count("\n") == 1


# -- install from an index ------------------------------------------------------------------------

class IndexServer:
    """Serves an Argos-style index.json and package files from memory on 127.0.0.1."""

    def __init__(self, files: dict[str, bytes], lie_about_length: set[str] = frozenset()):
        self.files = files
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                body = outer.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                length = len(body) + (10 if self.path in lie_about_length else 0)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                self.wfile.write(body)
                if self.path in lie_about_length:
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _index(url: str, body: bytes, **extra) -> bytes:
    entries = [
        {"package_type": "translate", "from_code": "en", "to_code": "hi", "package_version": "0.0.1",
         "links": [f"{url}/old.argosmodel"]},
        {"package_type": "translate", "from_code": "en", "to_code": "hi", "package_version": "0.0.3",
         "links": [f"{url}/translate-en_hi-0_0_3.argosmodel"], **extra},
        {"package_type": "translate", "from_code": "en", "to_code": "es", "package_version": "1.0",
         "links": [f"{url}/es.argosmodel"]},
    ]
    return json.dumps(entries).encode()


def test_install_downloads_newest_and_checks_checksum(package, tmp_path):
    body = package.read_bytes()
    server = IndexServer({})
    try:
        server.files["/index.json"] = _index(server.url, body, sha256=hashlib.sha256(body).hexdigest(), size=len(body))
        server.files["/translate-en_hi-0_0_3.argosmodel"] = body
        model = install_model("en", "hi", tmp_path / "models", url=f"{server.url}/index.json", show_progress=False)
        assert (model.source, model.target) == ("en", "hi")
        assert "/translate-en_hi-0_0_3.argosmodel" in server.requests and "/old.argosmodel" not in server.requests
        assert find_model(tmp_path / "models", "en", "hi") is not None
        assert not list((tmp_path / "models").glob(".download-*"))
    finally:
        server.close()


def test_install_rejects_bad_checksum_and_missing_pair(package, tmp_path):
    body = package.read_bytes()
    server = IndexServer({})
    try:
        server.files["/index.json"] = _index(server.url, body, sha256="0" * 64)
        server.files["/translate-en_hi-0_0_3.argosmodel"] = body
        with pytest.raises(DownloadError, match="checksum"):
            install_model("en", "hi", tmp_path / "models", url=f"{server.url}/index.json", show_progress=False)
        assert list_models(tmp_path / "models") == []
        with pytest.raises(DownloadError, match="no hi→ta package"):
            install_model("hi", "ta", tmp_path / "models", url=f"{server.url}/index.json", show_progress=False)
    finally:
        server.close()


def test_install_rejects_truncated_download(package, tmp_path):
    body = package.read_bytes()
    server = IndexServer({}, lie_about_length={"/translate-en_hi-0_0_3.argosmodel"})
    try:
        server.files["/index.json"] = _index(server.url, body)
        server.files["/translate-en_hi-0_0_3.argosmodel"] = body
        with pytest.raises(DownloadError, match="incomplete|failed"):
            install_model("en", "hi", tmp_path / "models", url=f"{server.url}/index.json", show_progress=False)
    finally:
        server.close()


def test_install_offline_is_one_clear_line(tmp_path, capsys):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = main(["--home", str(tmp_path), "models", "install", "en", "hi", "--no-progress",
                 "--index", f"http://127.0.0.1:{port}/index.json"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "cannot reach the model index" in err and "models import" in err


def test_describe_recognises_model_families(tmp_path):
    from samachar.models.tiny import train_sentencepiece, write_ct2_model

    sp = train_sentencepiece()
    base = ["<unk>", "<s>", "</s>", "▁a", "▁b"]
    nllb = tmp_path / "nllb-200-distilled-600M"
    write_ct2_model(nllb, base + ["eng_Latn", "hin_Deva", "spa_Latn"])
    (nllb / "sentencepiece.bpe.model").write_bytes(sp)
    info = describe_model(nllb)
    assert info.kind == "nllb" and set(info.sources) == {"en", "hi", "es"} and info.supports("en", "hi")

    m2m = tmp_path / "m2m100_418M"
    write_ct2_model(m2m, base + ["__en__", "__hi__"])
    (m2m / "sentencepiece.bpe.model").write_bytes(sp)
    assert describe_model(m2m).kind == "m2m100"

    marian = tmp_path / "opus-mt-en-hi"
    write_ct2_model(marian, base)
    (marian / "source.spm").write_bytes(sp)
    (marian / "target.spm").write_bytes(sp)
    info = describe_model(marian)
    assert (info.kind, info.source, info.target) == ("marian", "en", "hi")

    indic = tmp_path / "indictrans2-en-indic-ct2"
    write_ct2_model(indic, base + ["eng_Latn", "hin_Deva", "ben_Beng"])
    (indic / "vocab").mkdir()
    (indic / "vocab" / "model.SRC").write_bytes(sp)
    (indic / "vocab" / "model.TGT").write_bytes(sp)
    info = describe_model(indic)
    assert info.kind == "indictrans2" and info.sources == ("en",) and set(info.targets) == {"hi", "bn"}

    nameless = tmp_path / "converted"
    shutil.copytree(marian, nameless)
    with pytest.raises(ConfigError, match="--from and --to"):
        describe_model(nameless)
    assert describe_model(nameless, source="en", target="hi").kind == "marian"
