"""Before the hub starts: is the configured journal there, and would it keep what the hub
acknowledges? A message for the operator if not."""

from __future__ import annotations

import asyncio

from redis.exceptions import RedisError

from server.config import Config
from server.i18n import t
from server.journal.redis import RedisJournal, Unsafe
from server.journal.redis_url import BadJournalUrl, RedisTarget, parse


def where(target: RedisTarget) -> str:
    """The Redis hosts, without the password."""
    hosts = ",".join(f"{h}:{p}" for h, p in target.hosts)
    return f"{hosts}/{target.service}" if target.service else hosts


def preflight(config: Config) -> str | None:
    """None if the journal may be used; else why not, in the operator's words."""
    if not config.journal:
        return None
    try:
        target = parse(config.journal)
    except BadJournalUrl:
        return t("journal.bad_url", url=config.journal)

    async def check() -> None:
        journal = RedisJournal(target, unsafe_dev=config.unsafe_dev)
        await journal.open()
        await journal.close()

    try:
        asyncio.run(check())
    except Unsafe as err:
        return t("journal.unsafe", where=where(target), setting=err.setting, value=err.value)
    except (RedisError, OSError) as err:
        return t("journal.unreachable", where=where(target), error=str(err) or type(err).__name__)
    return None
