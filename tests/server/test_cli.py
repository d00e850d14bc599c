"""`nghitruong operator add / list` and `serve --demo` seeding once: real data folders,
the real registry and the real hub (a subprocess, as in conftest.py)."""

from __future__ import annotations

import getpass
import io
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import httpx
import pytest

from server import cli
from server.auth import Auth
from server.registry import Registry
from server.sequencer import wall_ms
from tests.server.conftest import ROOT, HubProcess

# What the browser tests read from `serve --demo` (tests/browser/conftest.py).
LOGIN_LINE = re.compile(r"^\s+(\S+) / (\S+)", re.MULTILINE)
LAST_LOGIN = re.compile(r"\s+db30 / ")
PASSWORD = "ba-con-ca-vang-2026"


@pytest.fixture(autouse=True)
def _no_password_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cli.PASSWORD_ENV, raising=False)
    monkeypatch.delenv("NGHITRUONG_DATA", raising=False)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@contextmanager
def running_hub(
    data: Path, demo: bool = False, hub: HubProcess | None = None
) -> Iterator[tuple[HubProcess, httpx.Client]]:
    """The hub on ``data`` (``hub`` again: the same port); its console output so far,
    every run appended, is ``hub.output()``."""
    hub = hub or HubProcess(data)
    try:
        hub.start(demo=demo, fresh=True)  # these tests are of the seeding itself
        with httpx.Client(base_url=hub.url, timeout=10) as client:
            yield hub, client
    finally:
        hub.stop()


def login(client: httpx.Client, username: str, password: str) -> tuple[int, dict[str, object]]:
    r = client.post("/api/login", json={"username": username, "password": password})
    return r.status_code, r.json()


def bearer(token: object) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def add(data: Path, username: str, *flags: str, password: str | None = None) -> int:
    """`nghitruong operator add`, in this process, with the password in the environment
    only for the call (so no hub started later inherits it)."""
    env = {cli.PASSWORD_ENV: password} if password is not None else {}
    with mock.patch.dict(os.environ, env):
        return cli.main(["operator", "add", username, "--data", str(data), *flags])


def session_alive(data: Path, token: object) -> bool:
    registry = Registry(data)
    try:
        return Auth(registry).resolve(str(token), wall_ms()) is not None
    finally:
        registry.close()


# operator add / list


def test_operator_add_with_the_env_password_logs_in_through_the_hub(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add(data, "chutich.vh", "--name", "Nguyễn Thị Hoa", password=PASSWORD) == 0
    out = capsys.readouterr()
    assert out.out == "Đã tạo tài khoản kỹ thuật viên chutich.vh.\n"
    assert PASSWORD not in out.out + out.err
    # Only the Argon2id hash is stored.
    stored = b"".join(p.read_bytes() for p in data.iterdir() if p.is_file())
    assert PASSWORD.encode() not in stored
    registry = Registry(data)
    row = registry.login("chutich.vh")
    registry.close()
    assert row is not None and row.hash.startswith("$argon2id$") and row.kind == "operator"

    with running_hub(data) as (_hub, client):
        status, answer = login(client, "chutich.vh", PASSWORD)
        assert status == 200
        assert answer["kind"] == "operator" and answer["roles"] == ["operator"]
        assert answer["name"] == "Nguyễn Thị Hoa"  # the name given, not the username
        assert client.get("/api/councils", headers=bearer(answer["token"])).status_code == 200
        status, answer = login(client, "chutich.vh", PASSWORD + "x")
        assert status == 401 and answer["code"] == "auth.login_failed"
        assert login(client, "chutich.vh", "")[0] == 401

    assert cli.main(["operator", "list", "--data", str(data)]) == 0
    assert capsys.readouterr().out == (
        f"Tài khoản kỹ thuật viên trong {data}:\n  chutich.vh  (Nguyễn Thị Hoa)\n"
    )


def test_operator_add_again_resets_the_password_and_revokes_sessions(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add(data, "vanhanh", "--name", "Trần Văn Bảo", password=PASSWORD) == 0
    with running_hub(data) as (_hub, client):
        status, answer = login(client, "vanhanh", PASSWORD)
        assert status == 200
        token = answer["token"]
        capsys.readouterr()
        # The command writes to the registry while the hub runs.
        assert add(data, "vanhanh", "--lang", "en", password="mat-khau-moi-dai-hon") == 0
        assert capsys.readouterr().out == (
            "Password of operator vanhanh reset; this login's open sessions were revoked.\n"
        )
        assert client.get("/api/councils", headers=bearer(token)).status_code == 401
        assert login(client, "vanhanh", PASSWORD)[0] == 401
        assert login(client, "vanhanh", "mat-khau-moi-dai-hon")[0] == 200
    # Without --name the name is kept.
    assert cli.main(["operator", "list", "--data", str(data), "--lang", "en"]) == 0
    assert capsys.readouterr().out == f"Operator logins in {data}:\n  vanhanh  (Trần Văn Bảo)\n"


def test_generate_prints_a_password_once_that_works(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        add(data, "kythuat1", "--generate", "--lang", "en", password="ignored-when-generating") == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("Operator login kythuat1 created.\n")
    found = re.search(r"^Password \(shown only this once\): (\S+)$", out, re.MULTILINE)
    assert found is not None
    password = found.group(1)
    assert len(password) == cli.GENERATED_LENGTH
    with running_hub(data) as (_hub, client):
        assert login(client, "kythuat1", password)[0] == 200
        assert login(client, "kythuat1", password[:-1])[0] == 401
        assert login(client, "kythuat1", "ignored-when-generating")[0] == 401


def test_the_installed_entry_point_runs_operator_add(data: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "operator", "add", "op2", "--data", str(data)],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), cli.PASSWORD_ENV: PASSWORD},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Đã tạo tài khoản kỹ thuật viên op2.\n"
    registry = Registry(data)
    assert [r.username for r in registry.operators()] == ["op2"]
    registry.close()


def test_the_prompt_asks_twice(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers: list[str] = []
    prompts: list[str] = []

    def typed(prompt: str = "") -> str:
        prompts.append(prompt)
        return answers.pop(0)

    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr(getpass, "getpass", typed)
    answers[:] = [PASSWORD, PASSWORD + "!"]
    assert add(data, "op3") == 1
    assert capsys.readouterr().err == "Hai lần nhập mật khẩu không khớp nhau; chưa thay đổi gì.\n"
    registry = Registry(data)
    assert registry.login("op3") is None
    registry.close()

    answers[:] = [PASSWORD, PASSWORD]
    assert add(data, "op3") == 0
    assert prompts[-2:] == ["Mật khẩu: ", "Nhập lại mật khẩu: "]
    with running_hub(data) as (_hub, client):
        assert login(client, "op3", PASSWORD)[0] == 200


def test_refusals_change_nothing(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO())  # not a terminal, no password given
    assert add(data, "op4", "--lang", "en") == 2
    assert cli.PASSWORD_ENV in capsys.readouterr().err

    assert add(data, "op4", password="short") == 1
    assert "ít nhất 12 ký tự" in capsys.readouterr().err
    assert add(data, "bad name", password=PASSWORD) == 2
    assert add(data, ".x", password=PASSWORD) == 2
    assert "Tên đăng nhập không hợp lệ" in capsys.readouterr().err

    registry = Registry(data)
    Auth(registry).set_password("db01", "member-password", "member", "db01", "hdnd")
    assert add(data, "db01", password=PASSWORD) == 1
    assert "db01" in capsys.readouterr().err
    row = registry.login("db01")
    assert row is not None and row.kind == "member"
    assert registry.operators() == []
    registry.close()

    assert cli.main(["operator", "list", "--data", str(data), "--lang", "en"]) == 0
    assert capsys.readouterr().out == f"No operator logins in {data}.\n"


def test_list_on_a_missing_folder_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    assert cli.main(["operator", "list", "--data", str(missing)]) == 0
    assert capsys.readouterr().out == f"Chưa có tài khoản kỹ thuật viên nào trong {missing}.\n"
    assert not missing.exists()


# serve --demo


def test_demo_seeds_once_and_keeps_passwords_and_sessions(data: Path) -> None:
    with running_hub(data, demo=True) as (hub, client):
        first = hub.output()
        logins = dict(LOGIN_LINE.findall(first))
        assert len(logins) == 32 and LAST_LOGIN.search(first)  # operator, 30 members, a hall
        status, hall = login(client, "diem-cau-khu-pho-3", logins["diem-cau-khu-pho-3"])
        assert status == 200 and hall["kind"] == "room"
        status, op = login(client, "vanhanh", logins["vanhanh"])
        assert status == 200
        status, chair = login(client, "db01", logins["db01"])
        assert status == 200
        assert len(client.get("/api/sittings").json()) == 1
    kept = data / "demo-logins.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    written = kept.read_bytes()
    assert f"Tài khoản mô phỏng (tạo một lần, lưu trong {kept}):" in first
    printed = first[first.index("Nghị trường") :]

    with running_hub(data, demo=True, hub=hub) as (hub, client):
        second = hub.output()[len(first) :]
        assert second[second.index("Nghị trường") :] == printed
        assert client.get("/api/councils", headers=bearer(op["token"])).status_code == 200
        assert session_alive(data, chair["token"])
        assert login(client, "db02", logins["db02"])[0] == 200
        assert len(client.get("/api/sittings").json()) == 1
        # An operator gives db05 a new login card: the next start must not undo it.
        card = client.post("/api/members/db05/login", headers=bearer(op["token"])).json()
        seen = hub.output()
    assert kept.read_bytes() == written

    with running_hub(data, demo=True, hub=hub) as (hub, client):
        third = hub.output()[len(seen) :]
        assert "db05 / " not in third
        assert "  db05: mật khẩu đã được đổi sau khi tạo, không hiển thị\n" in third
        assert dict(LOGIN_LINE.findall(third)) == {k: v for k, v in logins.items() if k != "db05"}
        assert login(client, "db05", card["password"])[0] == 200
        assert session_alive(data, chair["token"])
    assert kept.read_bytes() == written


def test_demo_without_its_logins_file_issues_them_once_more(data: Path) -> None:
    with running_hub(data, demo=True) as (hub, _client):
        first = dict(LOGIN_LINE.findall(hub.output()))
    (data / "demo-logins.json").unlink()
    with running_hub(data, demo=True) as (hub, client):
        output = hub.output()
        second = dict(LOGIN_LINE.findall(output[output.rindex("Nghị trường") :]))
        assert second.keys() == first.keys() and second["db01"] != first["db01"]
        assert login(client, "db01", second["db01"])[0] == 200
    assert stat.S_IMODE((data / "demo-logins.json").stat().st_mode) == 0o600
