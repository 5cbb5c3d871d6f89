"""The dashboard benchmark still runs (at a tiny scale; the figures are for reading, not testing)."""

import numpy as np

from benchmarks import bench_dashboard


def test_the_benchmark_runs_at_a_tiny_scale(tmp_path, capsys):
    bench_dashboard.run(tmp_path / "station.db", 0.003, 3, np.random.default_rng(0))
    out = capsys.readouterr().out
    assert "patient page with 6 charts" in out and "worst p95" in out and "database" in out
