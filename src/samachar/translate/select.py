"""Choosing the engine for a language pair from configuration and what is installed.

``names`` comes from ``[translation] engines`` in samachar.toml. Each name is a
registered engine (``ctranslate2``, ``apertium``, ``openai``, ``deepl``…),
``package.module:Class``, or ``auto``, which stands for the best installed
engine for the pair: a CTranslate2 model from the models folder, else Apertium.
Engines that cannot do the pair are skipped; when several remain they form a
fallback chain (``FallbackEngine``) in the order given.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from samachar.errors import ConfigError, PairNotInstalled, RuntimeMissing
from samachar.translate.engine import Engine, engine_supports

AUTO_ORDER = ("ctranslate2", "apertium")


def engine_class(spec: str) -> type:
    """The class behind a registered engine name or ``package.module:Class``."""
    from samachar.plugins import load_class
    from samachar.translate.engine import ENTRY_POINT_GROUP

    return load_class(spec, ENTRY_POINT_GROUP, "engine")


def build_engine(spec: str, *, models_dir: Path | None = None, options: dict[str, Any] | None = None) -> Engine:
    """Instantiate an engine, handing it ``models_dir`` when its constructor takes one."""
    cls = engine_class(spec)
    kwargs = dict(options or {})
    if models_dir is not None and "models_dir" not in kwargs:
        try:
            accepts = "models_dir" in inspect.signature(cls).parameters
        except (TypeError, ValueError):
            accepts = False
        if accepts:
            kwargs["models_dir"] = models_dir
    return cls(**kwargs)


def resolve_engine(names: list[str], source: str, target: str, *, models_dir: Path | None = None,
                   options: dict[str, dict[str, Any]] | None = None) -> Engine:
    """The engine (or fallback chain) for ``source``→``target``.

    ``options`` maps an engine name to constructor keywords (``{"openai": {"model": "…"}}``).
    """
    options = options or {}
    chosen: list[Engine] = []
    tried: list[str] = []
    runtime_missing: list[RuntimeMissing] = []

    def usable(engine: Engine, name: str) -> bool:
        try:
            if engine_supports(engine, source, target):
                return True
        except RuntimeMissing as exc:
            runtime_missing.append(exc)
        tried.append(name)
        return False

    for name in names:
        if name == "auto":
            for candidate in AUTO_ORDER:
                try:
                    engine = build_engine(candidate, models_dir=models_dir, options=options.get(candidate))
                except ConfigError as exc:
                    tried.append(f"{candidate} ({exc})")
                    continue
                if usable(engine, candidate):
                    chosen.append(engine)
                    break
            continue
        engine = build_engine(name, models_dir=models_dir, options=options.get(name))
        if usable(engine, name):
            chosen.append(engine)
    if not chosen and runtime_missing:
        raise runtime_missing[0]
    if not chosen:
        raise PairNotInstalled(
            f"no installed engine translates {source}→{target} (tried: {', '.join(tried) or 'none'}); "
            f"install a model with 'samachar models install {source} {target}' or "
            "'samachar models import PACKAGE', or Apertium pairs with apt-get"
        )
    if len(chosen) == 1:
        return chosen[0]
    from samachar.translate.fallback import FallbackEngine

    return FallbackEngine(chosen)
