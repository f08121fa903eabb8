"""`lgcaa config ACTION [PROFILE_OR_FILE]`: print, validate or explain profile configs.

  lgcaa config show [CONFIG] [--format yaml]   the validated config as JSON or YAML (a starting point for your own)
  lgcaa config validate [CONFIG]   check it against the schema and its cross-references
  lgcaa config schema              the profile schema with its registry enums filled in
"""

from __future__ import annotations

import argparse
import json

from lgcaa.config import load_config, schema


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, help_text in (("show", "print the validated config as JSON"),
                            ("validate", "check a config against the schema and its cross-references")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("config", nargs="?", default=None, help="profile name or file (default: mini)")
        if name == "show":
            p.add_argument("--format", choices=("json", "yaml"), default="json",
                           help="json (default) or yaml (what `--configfile my.yaml` and `lgcaa --config my.yaml` read)")
    sub.add_parser("schema", help="print the profile schema, registry enums filled in")


def run(args: argparse.Namespace) -> int:
    if args.action == "schema":
        print(json.dumps(schema(), indent=2, ensure_ascii=False))
        return 0
    cfg = load_config(args.config)
    if args.action == "validate":
        print(f"{cfg['profile']}: valid")
    elif args.format == "yaml":
        import yaml

        print(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), end="")
    else:
        print(json.dumps(cfg, indent=2))
    return 0
