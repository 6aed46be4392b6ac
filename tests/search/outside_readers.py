"""Readers nobody on the project wrote, for the export tests: citation-js (npm, run with node)
and the one rule of Zotero's RIS import that decides how a name becomes a creator.

citation-js is installed by ``.ci/run`` into ``.ci/node/node_modules`` (or the directory named by
``KETLIT_NODE_MODULES``), pdflatex and bibtex by ``.ci/run`` from Debian's texlive-latex-base.
Tests that need them skip, with the reason, when they are missing on a developer's machine; under
``CI=true`` they run anyway and fail, so a CI run can never pass without these readers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO

NODE_MODULES = Path(os.environ.get("KETLIT_NODE_MODULES", REPO / ".ci" / "node" / "node_modules"))
CITATION_JS = ("@citation-js/core", "@citation-js/plugin-ris", "@citation-js/plugin-csl")

_SCRIPT = r"""
const { Cite } = require('@citation-js/core');
require('@citation-js/plugin-ris');
require('@citation-js/plugin-csl');
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', d => { input += d; });
process.stdin.on('end', () => {
  const kind = process.argv[process.argv.length - 1];
  const data = kind === 'ris' ? input : JSON.parse(input);
  const cite = new Cite(data, { forceType: kind === 'ris' ? '@ris/file' : '@csl/list+object' });
  const items = cite.data.map(({ _graph, ...rest }) => rest);
  const text = cite.format('bibliography', { format: 'text', template: 'apa' });
  process.stdout.write(JSON.stringify({ items, bibliography: text }));
});
"""


def citation_js_available() -> bool:
    return bool(shutil.which("node")) and all((NODE_MODULES / p).is_dir() for p in CITATION_JS)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need_tex(*programs: str) -> None:
    """Skip (locally) or fail (under CI) a test when a TeX program it runs is missing."""
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        message = f"{', '.join(missing)} not installed (.ci/run installs texlive-latex-base)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(reason=message)


# under CI the test runs without them and fails in citation_js(), loudly
needs_citation_js = pytest.mark.skipif(
    not citation_js_available() and not in_ci(),
    reason=f"node or citation-js missing ({NODE_MODULES}); .ci/run installs them")


def citation_js(text: str, kind: str) -> tuple[list[dict[str, Any]], str]:
    """(CSL items, APA bibliography) as citation-js reads ``text`` (``kind`` "ris" or "csl")."""
    proc = subprocess.run(["node", "-e", _SCRIPT, kind], input=text, capture_output=True,
                          text=True, timeout=120, encoding="utf-8",
                          env={**os.environ, "NODE_PATH": str(NODE_MODULES)})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    return out["items"], out["bibliography"]


def zotero_ris_creator(value: str) -> dict[str, Any]:
    """How Zotero's RIS import (zotero/translators RIS.js, ``processTag`` case "creators") turns
    an AU value into a creator: the text before the first comma is the last name, the rest
    (leading comma and spaces removed) the first name; no first name makes a one-field creator
    (``fieldMode: 1``). Zotero unescapes HTML entities before this, so no escape keeps a comma."""
    value = value.strip()
    last = value.split(",")[0].rstrip()
    rest = value[len(last):].lstrip()
    first = rest[1:].lstrip() if rest.startswith(",") else rest
    if not first:
        return {"lastName": last, "fieldMode": 1}
    return {"lastName": last, "firstName": first}
