"""`nghitruong minutes SITTING`: the minutes of a sitting kept in a data folder, written
to a file, from the same public view of the log that the hub serves."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from chamber.errors import ChamberError
from chamber.minutes import Minutes
from server.i18n import t
from server.journal import SqliteJournal
from server.record.compose import compose
from server.record.docx import render_docx
from server.record.pdf import render_pdf
from server.record.routes import public_minutes


async def _read(data: Path, sitting: str) -> Minutes | None:
    journal = SqliteJournal(data)
    await journal.open()
    try:
        if await journal.last_seq(sitting) == 0:
            return None
        return await public_minutes(journal, sitting)
    finally:
        await journal.close()


def write_minutes(sitting: str, data: Path, fmt: str, lang: str, out: Path | None) -> int:
    if not (data / "journal.sqlite3").is_file():
        print(t("cli.minutes.no_data", lang, data=str(data)), file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        m = asyncio.run(_read(data, sitting))
    except ChamberError as err:
        print(t("cli.minutes.unverified", lang, sitting=sitting, code=err.code), file=sys.stderr)
        return 1
    if m is None:
        print(t("cli.minutes.unknown", lang, sitting=sitting, data=str(data)), file=sys.stderr)
        return 1
    document = compose(m, lang)
    data_out = render_pdf(document) if fmt == "pdf" else render_docx(document)
    target = out or Path(f"{sitting}.bien-ban.{lang}.{fmt}")
    target.write_bytes(data_out)
    ms = int((time.perf_counter() - started) * 1000)
    print(t("cli.minutes.written", lang, file=str(target), records=m.records, head=m.head, ms=ms))
    if not m.final:
        print(t("cli.minutes.draft", lang))
    return 0
