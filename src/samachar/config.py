"""The home folder and its ``samachar.toml``.

Everything a site owns lives in one folder: ``$SAMACHAR_HOME``, else
``$XDG_DATA_HOME/samachar`` (``~/.local/share/samachar``). It holds
``samachar.toml``, ``samachar.db`` (SQLite), ``site/`` (the static export) and
``models/`` (installed translation models).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from samachar.errors import ConfigError

CONFIG_NAME = "samachar.toml"


def home_dir() -> Path:
    if os.environ.get("SAMACHAR_HOME"):
        return Path(os.environ["SAMACHAR_HOME"]).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "samachar"


@dataclass
class SiteConfig:
    """How the built-in site looks and links."""

    language: str = "hi"
    title: str = "समाचार"
    base_url: str = ""  # absolute URL of the published site, used in feeds
    canonical: str = "original"  # "original": rel=canonical to the source; "self"
    per_page: int = 20
    attribution_template: str | None = None  # path to an operator template


@dataclass
class TranslationConfig:
    source_language: str = "en"
    engines: list[str] = field(default_factory=lambda: ["auto"])  # fallback chain
    hold_on_error: bool = True  # error-level QA flags hold the article for review
    options: dict[str, dict[str, Any]] = field(default_factory=dict)  # [translation.options.<engine>]


@dataclass
class FetchConfig:
    allow_private_networks: bool = False
    user_agent: str = "samachar/0.1 (+https://github.com/samachar/samachar; news syndication)"
    timeout: float = 20.0
    max_bytes: int = 10 * 1024 * 1024
    per_host: int = 2
    host_interval: float = 0.0  # minimum seconds between requests to one host (politeness)
    respect_robots: bool = True


@dataclass
class Config:
    home: Path
    site: SiteConfig = field(default_factory=SiteConfig)
    translation: TranslationConfig = field(default_factory=TranslationConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    default_policy: str = "excerpt"
    excerpt_words: int = 60

    @property
    def db_url(self) -> str:
        return os.environ.get("SAMACHAR_DATABASE_URL") or f"sqlite:///{self.home / 'samachar.db'}"

    @property
    def site_dir(self) -> Path:
        return self.home / "site"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def allow_private_networks(self) -> bool:
        env = os.environ.get("SAMACHAR_ALLOW_PRIVATE_NETWORKS")
        if env is not None and env != "":
            return env.strip().lower() in ("1", "true", "yes", "on")
        return self.fetch.allow_private_networks


def _section(cls: type, data: dict[str, Any], name: str) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{CONFIG_NAME}: unknown key(s) in [{name}]: {', '.join(sorted(unknown))}")
    return cls(**data)


def load_config(home: Path | None = None) -> Config:
    """Read ``samachar.toml`` from the home; defaults where it is absent."""
    home = home or home_dir()
    path = home / CONFIG_NAME
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}; fix the file or run 'samachar init' again") from exc
    top = {k: v for k, v in data.items() if not isinstance(v, dict)}
    unknown = set(top) - {"default_policy", "excerpt_words"}
    if unknown:
        raise ConfigError(f"{path}: unknown key(s): {', '.join(sorted(unknown))}")
    translation = dict(data.get("translation", {}))
    if isinstance(translation.get("engines"), str):
        translation["engines"] = [translation["engines"]]
    return Config(
        home=home,
        site=_section(SiteConfig, data.get("site", {}), "site"),
        translation=_section(TranslationConfig, translation, "translation"),
        fetch=_section(FetchConfig, data.get("fetch", {}), "fetch"),
        **top,
    )


def write_config(home: Path, *, language: str, engines: list[str] | None = None, title: str | None = None,
                 source_language: str = "en", base_url: str = "") -> Path:
    """Create the home and its ``samachar.toml`` (overwrites an existing one)."""
    home.mkdir(parents=True, exist_ok=True)
    engines = engines or ["auto"]
    site_title = title or {"hi": "समाचार", "es": "Noticias", "en": "News"}.get(language, "samachar")
    text = (
        "# samachar site configuration; see README.md\n"
        'default_policy = "excerpt"   # full | excerpt | link, per source overrides\n'
        "excerpt_words = 60\n\n"
        "[site]\n"
        f'language = "{language}"\n'
        f'title = "{site_title}"\n'
        f'base_url = "{base_url}"\n'
        'canonical = "original"      # original | self\n\n'
        "[translation]\n"
        f'source_language = "{source_language}"\n'
        f"engines = [{', '.join(repr(e).replace(chr(39), chr(34)) for e in engines)}]  # tried in order; \"auto\" picks an installed one\n"
        "hold_on_error = true\n\n"
        "[fetch]\n"
        "allow_private_networks = false\n"
    )
    path = home / CONFIG_NAME
    path.write_text(text, encoding="utf-8")
    return path
