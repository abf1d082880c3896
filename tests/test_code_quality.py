"""The code reads as STYLE.md asks: ruff-clean and formatted, type-checked by mypy."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import REPO


@pytest.mark.skipif(
    not shutil.which("ruff"), reason="ruff not installed (pip install -e '.[test]')"
)
def test_ruff_lint_and_format() -> None:
    lint = subprocess.run(
        ["ruff", "check", "."], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert lint.returncode == 0, lint.stdout
    fmt = subprocess.run(
        ["ruff", "format", "--check", "."], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert fmt.returncode == 0, fmt.stdout


def test_mypy_on_the_runtime_package() -> None:
    pytest.importorskip("mypy")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "livedance"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout


def test_runtime_never_imports_torch() -> None:
    code = "import livedance.cli.play, livedance.show.loop, livedance.cli.live, livedance.choreo, sys; print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
