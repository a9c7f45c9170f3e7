"""The models folder: what is installed, importing packages into it, removing them.

Every model lives in its own sub-folder of ``Config.models_dir``. On import
samachar works out what kind of model it is and writes that down next to it
in ``samachar-model.json``, so the engine never has to guess again::

    models/
      argos-en-hi-1.1/          an Argos Translate package, unpacked
        samachar-model.json     {"kind": "argos", "sources": ["en"], "targets": ["hi"], ...}
        metadata.json  model/  sentencepiece.model
      nllb-200-distilled-600M/  a converted NLLB-200 checkpoint
        samachar-model.json  model.bin  shared_vocabulary.txt  sentencepiece.bpe.model

Kinds, and how each is recognised:

1. ``argos``: ``metadata.json`` with ``from_code``/``to_code`` and a ``model/`` folder.
2. ``indictrans2``: a CTranslate2 folder with ``vocab/model.SRC`` and ``vocab/model.TGT`` (or
   those next to it in ``../fairseq_model/vocab``, as AI4Bharat's release zips hold them);
   the language tags are read from the source vocabulary and the direction from which
   side's vocabulary is English, else from the folder names (``en-indic``, ``indic-en``).
3. ``nllb``: a CTranslate2 folder whose vocabulary holds FLORES tokens (``hin_Deva``).
4. ``m2m100``: a CTranslate2 folder whose vocabulary holds ``__hi__`` tokens.
5. ``marian``: a CTranslate2 folder with ``source.spm`` and ``target.spm`` (converted OPUS-MT).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from samachar.errors import ConfigError
from samachar.models.languages import FLORES_TO_ISO, ISO3_TO_ISO

log = logging.getLogger(__name__)

RECORD_NAME = "samachar-model.json"
KIND_PREFERENCE = ("indictrans2", "nllb", "m2m100", "marian", "argos")  # best first, for a pair
MAX_UNPACKED_BYTES = 16 * 1024**3  # refuse zip bombs; the largest real packages are a few GB
MULTIPLE = "mul"  # ISO 639-2 "multiple languages", shown for multilingual models


@dataclass(frozen=True)
class InstalledModel:
    """One model in the models folder and how to drive it."""

    path: Path
    kind: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    name: str
    version: str = ""
    engine: str = "ctranslate2"
    model_dir: str = "."  # the CTranslate2 folder, relative to ``path``
    source_spm: str = "sentencepiece.model"
    target_spm: str = "sentencepiece.model"
    target_prefix: tuple[str, ...] = ()  # Argos packages may name one in metadata.json
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def source(self) -> str:
        return self.sources[0] if len(self.sources) == 1 else MULTIPLE

    @property
    def target(self) -> str:
        return self.targets[0] if len(self.targets) == 1 else MULTIPLE

    @property
    def id(self) -> str:
        """Names the weights; part of the translation-memory key."""
        return f"{self.kind}:{self.name}" + (f"@{self.version}" if self.version else "")

    def supports(self, source: str, target: str) -> bool:
        return source != target and source in self.sources and target in self.targets

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "engine": self.engine, "path": str(self.path),
                "kind": self.kind, "name": self.name, "version": self.version,
                "sources": list(self.sources), "targets": list(self.targets)}

    def record(self) -> dict[str, Any]:
        return {"kind": self.kind, "engine": self.engine, "name": self.name, "version": self.version,
                "sources": list(self.sources), "targets": list(self.targets), "model_dir": self.model_dir,
                "source_spm": self.source_spm, "target_spm": self.target_spm,
                "target_prefix": list(self.target_prefix), **({"extra": self.extra} if self.extra else {})}


# -- recognising a model folder -------------------------------------------------------------------

def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read JSON ({exc})") from exc


def read_vocabulary(model_dir: Path) -> list[str]:
    """The target (or shared) vocabulary of a CTranslate2 model folder."""
    for stem in ("shared_vocabulary", "target_vocabulary"):
        if (model_dir / f"{stem}.json").exists():
            return list(_read_json(model_dir / f"{stem}.json"))
        if (model_dir / f"{stem}.txt").exists():
            return (model_dir / f"{stem}.txt").read_text(encoding="utf-8").splitlines()
    return []


def read_source_vocabulary(model_dir: Path) -> list[str]:
    """The source vocabulary of a CTranslate2 model folder (where IndicTrans2 keeps its language tags)."""
    for name in ("source_vocabulary.json", "source_vocabulary.txt"):
        path = model_dir / name
        if path.exists():
            return list(_read_json(path)) if name.endswith(".json") else path.read_text(encoding="utf-8").splitlines()
    return []


def _vocabulary_side(pieces: list[str]) -> str | None:
    """``"en"`` when a vocabulary is clearly English pieces, ``"indic"`` when clearly Indic-script ones, else None."""
    latin = indic = 0
    for piece in pieces:
        if piece in FLORES_TO_ISO or re.fullmatch(r"<[^>]*>", piece):
            continue  # language tags and <s>, <unk>… say nothing about the side
        if re.search(r"[A-Za-z]", piece):
            latin += 1
        elif re.search(r"[\u0600-\u06ff\u0900-\u0dff\u1c50-\u1c7f\uabc0-\uabff]", piece):
            indic += 1
    if latin > 3 * indic:
        return "en"
    if indic > 3 * latin:
        return "indic"
    return None


INDICTRANS2_VOCAB_DIRS = ("vocab", "../fairseq_model/vocab", "../vocab")
INDICTRANS2_PREFERRED = ("ct2_int8_model", "ct2_fp16_model")  # release folders, smallest first


def _indictrans2_vocab(root: Path) -> str | None:
    """Where an IndicTrans2 CTranslate2 folder's SentencePiece models are, relative to it."""
    for folder in INDICTRANS2_VOCAB_DIRS:
        if (root / folder / "model.SRC").is_file() and (root / folder / "model.TGT").is_file():
            return folder
    return None


def _indictrans2_direction(root: Path, origin: str) -> tuple[str, str] | None:
    """("en", "indic"), ("indic", "en") or ("indic", "indic") from the vocabularies, else from the path names."""
    source_side = _vocabulary_side(read_source_vocabulary(root))
    target_side = None
    if not (root / "shared_vocabulary.json").exists() and not (root / "shared_vocabulary.txt").exists():
        target_side = _vocabulary_side(read_vocabulary(root))
    if source_side and target_side and (source_side, target_side) != ("en", "en"):
        return source_side, target_side
    lowered = f"{origin}/{root}".lower()
    for pattern, direction in ((r"indic[-_2]?en", ("indic", "en")), (r"en[-_2]?indic", ("en", "indic")),
                               (r"indic[-_2]?indic|m2m", ("indic", "indic"))):
        if re.search(pattern, lowered):
            return direction
    return None


def _indictrans2_name(root: Path, origin: str) -> str:
    """A release folder is called ``ct2_int8_model`` whatever its direction: name it with its package."""
    if re.fullmatch(r"ct2_\w*model", root.name):
        parents = [p for p in (PurePosixPath(origin).parent.name if origin else "", root.parent.name)
                   if p and not p.startswith(".import-")]
        if parents:
            return f"{parents[0]}-{root.name}"
    return root.name


def _first_existing(root: Path, *names: str) -> str | None:
    for name in names:
        if (root / name).is_file():
            return name
    return None


def _pair_from_name(name: str) -> tuple[str, str] | None:
    """``opus-mt-en-hi`` or ``en_hi`` → (``en``, ``hi``): the last two adjacent language codes in the name."""
    from samachar.models.languages import ISO3

    known = set(ISO3) | set(ISO3_TO_ISO)
    parts = [p for p in re.split(r"[-_/.]", name.lower()) if p]
    for a, b in reversed(list(zip(parts, parts[1:], strict=False))):
        if a in known and b in known:
            return ISO3_TO_ISO.get(a, a), ISO3_TO_ISO.get(b, b)
    return None


def describe_model(root: Path, *, source: str | None = None, target: str | None = None,
                   origin: str | Path | None = None) -> InstalledModel:
    """Work out what kind of model ``root`` holds; ``source``/``target`` override the pair.

    ``origin`` is where an imported copy came from: its name may tell what the copy's cannot.
    """
    root = Path(root)
    origin = str(origin or "")
    if (root / RECORD_NAME).exists():
        data = _read_json(root / RECORD_NAME)
        return InstalledModel(path=root, kind=data["kind"], sources=tuple(data["sources"]),
                              targets=tuple(data["targets"]), name=data.get("name", root.name),
                              version=data.get("version", ""), engine=data.get("engine", "ctranslate2"),
                              model_dir=data.get("model_dir", "."), source_spm=data.get("source_spm", ""),
                              target_spm=data.get("target_spm", ""),
                              target_prefix=tuple(data.get("target_prefix") or ()), extra=data.get("extra", {}))

    metadata_path = root / "metadata.json"
    if metadata_path.exists():
        meta = _read_json(metadata_path)
        if not isinstance(meta, dict) or not meta.get("from_code") or not meta.get("to_code"):
            raise ConfigError(f"{metadata_path}: not an Argos package (no from_code/to_code)")
        model_dir = "model"
        if not (root / model_dir / "model.bin").exists():
            raise ConfigError(f"{root}: Argos package without model/model.bin")
        spm_source = _first_existing(root, "sentencepiece.model", "model/sentencepiece.model", "source.spm", "model/source.spm")
        spm_target = _first_existing(root, "sentencepiece.model", "model/sentencepiece.model", "target.spm", "model/target.spm")
        if not spm_source or not spm_target:
            raise ConfigError(f"{root}: Argos package without a SentencePiece model (sentencepiece.model)")
        prefix = meta.get("target_prefix") or ()
        return InstalledModel(path=root, kind="argos", sources=(source or meta["from_code"],),
                              targets=(target or meta["to_code"],), name=str(meta.get("package_name") or root.name),
                              version=str(meta.get("package_version", "")), model_dir=model_dir,
                              source_spm=spm_source, target_spm=spm_target,
                              target_prefix=tuple(prefix.split() if isinstance(prefix, str) else prefix))

    if not (root / "model.bin").exists():
        raise ConfigError(f"{root}: neither an Argos package (metadata.json) nor a CTranslate2 model (model.bin)")
    vocabulary = set(read_vocabulary(root))
    flores = sorted(FLORES_TO_ISO[token] for token in vocabulary if token in FLORES_TO_ISO)

    indic_vocab = _indictrans2_vocab(root)
    if indic_vocab is not None:
        # IndicTrans2: one checkpoint per direction family (en-indic, indic-en, indic-indic); its
        # language tags (eng_Latn, hin_Deva…) are source tokens, so they are in the source vocabulary.
        tags = set(read_source_vocabulary(root)) | vocabulary
        languages = sorted({FLORES_TO_ISO[t] for t in tags if t in FLORES_TO_ISO}) or ["en", "hi"]
        indic = tuple(code for code in languages if code != "en")
        direction = _indictrans2_direction(root, origin)
        if source and target:
            sources, targets = (source,), (target,)
        elif direction == ("indic", "en"):
            sources, targets = indic, ("en",)
        elif direction == ("en", "indic"):
            sources, targets = ("en",), indic
        else:
            sources = targets = indic
        return InstalledModel(path=root, kind="indictrans2", sources=sources, targets=targets,
                              name=_indictrans2_name(root, origin),
                              source_spm=f"{indic_vocab}/model.SRC", target_spm=f"{indic_vocab}/model.TGT")

    spm_shared = _first_existing(root, "sentencepiece.bpe.model", "sentencepiece.model", "spm.128k.model")
    if len(flores) >= 2 and spm_shared:
        languages = (source, target) if source and target else tuple(flores)
        return InstalledModel(path=root, kind="nllb", sources=languages, targets=languages, name=root.name,
                              source_spm=spm_shared, target_spm=spm_shared)
    m2m = sorted(token[2:-2] for token in vocabulary if re.fullmatch(r"__[a-z]{2,3}__", token))
    if len(m2m) >= 2 and spm_shared:
        languages = (source, target) if source and target else tuple(m2m)
        return InstalledModel(path=root, kind="m2m100", sources=languages, targets=languages, name=root.name,
                              source_spm=spm_shared, target_spm=spm_shared)

    if (root / "source.spm").exists() and (root / "target.spm").exists():
        pair = (source, target) if source and target else _pair_from_name(root.name)
        if pair is None:
            raise ConfigError(f"{root}: an OPUS-MT model whose languages cannot be told from its name; "
                              "give them with --from and --to")
        prefixes = sorted(t for t in vocabulary if re.fullmatch(r">>[a-z_]{2,8}<<", t))
        return InstalledModel(path=root, kind="marian", sources=(pair[0],), targets=(pair[1],), name=root.name,
                              source_spm="source.spm", target_spm="target.spm",
                              extra={"multi_target": True} if len(prefixes) > 1 else {})
    if spm_shared and source and target:
        return InstalledModel(path=root, kind="marian", sources=(source,), targets=(target,), name=root.name,
                              source_spm=spm_shared, target_spm=spm_shared)
    raise ConfigError(f"{root}: a CTranslate2 model without a tokenizer samachar recognises "
                      "(expected source.spm/target.spm, sentencepiece.bpe.model or vocab/model.SRC)")


# -- the folder -----------------------------------------------------------------------------------

def list_models(models_dir: Path | None) -> list[InstalledModel]:
    """Installed models, sorted by folder name; unreadable folders are skipped with a warning."""
    if models_dir is None or not Path(models_dir).is_dir():
        return []
    found = []
    for child in sorted(Path(models_dir).iterdir()):
        if not child.is_dir() or child.name.startswith("."):
            continue
        try:
            found.append(describe_model(child))
        except (ConfigError, KeyError, OSError) as exc:
            log.warning("skipping %s: %s", child, exc)
    return found


def find_model(models_dir: Path | None, source: str, target: str, name: str | None = None) -> InstalledModel | None:
    """The installed model for a pair: pinned by ``name`` when given, else the best kind."""
    candidates = [m for m in list_models(models_dir) if m.supports(source, target)]
    if name:
        candidates = [m for m in candidates if name in (m.name, m.path.name, m.id)]
    if not candidates:
        return None
    rank = {kind: i for i, kind in enumerate(KIND_PREFERENCE)}
    return min(candidates, key=lambda m: (rank.get(m.kind, len(rank)), len(m.sources) * len(m.targets)))


def _slug(model: InstalledModel) -> str:
    base = f"{model.kind}-{model.source}-{model.target}" if model.kind in ("argos", "marian") else model.name
    if model.version and model.kind == "argos":
        base += f"-{model.version}"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "model"


def _safe_extract(archive: zipfile.ZipFile, destination: Path, members: list[str] | None = None) -> None:
    total = 0
    wanted = set(members) if members is not None else None
    for member in archive.infolist():
        name = PurePosixPath(member.filename)
        if name.is_absolute() or ".." in name.parts:
            raise ConfigError(f"refusing package member outside the package: {member.filename!r}")
        if wanted is not None and member.filename not in wanted:
            continue
        total += member.file_size
        if total > MAX_UNPACKED_BYTES:
            raise ConfigError("package unpacks to more than 16 GiB; refusing it")
    archive.extractall(destination, members=members)


def _indictrans2_members(names: list[str]) -> list[str] | None:
    """For an AI4Bharat IndicTrans2 release zip, the members worth unpacking: one CTranslate2 folder and the
    SentencePiece models; the fairseq checkpoint and the other CTranslate2 variant (gigabytes) stay packed."""
    folders = sorted(str(PurePosixPath(n).parent) for n in names
                     if PurePosixPath(n).name == "model.bin" and PurePosixPath(n).parent.name.startswith("ct2_"))
    if not folders or not any(n.endswith("/model.SRC") for n in names):
        return None
    rank = {name: i for i, name in enumerate(INDICTRANS2_PREFERRED)}
    chosen = min(folders, key=lambda f: (rank.get(PurePosixPath(f).name, len(rank)), f))
    top = PurePosixPath(chosen).parent
    return [n for n in names if n.startswith(chosen + "/") or (
        PurePosixPath(n).parent.name == "vocab" and PurePosixPath(n).name in ("model.SRC", "model.TGT")
        and top in PurePosixPath(n).parents)]


def _indictrans2_release_root(folder: Path) -> Path | None:
    """In an IndicTrans2 release folder (``ct2_int8_model/``, ``ct2_fp16_model/``, ``fairseq_model/``), the
    CTranslate2 folder to use, with the SentencePiece models copied into its ``vocab/`` if it lacks them."""
    candidates = sorted(c for c in folder.iterdir() if c.is_dir() and c.name.startswith("ct2_")
                        and (c / "model.bin").exists())
    if not candidates:
        return None
    rank = {name: i for i, name in enumerate(INDICTRANS2_PREFERRED)}
    chosen = min(candidates, key=lambda c: (rank.get(c.name, len(rank)), c.name))
    _adopt_indictrans2_vocab(chosen, folder)
    return chosen if _indictrans2_vocab(chosen) else None


def _adopt_indictrans2_vocab(model_dir: Path, release: Path) -> None:
    """Copy ``model.SRC``/``model.TGT`` from a release folder into ``model_dir/vocab`` so the copy stands alone."""
    if (model_dir / "vocab" / "model.SRC").is_file() and (model_dir / "vocab" / "model.TGT").is_file():
        return
    for folder in (release / "fairseq_model" / "vocab", release / "vocab"):
        if (folder / "model.SRC").is_file() and (folder / "model.TGT").is_file():
            (model_dir / "vocab").mkdir(exist_ok=True)
            for name in ("model.SRC", "model.TGT"):
                shutil.copyfile(folder / name, model_dir / "vocab" / name)
            return


def _package_root(folder: Path) -> Path:
    """The folder inside an unpacked package that holds the model (packages wrap it in one folder)."""
    if (folder / "metadata.json").exists() or (folder / "model.bin").exists() or (folder / RECORD_NAME).exists():
        return folder
    release = _indictrans2_release_root(folder)
    if release is not None:
        return release
    children = [c for c in folder.iterdir() if not c.name.startswith(".") and c.name != "__MACOSX"]
    if len(children) == 1 and children[0].is_dir():
        return _package_root(children[0])
    raise ConfigError(f"{folder.name}: no metadata.json or model.bin found in the package")


def import_model(path: Path, models_dir: Path, *, source: str | None = None, target: str | None = None) -> InstalledModel:
    """Copy a package file (``.argosmodel``/``.zip``) or a model folder into ``models_dir``.

    An installed model of the same kind for the same languages is replaced, so
    importing a newer version of a package upgrades it.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise ConfigError(f"{path}: no such file or folder")
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=models_dir))
    try:
        if path.is_dir():
            unpacked = staging / path.name
            shutil.copytree(path, unpacked)
            if (unpacked / "model.bin").exists() and not _indictrans2_vocab(unpacked):
                _adopt_indictrans2_vocab(unpacked, path.parent)  # ct2_int8_model/ imported out of its release
        else:
            try:
                with zipfile.ZipFile(path) as archive:
                    bad = archive.testzip()
                    if bad is not None:
                        raise ConfigError(f"{path.name}: corrupt package (member {bad} fails its CRC check)")
                    _safe_extract(archive, staging, _indictrans2_members(archive.namelist()))
            except zipfile.BadZipFile as exc:
                raise ConfigError(f"{path.name}: not a model package (expected a zip such as .argosmodel: {exc})") from exc
            unpacked = staging
        root = _package_root(unpacked)
        origin = path.resolve() if path.is_dir() else path.resolve().with_suffix("") / root.relative_to(staging)
        described = describe_model(root, source=source, target=target, origin=origin)
        record_path = root / RECORD_NAME
        record_path.write_text(json.dumps(described.record(), ensure_ascii=False, indent=1), encoding="utf-8")
        destination = models_dir / _slug(described)
        for old in list_models(models_dir):
            if old.kind == described.kind and old.sources == described.sources and old.targets == described.targets:
                log.info("replacing %s with %s", old.path.name, destination.name)
                shutil.rmtree(old.path)
        if destination.exists():
            shutil.rmtree(destination)
        root.rename(destination)
        return describe_model(destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def remove_models(models_dir: Path, *, source: str | None = None, target: str | None = None,
                  name_or_path: str | None = None) -> list[InstalledModel]:
    """Delete the models for a pair, or the one named by folder name, id or path; returns them."""
    doomed = []
    for model in list_models(models_dir):
        if name_or_path is not None:
            wanted = Path(name_or_path).expanduser()
            hit = name_or_path in (model.name, model.path.name, model.id) or (
                wanted.exists() and wanted.resolve() == model.path.resolve())
        else:
            hit = model.source == source and model.target == target
        if hit:
            doomed.append(model)
    for model in doomed:
        shutil.rmtree(model.path)
    return doomed
