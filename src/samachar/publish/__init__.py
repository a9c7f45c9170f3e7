"""Publishing: the built-in site, its feeds, search and the static export.

``site`` renders every page from :class:`samachar.model.PublishedArticle`
objects with the Jinja templates under ``templates/``; ``feeds`` writes RSS,
Atom and JSON Feed with lxml/json; ``search`` keeps an SQLite FTS5 index;
``i18n`` loads the gettext catalogs and formats dates with Babel. The live
ASGI app (``samachar.web.app``) serves the very same renderings.
"""
