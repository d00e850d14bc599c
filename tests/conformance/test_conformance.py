"""The web client's reducer conforms to the core: the cases of tests/conformance/cases.py
replayed by Node's own test runner through clients/web/src/lib/reducer.ts. Run by
`make test` with the rest of the suite; fails when the Node run fails."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.conformance.cases import write

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def test_the_web_reducer_follows_the_core(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed to check the web client's reducer"
    assert (ROOT / "clients/web/node_modules/rolldown").exists(), "run `make web` first"
    path = tmp_path / "cases.json"
    cases, frames = write(path)
    assert cases >= 27 and frames > 1000
    run = subprocess.run(
        [node, "--test", str(HERE / "reducer.test.mjs")],
        env={**os.environ, "NGHITRUONG_CONFORMANCE": str(path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    compared = re.search(r"conformance: (\d+) cases, (\d+) frames compared", run.stdout)
    assert compared is not None, run.stdout[-2000:]
    assert (int(compared[1]), int(compared[2])) == (cases, frames)
    assert re.search(r"^# fail 0$", run.stdout, re.M)
