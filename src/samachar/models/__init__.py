"""Translation models installed in the home's ``models/`` folder (see ``registry`` for the layout)."""

from __future__ import annotations

from samachar.models.registry import (
    InstalledModel,
    describe_model,
    find_model,
    import_model,
    list_models,
    remove_models,
)

__all__ = ["InstalledModel", "describe_model", "find_model", "import_model", "install_model", "list_models",
           "remove_models"]


def install_model(*args, **kwargs) -> InstalledModel:
    """Download from the Argos package index and import; see ``argos_index.install_model``."""
    from samachar.models.argos_index import install_model as install

    return install(*args, **kwargs)
