"""Which language an article is translated from.

The operator's word for a source wins over the page's own ``lang``, which
publishers often leave at a template's default; without either, the site's
``[translation] source_language``.
"""

from __future__ import annotations


def source_language(source_setting: str | None, page_language: str | None, default: str) -> str:
    """The language to translate from: the source's setting, else the page's (``en-GB`` → ``en``), else ``default``."""
    if source_setting:
        return source_setting
    if page_language:
        return page_language.split("-")[0].split("_")[0].lower()
    return default
