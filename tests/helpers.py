"""Small helpers shared by tests: paths to ../shared/data, config files, running the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KETLIT_SHARED", REPO.parent / "shared"))
PUBMED_DATA = SHARED / "data" / "pubmed"
EFETCH_XML = PUBMED_DATA / "efetch-xml"
SCIFACT = SHARED / "data" / "ir" / "scifact-train"


def ketlit_executable() -> list[str]:
    """The installed console script when there is one, else the module (same code)."""
    exe = shutil.which("ketlit", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "search.cli"]


def write_config(directory: Path, **sections: Any) -> Path:
    """Write a config.yaml under ``directory``; sections are merged over test defaults."""
    cfg: dict[str, Any] = {"data_dir": str(directory / "data")}
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key].update(value)
        else:
            cfg[key] = value
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return path


def run_ketlit(args: list[str], config: Path | None = None, *, check: bool = False,
               timeout: float = 300, env: dict[str, str] | None = None,
               input: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = ketlit_executable()
    if config is not None:
        cmd += ["--config", str(config)]
    full_env = {**os.environ, **(env or {})}
    full_env.pop("KETLIT_DEBUG", None)
    proc = subprocess.run(cmd + args, capture_output=True, text=True, timeout=timeout,
                          env=full_env, cwd=str(REPO), input=input)
    if check and proc.returncode != 0:
        raise AssertionError(f"ketlit {' '.join(args)} exited {proc.returncode}:\n"
                             f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc
