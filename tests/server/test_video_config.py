"""Video configuration and who opens which link: pure parts of server/video.py."""

from __future__ import annotations

import base64
import hashlib
import hmac

import httpx
import pytest

from chamber.ids import MemberId, Role
from chamber.projection import Audience
from media.routing import Kind
from server.acting import Who
from server.auth import Principal
from server.config import Config
from server.video import NotAllowed, browser_ice, endpoint_for, media_config
from tests.server.conftest import HubProcess


def _who(kind: str, roles: frozenset[Role] = frozenset(), member: str | None = None) -> Who:
    principal = Principal(kind, member or "x", "c1", "u")
    audience = Audience.CHAIR if roles & {Role.CHAIR} else Audience.DELEGATE
    return Who(audience, MemberId(member) if member else None, roles, principal)


def test_turn_credentials_follow_the_turn_rest_scheme() -> None:
    config = Config(
        ice_servers="stun:stun.example.vn:3478, turn:turn.example.vn:3478?transport=udp",
        turn_secret="s3cret",
        turn_ttl_s=600,
    )
    stun, turn = browser_ice(config, 1_000_000)
    assert stun == {"urls": ["stun:stun.example.vn:3478"]}
    assert turn["urls"] == ["turn:turn.example.vn:3478?transport=udp"]
    assert turn["username"] == "1000600:nghitruong"
    expected = hmac.new(b"s3cret", b"1000600:nghitruong", hashlib.sha1).digest()
    assert base64.b64decode(turn["credential"]) == expected
    fixed = Config(ice_servers="turns:t.vn:443", turn_username="u", turn_credential="p")
    assert browser_ice(fixed, 0) == [
        {"urls": ["turns:t.vn:443"], "username": "u", "credential": "p"}
    ]
    assert browser_ice(Config(), 0) == []


def test_the_hub_gathers_where_it_is_told_and_hands_on_its_ice_servers() -> None:
    config = media_config(
        Config(
            media_hosts="127.0.0.1, 10.0.0.2",
            ice_servers="stun:a:3478,turn:b:3478",
            turn_username="u",
            turn_credential="p",
            media_console_slots=2,
        )
    )
    assert config.host_addresses == ("127.0.0.1", "10.0.0.2")
    assert config.console_slots == 2
    stun, turn = config.ice_servers
    assert stun.urls == ("stun:a:3478",) and stun.username is None
    assert (turn.username, turn.credential) == ("u", "p")
    assert media_config(Config()).host_addresses is None


def test_who_opens_which_link() -> None:
    delegate = _who("member", frozenset({Role.DELEGATE}), "db07")
    chair = _who("member", frozenset({Role.CHAIR, Role.DELEGATE}), "db01")
    room = Who(Audience.PUBLIC, None, frozenset(), Principal("room", "hall-3", "c1", "hall-3"))
    operator = Who(
        Audience.CHAIR, None, frozenset({Role.OPERATOR}), Principal("operator", "op", None, "op")
    )
    public = Who(Audience.PUBLIC, None, frozenset(), None)

    mine = endpoint_for(delegate, "publish")
    assert (mine.id, mine.kind, mine.member) == ("m:db07", Kind.REMOTE, "db07")
    hall = endpoint_for(room, "publish")
    assert (hall.id, hall.kind, hall.room) == ("r:hall-3", Kind.ROOM, "hall-3")
    assert endpoint_for(chair, "console").kind is Kind.CONSOLE
    assert endpoint_for(operator, "console").id.startswith("c:op-op:")
    screen = endpoint_for(public, "receive")
    assert screen.kind is Kind.GALLERY and screen.id != endpoint_for(public, "receive").id
    for who, mode in ((public, "publish"), (operator, "publish"), (public, "console")):
        with pytest.raises(NotAllowed):
            endpoint_for(who, mode)  # type: ignore[arg-type]
    for who in (delegate, room):
        with pytest.raises(NotAllowed):
            endpoint_for(who, "console")


def test_browsers_ask_the_hub_for_ice_servers_without_a_login(hub: HubProcess) -> None:
    r = httpx.get(hub.url + "/api/media/ice")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert r.json() == {"enabled": True, "iceServers": []}
