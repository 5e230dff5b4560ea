"""The files ``featurekit init`` and ``featurekit new job`` write, as ``string.Template``s.

Placeholders: ``$project`` (the distribution name, ``acme-features``), ``$package``
(``acme_features``), ``$job`` (``user_events_daily``), ``$job_class`` (``UserEventsDaily``),
``$featurekit`` and ``$featurekit_local`` (the requirements on featurekit: a direct
reference, ``featurekit @ URL``), ``$featurekit_url``, ``$pyspark`` (the pin of the
platform line's Spark) and ``$platform`` (the line, e.g. ``Glue 5.1: Spark 3.5.6, Python
3.11``).
"""

from __future__ import annotations

from string import Template

PYPROJECT = Template("""\
[build-system]
requires = ["hatchling>=1.21"]
build-backend = "hatchling.build"

[project]
name = "$project"
version = "0.1.0"
description = "Feature jobs of $project, built with featurekit."
requires-python = ">=3.9"
# What the jobs import, and nothing compiled: 'featurekit package' ships these to Glue and
# EMR and refuses an import that is not listed here. featurekit is on no package index:
# this names the featurekit that made the project (a clone, a wheel file or a URL pip
# installs, such as git+https://HOST/ORG/featurekit.git@v0.1.0); change both lines together.
dependencies = ["$featurekit"]

[project.optional-dependencies]
# Spark, Delta (delta-rs) and the test tools, for running and testing the jobs locally, on
# the Spark of the platform the jobs target ($platform).
dev = [
  "$featurekit_local",
  "$pyspark",
  "pytest>=8",
  "chispa>=0.10",
]

# Every job is an entry point: featurekit finds it here, locally and on the cluster.
[project.entry-points."featurekit.jobs"]
$job = "$package.jobs.$job:$job_class"

[tool.hatch.build.targets.wheel]
packages = ["src/$package"]

# featurekit is a direct reference (featurekit @ URL), which hatchling accepts only so.
[tool.hatch.metadata]
allow-direct-references = true

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["src"]
""")

README = Template("""\
# $project

Feature jobs written once with featurekit and run unchanged locally, on AWS Glue, on EMR
and on EMR Serverless. They target $platform.

featurekit is on no package index: `pyproject.toml` installs it from
$featurekit_url
(the featurekit that made this project). To take it from elsewhere (another clone, a wheel
file, `git+https://HOST/ORG/featurekit.git@v0.1.0`), change the two `featurekit @ ...`
lines there.

```bash
python -m venv .venv && . .venv/bin/activate   # or the environment featurekit runs in
pip install -e '.[dev]'          # the project, featurekit, $pyspark and the test tools
pytest                           # the jobs' tests, on a local SparkSession
featurekit doctor                # which platform line this environment matches
featurekit jobs                  # the jobs of this project
featurekit new job my_feature    # a new job and its test (then pip install -e . again)
featurekit package               # dist/: everything a Glue job or an EMR step needs
featurekit plan glue $job --artifacts s3://BUCKET/$project
```

Each job is a class in `src/$package/jobs/`, registered in `pyproject.toml` under
`[project.entry-points."featurekit.jobs"]`; its test is in `tests/jobs/`.
""")

GITIGNORE = """\
.venv/
__pycache__/
*.egg-info/
.pytest_cache/
.mypy_cache/
dist/
warehouse/
spark-warehouse/
metastore_db/
derby.log
"""

PACKAGE_INIT = Template('''\
"""Feature jobs of $project."""
''')

JOBS_INIT = Template('''\
"""The feature jobs of $project: one module per job, registered in pyproject.toml."""
''')

CONFTEST = """\
# featurekit's pytest plugin: a session-wide `spark` fixture and a `local_runtime` on a
# fresh warehouse folder per test.
pytest_plugins = ["featurekit.testing.plugin"]
"""

EXAMPLE_JOB = Template('''\
"""$job: events and distinct items per user and day (an example: edit or replace it)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from featurekit import FeatureJob, FeatureTable, JobContext, Param, TableInput


def daily_events(events: DataFrame, *, min_events: int) -> DataFrame:
    """Events and distinct items per user and UTC day; days under ``min_events`` dropped."""
    daily = events.groupBy("user_id", F.to_date("event_time").alias("event_date")).agg(
        F.count(F.lit(1)).alias("events"),
        F.countDistinct("item_id").alias("distinct_items"),
    )
    return daily.where(F.col("events") >= min_events)


class $job_class(FeatureJob):
    name = "$job"
    description = "Events and distinct items per user and day."
    # time_column: a run over --start/--end reads those days' events only
    inputs = {"events": TableInput("raw.events", time_column="event_time")}
    output = FeatureTable(
        "features.$job",
        keys=("user_id",),
        date_column="event_date",
        columns={
            "user_id": "string",
            "event_date": "date",
            "events": "bigint",
            "distinct_items": "bigint",
        },
    )
    params = {"min_events": Param(int, default=1, help="drop user-days with fewer events")}

    def transform(self, ctx: JobContext, events: DataFrame) -> DataFrame:
        return events.transform(daily_events, min_events=ctx.params["min_events"])
''')

EXAMPLE_TEST = Template('''\
"""$job: the transformation on hand-made rows, then the whole job on a local warehouse."""

from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from featurekit.runtime.local import LocalRuntime
from featurekit.testing import read_table, write_table
from $package.jobs.$job import $job_class, daily_events

OUTPUT = "user_id string, event_date date, events bigint, distinct_items bigint"


def events(spark: SparkSession) -> DataFrame:
    rows = [
        ("u1", "i1", dt.datetime(2026, 1, 1, 9, 0)),
        ("u1", "i2", dt.datetime(2026, 1, 1, 18, 30)),
        ("u1", "i1", dt.datetime(2026, 1, 2, 8, 0)),
        ("u2", "i3", dt.datetime(2026, 1, 1, 12, 0)),
    ]
    return spark.createDataFrame(rows, "user_id string, item_id string, event_time timestamp")


def test_daily_events_counts_events_and_items_per_user_and_day(spark: SparkSession) -> None:
    expected = spark.createDataFrame(
        [
            ("u1", dt.date(2026, 1, 1), 2, 2),
            ("u1", dt.date(2026, 1, 2), 1, 1),
            ("u2", dt.date(2026, 1, 1), 1, 1),
        ],
        OUTPUT,
    )
    actual = daily_events(events(spark), min_events=1)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_the_job_writes_its_feature_table(
    spark: SparkSession, local_runtime: LocalRuntime
) -> None:
    write_table(local_runtime, "raw.events", events(spark))
    record = $job_class().run(local_runtime, params={"min_events": 2})
    assert record.status == "succeeded", record.error
    expected = spark.createDataFrame([("u1", dt.date(2026, 1, 1), 2, 2)], OUTPUT)
    actual = read_table(local_runtime, "features.$job").select(*expected.columns)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
    # a range run rebuilds its dates only, from their events (time_column)
    day = dt.date(2026, 1, 2)
    record = $job_class().run(local_runtime, start=day, end=day)
    assert record.status == "succeeded", record.error
    expected = spark.createDataFrame(
        [("u1", dt.date(2026, 1, 1), 2, 2), ("u1", day, 1, 1)], OUTPUT
    )
    actual = read_table(local_runtime, "features.$job").select(*expected.columns)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
''')

NEW_JOB = Template('''\
"""$job: TODO describe the features this job computes."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from featurekit import FeatureJob, FeatureTable, JobContext, TableInput


def $job(source: DataFrame) -> DataFrame:
    """The features, one row per key and date. A pure function: test it on small frames."""
    return source.groupBy("id", F.to_date("event_time").alias("feature_date")).agg(
        F.count(F.lit(1)).alias("rows")
    )


class $job_class(FeatureJob):
    name = "$job"
    description = "TODO: one line on what this job computes."
    # TODO: the job's real inputs (time_column: a --start/--end run reads those days only)
    inputs = {"source": TableInput("raw.source", time_column="event_time")}
    output = FeatureTable(
        "features.$job",
        keys=("id",),
        date_column="feature_date",
        columns={"id": "string", "feature_date": "date", "rows": "bigint"},
    )

    def transform(self, ctx: JobContext, source: DataFrame) -> DataFrame:
        return source.transform($job)
''')

NEW_JOB_TEST = Template('''\
"""$job: its transformation on hand-made rows, and the whole job."""

from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from featurekit.runtime.local import LocalRuntime
from featurekit.testing import read_table, write_table
from $package.jobs.$job import $job_class, $job

OUTPUT = "id string, feature_date date, rows bigint"


def source(spark: SparkSession) -> DataFrame:
    rows = [("a", dt.datetime(2026, 1, 1, 9, 0)), ("a", dt.datetime(2026, 1, 1, 10, 0))]
    return spark.createDataFrame(rows, "id string, event_time timestamp")


def test_${job}_counts_rows_per_id_and_day(spark: SparkSession) -> None:
    expected = spark.createDataFrame([("a", dt.date(2026, 1, 1), 2)], OUTPUT)
    assert_df_equality($job(source(spark)), expected, ignore_nullable=True)


def test_the_job_writes_its_feature_table(
    spark: SparkSession, local_runtime: LocalRuntime
) -> None:
    write_table(local_runtime, "raw.source", source(spark))
    record = $job_class().run(local_runtime)
    assert record.status == "succeeded", record.error
    actual = read_table(local_runtime, "features.$job").select("id", "feature_date", "rows")
    expected = spark.createDataFrame([("a", dt.date(2026, 1, 1), 2)], OUTPUT)
    assert_df_equality(actual, expected, ignore_nullable=True)
''')
