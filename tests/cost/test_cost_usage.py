"""Where Spark's status store cannot be read, a run is "not measured", never failed."""

from __future__ import annotations

from typing import Any

from featurekit.cost.usage import UsageProbe


class NoJvmSession:
    """A session without a JVM behind it, as Spark Connect's: no sparkContext."""

    @property
    def sparkContext(self) -> Any:
        raise RuntimeError("[JVM_ATTRIBUTE_NOT_SUPPORTED] sparkContext is not supported")


class BrokenStore:
    """A status store whose reads fail midway (a py4j gateway gone)."""

    def jobsList(self, _statuses: Any) -> Any:
        raise ConnectionError("py4j gateway closed\nlong trace")


def test_a_session_without_a_status_store_is_not_measured() -> None:
    usage, missing = UsageProbe.start(NoJvmSession()).finish()  # type: ignore[arg-type]
    assert usage is None
    assert missing == (
        "not measured: RuntimeError: [JVM_ATTRIBUTE_NOT_SUPPORTED] sparkContext is not supported"
    )


def test_a_store_failing_after_the_start_is_not_measured() -> None:
    usage, missing = UsageProbe(BrokenStore(), -1, None).finish()
    assert usage is None
    assert missing == "not measured: ConnectionError: py4j gateway closed"
