"""featurekit.testing.cluster: a standalone cluster starts, reports its workers, leaves nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from featurekit.errors import ClusterError, FeatureKitError
from featurekit.testing.cluster import ClusterConfig, StandaloneCluster


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_cluster_needs_a_worker_with_a_core() -> None:
    with pytest.raises(ValueError, match="at least one worker"):
        ClusterConfig(workers=0)


@pytest.mark.slow
def test_stop_ends_every_daemon_it_started(tmp_path: Path) -> None:
    with StandaloneCluster(tmp_path, ClusterConfig(workers=1)) as cluster:
        (worker,) = cluster.state()["workers"]
        assert (worker["state"], worker["cores"]) == ("ALIVE", 1)
        assert cluster.master_url.startswith("spark://127.0.0.1:")
        groups = cluster.pids()
        assert len(groups) == 2
        assert all(_group_alive(g) for g in groups)
    assert not any(_group_alive(g) for g in groups)


@pytest.mark.slow
def test_a_worker_that_cannot_start_is_a_cluster_error(tmp_path: Path) -> None:
    cluster = StandaloneCluster(tmp_path, ClusterConfig(workers=1, memory="lots"))
    with pytest.raises(ClusterError, match=r"worker-0 exited .* log") as info:
        cluster.start()
    assert isinstance(info.value, FeatureKitError)
    assert not cluster.pids()  # start() stopped what it had started
