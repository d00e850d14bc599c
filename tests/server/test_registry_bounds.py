"""The registry keeps what the core can schedule: a roster within its bound."""

from __future__ import annotations

from pathlib import Path

import pytest

from chamber.limits import MEMBERS_MAX
from server.registry import Conflict, CouncilRow, MemberRow, Registry


def test_a_council_takes_no_member_past_the_roster_bound(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    try:
        registry.add_council(
            CouncilRow(id="hdnd-lon", name="HĐND lớn", total_seats=MEMBERS_MAX + 1)
        )
        for n in range(MEMBERS_MAX):
            registry.add_member(MemberRow(f"m{n}", "hdnd-lon", f"Đại biểu {n}"))
        with pytest.raises(Conflict):
            registry.add_member(MemberRow("m-thua", "hdnd-lon", "Đại biểu thừa"))
        assert len(registry.members("hdnd-lon")) == MEMBERS_MAX
        with pytest.raises(Conflict):  # a duplicate id is still a conflict of its own
            registry.add_council(CouncilRow(id="hdnd-lon", name="Trùng", total_seats=5))
    finally:
        registry.close()
