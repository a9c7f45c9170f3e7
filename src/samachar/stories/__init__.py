"""Stories: entries that report one event, from one wire text or written apart, share a story.

``StoryIndex(store).place(item)`` puts an extracted entry in its story; see :mod:`samachar.stories.index`
for how, :mod:`samachar.stories.similarity` for the pluggable similarity, and
:mod:`samachar.stories.evaluate` for the scores on the labeled set.
"""

from samachar.stories.index import StoryIndex
from samachar.stories.model import Placement, StoryError, StoryItem, StoryRow, StorySettings
from samachar.stories.similarity import LexicalSimilarity, StorySimilarity

__all__ = ["LexicalSimilarity", "Placement", "StoryError", "StoryIndex", "StoryItem", "StoryRow", "StorySettings",
           "StorySimilarity"]
