"""The `nghitruong` command: serve, demo, verify."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from chamber import verify_export
from server.i18n import t


def _verify(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="nghitruong verify", description="Check an exported sitting log offline."
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--lang", choices=("vi", "en"), default="vi")
    args = parser.parse_args(argv)
    try:
        document = args.file.read_bytes()
    except OSError as exc:
        print(
            t("cli.verify.unreadable", args.lang, file=str(args.file), error=exc.strerror),
            file=sys.stderr,
        )
        return 2
    result = verify_export(document)
    if result.ok:
        print(t("cli.verify.ok", args.lang, count=result.count, head=result.head))
        return 0
    print(
        t(
            "cli.verify.bad",
            args.lang,
            problem=t(f"cli.verify.problem.{result.problem}", args.lang),
            seq=result.seq or "-",
        ),
        file=sys.stderr,
    )
    return 1


def _demo(argv: list[str]) -> int:
    from server.demo import main as demo_main

    return demo_main(argv)


def _serve(argv: list[str]) -> int:
    from server.serve import main as serve_main

    return serve_main(argv)


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "serve": _serve,
    "demo": _demo,
    "verify": _verify,
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in COMMANDS:
        names = ", ".join(COMMANDS)
        print(f"usage: nghitruong {{{names}}} [options]", file=sys.stderr)
        return 2
    return COMMANDS[args[0]](args[1:])


if __name__ == "__main__":
    raise SystemExit(main())
