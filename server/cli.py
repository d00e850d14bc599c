"""The `nghitruong` command: serve, operator, demo, verify, openapi, minutes."""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from chamber import verify_export
from server.i18n import catalogue, t

if TYPE_CHECKING:
    from server.registry import Registry


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
        if result.held_back is not None:
            held = result.held_back
            key = f"cli.verify.held.{held.reason}"
            reason = t(key, args.lang) if key in catalogue(args.lang) else held.reason
            print(t("cli.verify.partial", args.lang, seq=held.seq, reason=reason, vote=held.vote))
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


PASSWORD_ENV = "NGHITRUONG_OPERATOR_PASSWORD"
MIN_PASSWORD = 12
GENERATED_LENGTH = 20  # about 99 bits from the 31-character alphabet of server/auth.py
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _data_folder(flag: Path | None) -> Path:
    from server.config import Config

    return Config.from_env(data=flag).data


def _operator_password(generate: bool, lang: str) -> tuple[str | None, int]:
    """The new password and 0, or None and the exit status (the reason already printed)."""
    if generate:
        from server.auth import new_password

        return new_password(GENERATED_LENGTH), 0
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        if not sys.stdin.isatty():
            print(t("cli.operator.no_password", lang, env=PASSWORD_ENV), file=sys.stderr)
            return None, 2
        try:
            password = getpass.getpass(t("cli.operator.prompt", lang))
            again = getpass.getpass(t("cli.operator.prompt_again", lang))
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return None, 1
        if password != again:
            print(t("cli.operator.mismatch", lang), file=sys.stderr)
            return None, 1
    if len(password) < MIN_PASSWORD:
        print(t("cli.operator.too_short", lang, min=MIN_PASSWORD), file=sys.stderr)
        return None, 1
    return password, 0


def _operator_add(args: argparse.Namespace) -> int:
    from server.auth import Auth
    from server.registry import Conflict, Unavailable

    lang, username = args.lang, args.username
    if not USERNAME.fullmatch(username):
        print(t("cli.operator.bad_username", lang, username=username), file=sys.stderr)
        return 2
    password, status = _operator_password(args.generate, lang)
    if password is None:
        return status
    try:
        registry, _where = _registry(args.data)
    except Unavailable:
        print(t("error.server.unavailable", lang), file=sys.stderr)
        return 1
    try:
        existing = registry.login(username)
        try:
            Auth(registry).set_password(username, password, "operator", username, None)
        except Conflict:
            print(t("cli.operator.taken", lang, username=username), file=sys.stderr)
            return 1
        if existing is not None:
            registry.revoke_subject("operator", username)
        if args.name is not None:
            registry.set_operator_name(username, args.name.strip())
    except Unavailable:
        print(t("error.server.unavailable", lang), file=sys.stderr)
        return 1
    finally:
        registry.close()
    done = "cli.operator.reset" if existing is not None else "cli.operator.created"
    print(t(done, lang, username=username))
    if args.generate:
        print(t("cli.operator.generated", lang, password=password))
    return 0


def _registry(flag: Path | None) -> tuple[Registry, str]:
    """The data folder's registry, or with a Redis journal (NGHITRUONG_JOURNAL) the one
    the hub nodes share; and where it is, for the messages."""
    from server.config import Config
    from server.registry_redis import open_registry

    config = Config.from_env(data=flag)
    return open_registry(config.journal, config.data)


def _operator_list(args: argparse.Namespace) -> int:
    from server.config import Config
    from server.registry import Unavailable

    config = Config.from_env(data=args.data)
    rows = []
    where = str(config.data)
    if config.journal or (config.data / "registry.sqlite3").exists():
        try:
            registry, where = _registry(args.data)
        except Unavailable:
            print(t("error.server.unavailable", args.lang), file=sys.stderr)
            return 1
        try:
            rows = registry.operators()
        finally:
            registry.close()
    if not rows:
        print(t("cli.operator.none", args.lang, data=where))
        return 0
    print(t("cli.operator.list", args.lang, data=where))
    for row in rows:
        print(f"  {row.username}  ({row.name})" if row.name else f"  {row.username}")
    return 0


def _operator(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="nghitruong operator", description="Operator logins in a data folder's registry."
    )
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser(
        "add",
        help="create an operator login, or reset its password",
        description=(
            f"Create an operator login, or reset its password (and revoke its sessions). "
            f"The password is read from {PASSWORD_ENV}, else asked twice on the terminal; "
            f"--generate makes one up and prints it once."
        ),
    )
    add.add_argument("username")
    add.add_argument("--name", help="the operator's full name, shown by `operator list`")
    add.add_argument(
        "--generate", action="store_true", help="generate a strong password and print it once"
    )
    listing = actions.add_parser("list", help="list the operator logins")
    for sub in (add, listing):
        sub.add_argument("--data", type=Path, help="data folder (NGHITRUONG_DATA, ./data)")
        sub.add_argument(
            "--lang", choices=("vi", "en"), default="vi", help="language of the messages"
        )
    args = parser.parse_args(argv)
    if args.action == "add":
        return _operator_add(args)
    return _operator_list(args)


def _openapi(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="nghitruong openapi",
        description="Write the HTTP API's OpenAPI description (docs/openapi.yaml) as YAML.",
    )
    parser.add_argument("file", type=Path, nargs="?", help="where to write it (default: stdout)")
    args = parser.parse_args(argv)
    from server.openapi import build, to_yaml

    text = to_yaml(build())
    if args.file is None:
        sys.stdout.write(text)
    else:
        args.file.write_text(text, encoding="utf-8")
    return 0


def _minutes(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="nghitruong minutes",
        description="Write a sitting's minutes (biên bản) from its log in a data folder.",
    )
    parser.add_argument("sitting")
    parser.add_argument("--data", type=Path, help="data folder (NGHITRUONG_DATA, ./data)")
    parser.add_argument("--format", choices=("pdf", "docx"), default="pdf")
    parser.add_argument("--lang", choices=("vi", "en"), default="vi")
    parser.add_argument(
        "--out", type=Path, help="the file to write (default: <sitting>.bien-ban.<lang>.<format>)"
    )
    args = parser.parse_args(argv)
    from server.record.cli import write_minutes

    return write_minutes(args.sitting, _data_folder(args.data), args.format, args.lang, args.out)


def _serve(argv: list[str]) -> int:
    from server.serve import main as serve_main

    return serve_main(argv)


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "serve": _serve,
    "operator": _operator,
    "demo": _demo,
    "verify": _verify,
    "openapi": _openapi,
    "minutes": _minutes,
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
