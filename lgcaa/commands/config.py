"""`lgcaa config show|validate [PROFILE_OR_FILE]`."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["show", "validate"])
    parser.add_argument("config", nargs="?", default=None, help="profile name or file (default: mini)")


def run(args: argparse.Namespace) -> int:
    from lgcaa.config import load_config

    cfg = load_config(args.config)
    print(json.dumps(cfg, indent=2) if args.action == "show" else f"{cfg['profile']}: valid")
    return 0
