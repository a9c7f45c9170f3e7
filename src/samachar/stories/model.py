"""What the story index takes and gives back (the pinned API of issue 15)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from samachar.errors import SamacharError


class StoryError(SamacharError):
    """A story correction that cannot be made (an entry never placed, an entry not in the story)."""


@dataclass(frozen=True)
class StoryItem:
    entry_id: int
    source_id: int | None
    lang: str  # the article's language
    title: str
    text: str  # plain text of the extracted body, paragraphs joined by "\n\n"
    published: datetime  # aware; the publisher's date, else when first seen


@dataclass(frozen=True)
class Placement:
    story_id: int  # every placed entry has a story (a story of one when alone)
    size: int  # members after placing (1: alone)
    near_duplicate_of: int | None  # entry id of the near-verbatim copy it matched, if any
    score: float  # the similarity that decided (0.0 when alone)


@dataclass(frozen=True)
class StoryRow:
    story_id: int
    members: list[int]  # entry ids, first seen first
    first_seen_at: datetime
    primary_entry_id: int | None


@dataclass(frozen=True)
class StorySettings:
    """How the index decides; ``window_hours`` comes from ``[stories] window_hours``."""

    window_hours: float = 72.0  # independent reports of one event are at most this far apart
    near_duplicate_hours: float = 168.0  # a wire copy is matched this far back (and the index keeps as much)
    near_duplicate_threshold: float = 0.5  # estimated Jaccard of body shingles at or above which it is a copy
    similarity: str = "lexical"  # a name in the entry-point group samachar.similarities, or module:Class
    threshold: float | None = None  # the similarity's own threshold unless given
