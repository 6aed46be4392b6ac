"""A read-only data_dir serves every read: search, show, similar, stats, export and serve.

The data_dir is a copy of an indexed one behind a read-only bind mount (EROFS for every write,
root included: tests run as root, for whom permission bits alone change nothing).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from index.settings import Settings
from tests.helpers import run_ketlit, write_config

# Starts processes, servers or harvests (the quick loop deselects it: -m "not slow").
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def readonly_config(indexed_settings: Settings,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("readonly")
    data = base / "data"
    shutil.copytree(indexed_settings.data_dir, data, symlinks=True)
    bound = subprocess.run(["mount", "--bind", str(data), str(data)], capture_output=True)
    if bound.returncode != 0:
        pytest.skip(reason=f"a read-only bind mount is not permitted here: {bound.stderr!r}")
    try:
        ro = subprocess.run(["mount", "-o", "remount,ro,bind", str(data)], capture_output=True)
        if ro.returncode != 0:
            pytest.skip(reason=f"cannot remount read-only here: {ro.stderr!r}")
        with pytest.raises(OSError):
            (data / "probe").write_text("x")
        topics = {name: {"query": f"{name}[tiab]"} for name in ("depression", "ptsd", "ocd")}
        yield write_config(base, topics=topics)
    finally:
        subprocess.run(["umount", str(data)], capture_output=True)


@pytest.mark.parametrize("args", [
    ["search", "ketamine", "--json"],
    ["search", "--topic", "ptsd"],
    ["show", "90000001", "--json"],
    ["similar", "90000002", "--json"],
    ["stats", "--json"],
    ["export", "ketamine", "--format", "ris"],
    ["new", "--json"],
])
def test_reads_work_on_a_read_only_data_dir(readonly_config: Path, args: list[str]) -> None:
    proc = run_ketlit(args, readonly_config)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
    assert "internal error" not in proc.stderr


def test_serve_works_on_a_read_only_data_dir(readonly_config: Path) -> None:
    import re
    import signal

    from tests.helpers import REPO, ketlit_executable

    proc = subprocess.Popen([*ketlit_executable(), "--config", str(readonly_config), "serve",
                             "--port", "0"], stderr=subprocess.PIPE, text=True, cwd=str(REPO))
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        assert m, line + proc.stderr.read()
        r = requests.get(f"{m.group(1)}/api/search", params={"q": "ketamine"}, timeout=30)
        assert r.status_code == 200 and r.json()["total"] > 0
        assert requests.get(f"{m.group(1)}/?q=ketamine", timeout=30).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)


def test_a_write_on_a_read_only_data_dir_is_one_clear_line(readonly_config: Path) -> None:
    proc = run_ketlit(["reindex"], readonly_config)
    assert proc.returncode in (7, 8), proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "internal error" not in lines[0]
