"""The benchmark harness runs end to end in seconds (no targets), so it never rots."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_smoke_run_writes_the_table_and_the_chart(tmp_path):
    subprocess.run([sys.executable, "-m", "bench.run", "--smoke", "--out", str(tmp_path)], cwd=ROOT, check=True, capture_output=True, timeout=300)
    table = (tmp_path / "latest.md").read_text()
    assert "smoke run" in table
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| scenario")]
    assert {row.split(" | ")[0].strip("| ") for row in rows} >= {"overhead", "scale"}
    assert all(float(row.split(" | ")[2]) > 0 for row in rows), "every contender answered"
    assert (tmp_path / "latest.png").read_bytes().startswith(b"\x89PNG")
