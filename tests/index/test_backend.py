"""index.backend is backend-neutral: importing it loads no Whoosh."""

import subprocess
import sys

import pytest


@pytest.mark.slow
def test_backend_protocol_imports_no_whoosh() -> None:
    code = ("import sys, index.backend, index.analysis; "
            "assert not [m for m in sys.modules if m.startswith('whoosh')], 'whoosh imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
