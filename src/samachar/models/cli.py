"""``samachar models``: import, install, list and remove translation models.

The main CLI calls ``register(subparsers)``; each subcommand stores its
handler as ``func``, called as ``func(args, config)`` (``handle`` does the same
for callers that dispatch themselves).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from samachar.config import Config
from samachar.errors import SamacharError


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("models", help="translation models (CTranslate2) in HOME/models")
    actions = parser.add_subparsers(dest="models_action", required=True)

    p = actions.add_parser("import", help="import a model package (.argosmodel/.zip) or folder")
    p.add_argument("path", metavar="PATH", help="the package file or the model's folder")
    p.add_argument("--from", dest="source", help="source language, when the package does not say")
    p.add_argument("--to", dest="target", help="target language, when the package does not say")
    p.set_defaults(func=cmd_models_import)

    p = actions.add_parser("install", help="download the Argos package for a pair and import it")
    p.add_argument("source", metavar="FROM", help="source language, e.g. en")
    p.add_argument("target", metavar="TO", help="target language, e.g. hi")
    p.add_argument("--index", help="URL of the package index (default: $SAMACHAR_MODEL_INDEX or Argos's)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_models_install)

    p = actions.add_parser("list", help="installed models")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_models_list)

    p = actions.add_parser("remove", help="remove the models for FROM TO, or one model by name or path")
    p.add_argument("what", nargs="+", metavar="FROM TO | NAME | PATH", help="a language pair, a model's name or its path")
    p.set_defaults(func=cmd_models_remove)
    return parser


def handle(args: argparse.Namespace, config: Config) -> int:
    return int(args.func(args, config) or 0)


def _describe(model) -> str:
    pair = f"{model.source}→{model.target}"
    if len(model.sources) > 1 or len(model.targets) > 1:
        pair += f" ({len(set(model.sources) | set(model.targets))} languages)"
    version = f" {model.version}" if model.version else ""
    return f"{pair:<12} {model.kind:<12} {model.name}{version}  {model.path}"


def cmd_models_import(args, config: Config) -> int:
    from samachar.models.registry import import_model

    model = import_model(Path(args.path), config.models_dir, source=args.source, target=args.target)
    print(f"imported {model.source}→{model.target} ({model.kind}) into {model.path}")
    return 0


def cmd_models_install(args, config: Config) -> int:
    from samachar.models.argos_index import install_model

    model = install_model(args.source, args.target, config.models_dir, url=args.index,
                          show_progress=not args.no_progress)
    print(f"installed {model.source}→{model.target} ({model.name} {model.version}) into {model.path}")
    return 0


def cmd_models_list(args, config: Config) -> int:
    from samachar.models.registry import list_models

    models = list_models(config.models_dir)
    if args.json:
        print(json.dumps([m.as_json() for m in models], ensure_ascii=False, indent=2))
        return 0
    if not models:
        print(f"no models in {config.models_dir}; add one with 'samachar models install FROM TO' "
              "or 'samachar models import PACKAGE'")
    for model in models:
        print(_describe(model))
    return 0


def cmd_models_remove(args, config: Config) -> int:
    from samachar.models.registry import remove_models

    if len(args.what) == 2:
        removed = remove_models(config.models_dir, source=args.what[0], target=args.what[1])
    elif len(args.what) == 1:
        removed = remove_models(config.models_dir, name_or_path=args.what[0])
    else:
        raise SamacharError("models remove takes FROM TO, or one NAME or PATH")
    if not removed:
        raise SamacharError(f"no installed model matches {' '.join(args.what)}; see 'samachar models list'")
    for model in removed:
        print(f"removed {model.source}→{model.target} ({model.kind}) {model.path}")
    return 0
