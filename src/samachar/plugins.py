"""Extension classes by name: one grammar for engines and publish targets alike.

A name is either registered in an entry-point group (``samachar.engines``,
``samachar.targets``; the built-ins are registered there too) or written as
``package.module:Class``.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from samachar.errors import ConfigError


def load_class(spec: str, group: str, what: str) -> type:
    """The class a name stands for; ``what`` ("engine", "target kind") words the one-line errors."""
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        try:
            found: type = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"cannot load {what} {spec!r}: {exc}") from None
        return found
    entries = {ep.name: ep for ep in entry_points(group=group)}
    if spec not in entries:
        names = ", ".join(sorted(entries)) or "none"
        raise ConfigError(f"unknown {what} {spec!r}; installed {what}s: {names}")
    loaded: type = entries[spec].load()
    return loaded
