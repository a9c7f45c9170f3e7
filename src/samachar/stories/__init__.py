"""Stories: entries that report one event, from one wire text or written apart, share a story.

``StoryIndex(store).place(item)`` puts an extracted entry in its story; see :mod:`samachar.stories.index`
for how, :mod:`samachar.stories.similarity` for the pluggable similarity, and
:mod:`samachar.stories.evaluate` for the scores on the labeled set.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from samachar.stories.index import StoryIndex
    from samachar.stories.model import Placement, StoryError, StoryItem, StoryRow, StorySettings
    from samachar.stories.similarity import LexicalSimilarity, StorySimilarity

# Imported on first use, so that registering ``samachar story`` costs every other command nothing.
_HOMES = {"StoryIndex": "index", "LexicalSimilarity": "similarity", "StorySimilarity": "similarity",
          **dict.fromkeys(("Placement", "StoryError", "StoryItem", "StoryRow", "StorySettings"), "model")}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)


__all__ = ["LexicalSimilarity", "Placement", "StoryError", "StoryIndex", "StoryItem", "StoryRow", "StorySettings",
           "StorySimilarity"]
