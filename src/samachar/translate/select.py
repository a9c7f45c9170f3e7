"""Choosing the engine for a language pair from configuration and what is installed."""

from __future__ import annotations

from samachar.errors import PairNotInstalled
from samachar.translate.engine import Engine, engine_supports, load_engine

AUTO_ORDER = ("apertium",)


def resolve_engine(names: list[str], source: str, target: str) -> Engine:
    """The first engine in ``names`` that supports the pair; ``auto`` tries the installed ones."""
    tried: list[str] = []
    for name in names:
        candidates = AUTO_ORDER if name == "auto" else (name,)
        for candidate in candidates:
            engine = load_engine(candidate)
            if engine_supports(engine, source, target):
                return engine
            tried.append(candidate)
    raise PairNotInstalled(
        f"no installed engine translates {source}→{target} (tried: {', '.join(tried) or 'none'}); "
        "install a model with 'samachar models import' or Apertium pairs with apt-get"
    )
