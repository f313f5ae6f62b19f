"""The benchmark harness runs end to end in seconds (no targets), so it never rots."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = {"overhead", "fan-out", "streaming", "track ingestion", "scale"}


def test_smoke_run_covers_every_scenario_and_writes_the_table_and_the_chart(tmp_path):
    subprocess.run([sys.executable, "-m", "bench.run", "--smoke", "--out", str(tmp_path)], cwd=ROOT, check=True, capture_output=True, timeout=300)
    table = (tmp_path / "latest.md").read_text()
    assert "smoke run" in table
    rows = [line.strip("|").split(" | ") for line in table.splitlines() if line.startswith("| ") and not line.startswith("| scenario")]
    assert {row[0].strip() for row in rows} == SCENARIOS
    assert all(float(row[4]) > 0 for row in rows), "every contender answered"
    assert all(row[8] == "0" for row in rows), "every answer was a success: the stand-ins serve what the proxy reads"
    assert table.count("2,000 records in") == 2, "both walks read the whole generated list"
    assert "stored events not delivered: 0 " in table, "the sandbox received every event the spool stored"
    assert "## Targets" not in table, "a smoke run judges no targets"
    assert (tmp_path / "latest.png").read_bytes().startswith(b"\x89PNG")

