"""The ASGI app that serves the published site (``samachar serve``)."""
