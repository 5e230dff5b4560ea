"""The EMR runtime: arguments like the CLI's, the submit context's session, same output as local."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from chispa import assert_df_equality

from featurekit.cli import build_parser
from featurekit.demo import DemoSpec, events
from featurekit.demo_run import write_source_table
from featurekit.errors import ConfigError, UnsupportedError
from featurekit.runtime.emr import (
    SESSION_DEFAULTS,
    EmrConfig,
    EmrRuntime,
    get_session,
    main,
    parse_step_args,
    run_step,
)
from featurekit.runtime.local import LocalConfig, LocalRuntime

OPTIONS = [
    "--param", "min_events=2", "--param", "x=a=b", "--start", "2026-01-02",
    "--end", "2026-01-03", "--warehouse", "/tmp/wh", "--engine", "delta-rs", "--quiet", "--json",
]  # fmt: skip


def test_step_arguments_mean_what_the_cli_run_arguments_mean() -> None:
    cli = build_parser().parse_args(["run", "user_activity_daily", *OPTIONS])
    step = parse_step_args(["--job", "user_activity_daily", *OPTIONS])
    assert step.job == cli.job
    assert dict(step.params) == {"min_events": "2", "x": "a=b"}
    assert (
        (step.start, step.end) == (cli.start, cli.end) == (dt.date(2026, 1, 2), dt.date(2026, 1, 3))
    )
    assert (step.config.warehouse, step.config.engine) == (cli.warehouse, cli.engine)
    assert (step.config.quiet, step.json) == (cli.quiet, cli.json) == (True, True)


def test_defaults_and_the_default_warehouse() -> None:
    args = parse_step_args(["--job", "j"], default_warehouse="/data/wh")
    assert (args.config.warehouse, args.config.engine, args.start, args.params) == (
        "/data/wh", "auto", None, {},
    )  # fmt: skip


def test_start_without_end_is_refused() -> None:
    with pytest.raises(ConfigError, match="both --start and --end"):
        parse_step_args(["--job", "j", "--start", "2026-01-01"])


def test_bad_date_and_engine_exit_like_argparse() -> None:
    with pytest.raises(SystemExit):
        parse_step_args(["--job", "j", "--start", "yesterday", "--end", "2026-01-01"])
    with pytest.raises(SystemExit):
        parse_step_args(["--job", "j", "--engine", "iceberg"])


def test_only_folder_and_s3_warehouses_are_accepted() -> None:
    with pytest.raises(UnsupportedError, match="gs://b/wh"):
        EmrConfig(warehouse="gs://b/wh")
    assert EmrConfig(warehouse="s3://b/wh").warehouse == "s3://b/wh"


def test_unknown_job_fails_before_spark(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--job", "user_activity_dayly"]) == 2
    err = capsys.readouterr().err
    assert "Unknown job 'user_activity_dayly'" in err
    assert "user_activity_daily" in err


def _root_log_level(session: Any) -> str:
    jvm = session.sparkContext._jvm
    return str(jvm.org.apache.logging.log4j.LogManager.getRootLogger().getLevel().toString())


def test_session_is_the_submit_contexts_with_portable_settings(spark: Any) -> None:
    try:
        session = get_session(EmrConfig())
        assert session is spark
        for key, value in SESSION_DEFAULTS.items():
            assert session.conf.get(key) == value
        assert _root_log_level(session) == "WARN"  # not EMR's INFO
        get_session(EmrConfig(log_level="INFO"))
        assert _root_log_level(session) == "INFO"
    finally:
        spark.sparkContext.setLogLevel("ERROR")  # the test session's level


def test_the_log_level_is_a_step_argument() -> None:
    assert parse_step_args(["--job", "j"]).config.log_level == "WARN"
    assert parse_step_args(["--job", "j", "--log-level", "info"]).config.log_level == "INFO"
    with pytest.raises(SystemExit):
        parse_step_args(["--job", "j", "--log-level", "chatty"])
    with pytest.raises(ConfigError, match="--log-level must be one of"):
        EmrConfig(log_level="chatty")


@pytest.mark.slow
def test_emr_runtime_writes_what_the_local_runtime_writes(spark: object, tmp_path: Path) -> None:
    spec = DemoSpec(users=25, days=4)
    outputs = []
    for kind in ("local", "emr"):
        warehouse = str(tmp_path / kind)
        local = LocalRuntime(LocalConfig(warehouse=warehouse, quiet=True), spark=spark)  # type: ignore[arg-type]
        write_source_table(local, "raw.events", events(local.spark, spec), "events")
        argv = ["--job", "user_activity_daily", "--warehouse", warehouse, "--quiet"]
        argv += ["--start", "2026-01-02", "--end", "2026-01-03", "--param", "min_events=2"]
        if kind == "local":
            from featurekit.registry import get_job

            record = get_job("user_activity_daily")().run(
                local,
                params={"min_events": "2"},
                start=dt.date(2026, 1, 2),
                end=dt.date(2026, 1, 3),
            )
            runtime = local
        else:
            record = run_step(parse_step_args(argv), spark=spark)  # type: ignore[arg-type]
            runtime = EmrRuntime(parse_step_args(argv).config, spark=spark)  # type: ignore[arg-type]
        assert record.status == "succeeded"
        assert record.runtime == kind
        location = runtime.storage.location("features.user_activity_daily")
        outputs.append(runtime.storage.engine.read(runtime.spark, location))
    local_df, emr_df = outputs
    assert local_df.count() > 0
    assert_df_equality(local_df, emr_df, ignore_row_order=True, ignore_column_order=True)


def test_engine_follows_the_classpath(spark: object, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = EmrRuntime(EmrConfig(quiet=True), spark=spark)  # type: ignore[arg-type]
    assert (
        runtime.storage.engine.name == "delta-spark"
    )  # the test session has the Delta jars, as EMR
    monkeypatch.setattr("featurekit.tables.deltaspark.delta_spark_available", lambda _s: False)
    bare = EmrRuntime(EmrConfig(quiet=True), spark=spark)  # type: ignore[arg-type]
    assert bare.storage.engine.name == "delta-rs"
    forced = EmrRuntime(EmrConfig(engine="delta-spark", quiet=True), spark=spark)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="Delta jars"):
        _ = forced.storage.engine


def test_the_catalog_follows_the_clusters_metastore(spark: Any, tmp_path: Path) -> None:

    from featurekit.tables.catalog import LocalCatalog
    from featurekit.tables.catalogs import GLUE_METASTORE, glue_metastore_enabled

    key = "spark.hadoop.hive.metastore.client.factory.class"
    assert glue_metastore_enabled({key: GLUE_METASTORE})
    assert not glue_metastore_enabled({key: "org.apache.hadoop.hive.ql.metadata.Default"})
    assert parse_step_args(["--job", "j"]).config.catalog == "auto"
    runtime = EmrRuntime(EmrConfig(warehouse=str(tmp_path), quiet=True), spark=spark)
    assert isinstance(
        runtime.storage.catalog, LocalCatalog
    )  # this session's metastore is not Glue's
    assert runtime.config.catalog == "local"


def test_commit_attempts_are_an_argument_of_the_step() -> None:
    assert parse_step_args(["--job", "j"]).config.commit_attempts == 5
    step = parse_step_args(["--job", "j", "--commit-attempts", "2"])
    assert step.config.commit_attempts == 2
    with pytest.raises(ConfigError, match="at least 1"):
        parse_step_args(["--job", "j", "--commit-attempts", "0"])
