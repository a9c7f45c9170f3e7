"""Sample published articles (Hindi, written for these tests) as model objects."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from samachar.model import Image, PublishedArticle, block_from_dict

HERE = Path(__file__).parent


def article_from_dict(data: dict) -> PublishedArticle:
    data = dict(data)
    data["blocks"] = [block_from_dict(b) for b in data.get("blocks", [])]
    data["image"] = Image(**data["image"]) if data.get("image") else None
    for key in ("published_at", "original_published"):
        if data.get(key):
            data[key] = datetime.fromisoformat(data[key])
    return PublishedArticle(**data)


def sample_articles() -> list[PublishedArticle]:
    """Eight articles from three sources, newest first, all three policies."""
    raw = json.loads((HERE / "sample_articles.json").read_text(encoding="utf-8"))
    return [article_from_dict(item) for item in raw]
