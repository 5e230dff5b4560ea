"""Conformance: a user's job gives the same output table on every runtime (``make conformance``).

The job is ``customer_orders_daily`` of the user project in ``tests/userproject``: its own
package, registered under the ``featurekit.jobs`` entry point group, packaged with
``featurekit package --source tests/userproject`` (featurekit and the project in one
zip). Its inputs are CSV files under ``s3://shop-landing/orders/`` (mapped into the
warehouse) and the Delta table
``shop.customers``. Each way runs the job in its own process against its own copy of one
source warehouse; the reference is the local runtime with delta-rs. Ways:

* ``local`` (reference): ``featurekit run`` with ``--engine delta-rs``.
* ``local-delta-spark``: ``featurekit run`` with ``--engine delta-spark`` (jars from Maven
  Central, resolved once by ``make install``).
* ``glue``: ``featurekit glue run entrypoints/glue_job.py`` (the awsglue emulation).
* ``emr-cluster``: the EMR step on a Spark standalone cluster (a master and two one-core
  workers, each its own JVM: the ``spark_cluster`` fixture). ``spark-submit --master
  spark://...`` gets ONLY the packaged artifacts: the user project's ``featurekit.zip``
  (featurekit and the project) and ``entrypoints/emr_step.py``, and the Delta jars; the driver's
  Python sees third-party packages but neither the featurekit source tree nor the user
  project. :func:`test_emr_step_runs_its_executors_in_two_worker_processes` checks that
  both workers ran executors that ran tasks.

The local ways find the user's jobs as a user's own install would: the user wheel is
pip-installed into a folder put on ``PYTHONPATH``.

Adding a way is one more :class:`Way` in :data:`WAYS`: its command and environment, and
where its warehouse lives (``place``, ``records``, ``table``: a local folder by default).
* ``s3``: ``featurekit run --warehouse s3://shop-warehouse/wh`` against moto's server on
  127.0.0.1: the sources are uploaded to the bucket, the job writes through delta-spark and
  s3a, and its table is read back from the bucket by delta-rs.
* the Iceberg ways, ``local-iceberg``, ``glue-iceberg``, ``emr-cluster-iceberg`` and
  ``s3-iceberg``: the project's second job, ``customer_orders_daily_iceberg``, the same
  features with its output declared ``FeatureTable(format="iceberg")``, so no format flag
  is passed: ``featurekit run`` adds Iceberg's Spark runtime (Maven Central) for it, the
  Glue job gets Glue's own ``--datalake-formats iceberg``, the EMR step Iceberg's runtime
  jar beside Delta's (as EMR's ``iceberg-defaults`` does); ``s3-iceberg`` writes through
  s3a to moto as the ``s3`` way does. The output is an Iceberg table, read back by
  pyiceberg (from the bucket for ``s3-iceberg``); it must equal the Delta reference.
* ``emr-cluster-iceberg-glue``: that job's EMR step with the Spark confs ``featurekit plan
  emr`` writes for it (Iceberg's GlueCatalog registered as ``featurekit_iceberg``), plus
  moto's Glue endpoint, and ``--catalog glue``: ``shop.customers`` is read through moto's
  Glue Data Catalog and the output committed through Iceberg's GlueCatalog (its
  ``NNNNN-<uuid>.metadata.json`` files, no version hint); the table is read from the Glue
  entry's ``metadata_location``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

import pytest
from chispa import assert_df_equality

import featurekit
from featurekit.core import jars
from featurekit.demo_run import write_source_table
from featurekit.deploy.package import BUNDLE, EMR_SCRIPT, build_artifacts, read_project
from featurekit.runtime.local import LocalConfig, LocalRuntime
from featurekit.tables.deltars import DeltaRsEngine

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from featurekit.testing.cluster import StandaloneCluster

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
FEATUREKIT_SOURCE = Path(featurekit.__file__).resolve().parents[1]
USER_PROJECT = ROOT / "tests" / "userproject"
JOB = "customer_orders_daily"
# The same job with its output declared an Iceberg table (FeatureTable(format="iceberg")).
ICEBERG_JOB = "customer_orders_daily_iceberg"
OUTPUT = ("features", "customer_orders_daily")
PARAMS = ["--param", "min_amount=5"]
DELTA_CONFS = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}
# Executors of 1 core on each of the two workers; the driver waits for both to register.
CLUSTER_CONFS = {
    "spark.executor.cores": "1",
    "spark.cores.max": "2",
    "spark.executor.memory": "512m",
    "spark.scheduler.minRegisteredResourcesRatio": "1.0",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.driver.host": "127.0.0.1",
    "spark.ui.enabled": "false",
    # As the local runtime's FAST_DEFAULTS: Delta rebuilds a snapshot's state in 50 tasks by
    # default, 4 of the step's ~40 stages on these tiny tables. Output-neutral.
    "spark.databricks.delta.snapshotPartitions": "4",
}


@dataclass(frozen=True)
class Setup:
    """What every way gets: the packaged artifacts, the user's install, a bare driver Python."""

    dist: Path  # `featurekit package` of the user project (featurekit included)
    user_wheel: Path  # the user project's wheel in it
    user_site: Path  # that wheel pip-installed into a folder (for the local ways)
    clean_python: Path
    delta_jars: tuple[str, ...]
    s3_endpoint: str  # moto's server on 127.0.0.1, for the S3 warehouse way


@dataclass(frozen=True)
class Way:
    """One way to run the job: its command and environment, the record it must leave."""

    name: str
    runtime: str  # the runtime name its run record must show
    engine: str  # the table engine its run record must show
    command: Callable[[Setup, str, Optional[StandaloneCluster]], list[str]]
    env: Callable[[Setup], Mapping[str, str]]
    cluster: bool = False  # runs on the spark_cluster fixture
    job: str = JOB  # the job its command runs (whose run record it leaves)
    # Where the way's warehouse lives: (sources, scratch folder) -> its location, filled
    # with the sources; then how to read its run records and its output table back.
    place: Callable[[Setup, Path, Path], str] = lambda setup, sources, base: _copy(sources, base)
    records: Callable[[str, str], list[dict[str, Any]]] = lambda wh, job: _local_records(wh, job)
    table: Callable[[SparkSession, str], DataFrame] = lambda spark, wh: _local_table(spark, wh)


def _copy(sources: Path, base: Path) -> str:
    shutil.copytree(sources, base / "warehouse")
    return str(base / "warehouse")


def _local_records(warehouse: str, job: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in Path(warehouse, "_runs", job).glob("*.json")]


def _local_table(spark: SparkSession, warehouse: str) -> DataFrame:
    return DeltaRsEngine().read(spark, str(Path(warehouse).joinpath(*OUTPUT)))


def _iceberg_table(spark: SparkSession, warehouse: str) -> DataFrame:
    """The Iceberg output read back by pyiceberg, a reader other than the writer."""
    from featurekit.tables.iceberg_reader import IcebergSnapshotReader

    table = IcebergSnapshotReader.open(str(Path(warehouse).joinpath(*OUTPUT)))
    return spark.createDataFrame(table.to_arrow().to_pandas())


@dataclass
class Run:
    warehouse: str
    output: str  # stdout + stderr
    app: dict[str, Any] = field(default_factory=dict)  # the cluster's application, if any
    executor_logs: dict[str, Path] = field(default_factory=dict)


def _with_user_site(setup: Setup) -> Mapping[str, str]:
    """The user's install on the path, then the featurekit under test (this checkout's
    source, which may not be the one installed into the environment)."""
    env = {k: v for k, v in os.environ.items() if k != "FEATUREKIT_WAREHOUSE"}
    env["PYTHONPATH"] = os.pathsep.join([str(setup.user_site), str(FEATUREKIT_SOURCE)])
    return env


Command = Callable[[Setup, str, Optional["StandaloneCluster"]], list[str]]


def _featurekit_run(engine: str, job: str = JOB) -> Command:
    def command(setup: Setup, warehouse: str, _: Optional[StandaloneCluster]) -> list[str]:
        return [sys.executable, "-m", "featurekit", "run", job, "--quiet", *PARAMS,
                "--engine", engine, "--warehouse", warehouse]  # fmt: skip

    return command


def _glue_job(job: str, *platform: str) -> Command:
    """The Glue job script run by the emulation; ``platform``: Glue's own job parameters."""

    def command(setup: Setup, warehouse: str, _: Optional[StandaloneCluster]) -> list[str]:
        script = setup.dist / "entrypoints" / "glue_job.py"
        return [sys.executable, "-m", "featurekit", "glue", "run", str(script), "--quiet",
                "--warehouse", warehouse, "--", "--JOB_NAME", job, "--featurekit_job", job,
                "--featurekit_params", "min_amount=5", "--featurekit_engine", "auto",
                "--featurekit_warehouse", warehouse, *platform]  # fmt: skip

    return command


def _emr_cluster_iceberg(
    setup: Setup, warehouse: str, cluster: Optional[StandaloneCluster]
) -> list[str]:
    """The EMR step of the Iceberg job with Iceberg's runtime shipped beside Delta's jars
    (what EMR's iceberg-defaults classification does on a cluster)."""
    args = _emr_step(setup, warehouse, cluster, ICEBERG_JOB)
    at = args.index("--jars") + 1
    args[at] = ",".join([args[at], *jars.resolve([jars.iceberg_coordinate()])])
    return args


def _confs(confs: Mapping[str, str]) -> list[str]:
    return [arg for key, value in confs.items() for arg in ("--conf", f"{key}={value}")]


def _emr_cluster(setup: Setup, warehouse: str, cluster: Optional[StandaloneCluster]) -> list[str]:
    return _emr_step(setup, warehouse, cluster, JOB)


def _emr_step(
    setup: Setup, warehouse: str, cluster: Optional[StandaloneCluster], job: str
) -> list[str]:
    if cluster is None:
        raise TypeError("the emr-cluster way needs the spark_cluster fixture")
    submit = Path(sys.executable).parent / "spark-submit"
    delta_py = [j for j in setup.delta_jars if "delta-spark" in Path(j).name]
    py_files = [str(setup.dist / BUNDLE), *delta_py]
    return [str(submit), "--master", cluster.master_url, "--deploy-mode", "client",
            *_confs({**CLUSTER_CONFS, **DELTA_CONFS}), "--jars", ",".join(setup.delta_jars),
            "--py-files", ",".join(py_files), str(setup.dist / EMR_SCRIPT),
            "--job", job, *PARAMS, "--engine", "delta-spark",
            "--warehouse", warehouse]  # fmt: skip


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def _bare_driver(setup: Setup) -> Mapping[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FEATUREKIT_WAREHOUSE")}
    python = str(setup.clean_python)
    env.update(PYSPARK_PYTHON=python, PYSPARK_DRIVER_PYTHON=python, SPARK_HOME=str(_spark_home()))
    return env


LOCAL = Way("local", "local", "delta-rs", _featurekit_run("delta-rs"), _with_user_site)
LOCAL_DELTA_SPARK = _featurekit_run("delta-spark")
WAYS = [
    Way("local-delta-spark", "local", "delta-spark", LOCAL_DELTA_SPARK, _with_user_site),
    Way("glue", "glue", "delta-rs", _glue_job(JOB), _with_user_site),
    Way("emr-cluster", "emr", "delta-spark", _emr_cluster, _bare_driver, cluster=True),
    Way(
        "s3",
        "local",
        "delta-spark",
        LOCAL_DELTA_SPARK,
        lambda setup: _s3_env(setup),
        place=lambda setup, sources, base: _s3_place(setup, sources),
        records=lambda wh, job: _s3_records(wh, job),
        table=lambda spark, wh: _s3_table(spark, wh),
    ),
    # The Iceberg ways run the job whose output declares format="iceberg": no format flag.
    Way(
        "local-iceberg",
        "local",
        "iceberg",
        _featurekit_run("auto", ICEBERG_JOB),
        _with_user_site,
        job=ICEBERG_JOB,
        table=lambda spark, wh: _iceberg_table(spark, wh),
    ),
    Way(
        "glue-iceberg",
        "glue",
        "iceberg",
        _glue_job(ICEBERG_JOB, "--datalake-formats", "iceberg"),  # Glue's own Iceberg switch
        _with_user_site,
        job=ICEBERG_JOB,
        table=lambda spark, wh: _iceberg_table(spark, wh),
    ),
    Way(
        "emr-cluster-iceberg",
        "emr",
        "iceberg",
        _emr_cluster_iceberg,
        _bare_driver,
        cluster=True,
        job=ICEBERG_JOB,
        table=lambda spark, wh: _iceberg_table(spark, wh),
    ),
    Way(
        "emr-cluster-iceberg-glue",
        "emr",
        "iceberg",
        lambda setup, wh, cluster: _emr_glue_iceberg(setup, wh, cluster),
        lambda setup: _glue_env(setup),
        cluster=True,
        job=ICEBERG_JOB,
        place=lambda setup, sources, base: _glue_place(setup, sources, base),
        table=lambda spark, wh: _glue_iceberg_table(spark),
    ),
    Way(
        "s3-iceberg",
        "local",
        "iceberg",
        _featurekit_run("auto", ICEBERG_JOB),
        lambda setup: _s3_env(setup),
        job=ICEBERG_JOB,
        place=lambda setup, sources, base: _s3_place(setup, sources, "wh-iceberg"),
        records=lambda wh, job: _s3_records(wh, job),
        table=lambda spark, wh: _s3_iceberg_table(spark, wh),
    ),
]


# -- the S3 warehouse way: moto's server on 127.0.0.1, the tables through s3a -------------
S3_BUCKET = "shop-warehouse"
S3_KEYS = {"access_key": "testing", "secret_key": "testing"}


def _s3(endpoint: str) -> Any:
    from featurekit.testing.plugin import boto_client

    return boto_client(endpoint, "s3")


def _s3_env(setup: Setup) -> Mapping[str, str]:
    env = {k: v for k, v in _with_user_site(setup).items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL_S3=setup.s3_endpoint, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
               AWS_EC2_METADATA_DISABLED="true")  # fmt: skip
    return env


def _s3_place(setup: Setup, sources: Path, prefix: str = "wh") -> str:
    """The sources uploaded: orders to s3://shop-landing/orders/, the warehouse (its Delta
    table and catalog, locations rewritten to S3) under s3://shop-warehouse/PREFIX (a
    prefix of each way's own: one bucket holds them all)."""
    client = _s3(setup.s3_endpoint)
    for bucket in (S3_BUCKET, "shop-landing"):
        if bucket not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
            client.create_bucket(Bucket=bucket)
    warehouse = f"s3://{S3_BUCKET}/{prefix}"
    for path in sorted(p for p in sources.rglob("*") if p.is_file()):
        relative = path.relative_to(sources).as_posix()
        if relative.startswith("_s3/"):
            bucket, _, key = relative[len("_s3/") :].partition("/")
            client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
            continue
        body = path.read_bytes()
        if relative.startswith("_catalog/"):
            entry = json.loads(body)
            entry["location"] = entry["location"].replace(str(sources), warehouse)
            body = json.dumps(entry).encode()
        client.put_object(Bucket=S3_BUCKET, Key=f"{prefix}/{relative}", Body=body)
    return warehouse


def _s3_records(warehouse: str, job: str) -> list[dict[str, Any]]:
    client = _s3(_S3_ENDPOINT[0])
    prefix = warehouse.split(f"s3://{S3_BUCKET}/", 1)[1]
    listed = client.list_objects_v2(Bucket=S3_BUCKET, Prefix=f"{prefix}/_runs/{job}/")
    keys = [o["Key"] for o in listed.get("Contents", [])]
    return [json.loads(client.get_object(Bucket=S3_BUCKET, Key=k)["Body"].read()) for k in keys]


def _s3_table(spark: SparkSession, warehouse: str) -> DataFrame:
    """The output read back from the bucket by delta-rs, a second Delta reader."""
    from deltalake import DeltaTable

    from featurekit.runtime.s3 import S3Access

    access = S3Access(endpoint=_S3_ENDPOINT[0], **S3_KEYS)
    table = DeltaTable(f"{warehouse}/{'/'.join(OUTPUT)}", storage_options=access.storage_options())
    return spark.createDataFrame(table.to_pyarrow_table().to_pandas())


def _s3_iceberg_table(spark: SparkSession, warehouse: str) -> DataFrame:
    """The Iceberg output read back from the bucket by pyiceberg, a reader other than Spark."""
    from featurekit.runtime.s3 import S3Access
    from featurekit.tables.iceberg_reader import IcebergSnapshotReader

    access = S3Access(endpoint=_S3_ENDPOINT[0], **S3_KEYS)
    location = f"{warehouse}/{'/'.join(OUTPUT)}"
    table = IcebergSnapshotReader.open(location, storage_options=access.storage_options())
    return spark.createDataFrame(table.to_arrow().to_pandas())


# -- the EMR step with the deployed plan's Iceberg confs: the Glue Data Catalog on moto -----
def _glue_place(setup: Setup, sources: Path, base: Path) -> str:
    """The sources copied; shop.customers registered in moto's Glue Data Catalog."""
    from featurekit.tables.glue_catalog import GlueCatalog, GlueCatalogConfig
    from featurekit.testing.plugin import boto_client

    warehouse = _copy(sources, base)
    entry = json.loads(Path(warehouse, "_catalog", "shop.customers.json").read_text())
    config = GlueCatalogConfig(region="us-east-1", endpoint_url=setup.s3_endpoint)
    glue = GlueCatalog(config, client=boto_client(setup.s3_endpoint, "glue"))
    # the local catalog's location: relative to the warehouse, or absolute in the sources
    location = str(Path(warehouse, entry["location"].replace(str(sources), warehouse)))
    glue.register("shop.customers", location, schema=entry["schema"])
    return warehouse


def _glue_env(setup: Setup) -> Mapping[str, str]:
    env = {k: v for k, v in _bare_driver(setup).items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=setup.s3_endpoint, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1",
               AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")  # fmt: skip
    return env


def _emr_glue_iceberg(
    setup: Setup, warehouse: str, cluster: Optional[StandaloneCluster]
) -> list[str]:
    """The Iceberg job's EMR step with the Spark confs ``featurekit plan emr`` writes for it
    (Iceberg's GlueCatalog as featurekit_iceberg), plus moto's Glue endpoint; the step's
    featurekit catalog is the Glue Data Catalog."""
    from featurekit.deploy.common import spark_confs
    from featurekit.tables.iceberg_catalog import CATALOG_CONF

    planned = spark_confs(glue_catalog=False, extra={}, iceberg=True, catalog="glue")
    moto = {f"{CATALOG_CONF}.glue.endpoint": setup.s3_endpoint,
            f"{CATALOG_CONF}.client.region": "us-east-1"}  # fmt: skip
    args = _emr_cluster_iceberg(setup, warehouse, cluster)
    at = args.index("--jars") + 1
    args[at] = ",".join([args[at], *jars.resolve([jars.iceberg_aws_coordinate()])])
    at = args.index("--py-files")
    args[at:at] = _confs({**planned, **moto})
    return [*args, "--catalog", "glue", "--catalog-region", "us-east-1"]


def _glue_iceberg_table(spark: SparkSession) -> DataFrame:
    """The table Glue's entry points at (an Iceberg entry: GlueCatalog wrote it), read by
    pyiceberg from its metadata_location."""
    from featurekit.tables.iceberg_reader import IcebergSnapshotReader
    from featurekit.testing.plugin import boto_client

    glue = boto_client(_S3_ENDPOINT[0], "glue")
    table = glue.get_table(DatabaseName=OUTPUT[0], Name=OUTPUT[1])["Table"]
    assert table["Parameters"]["table_type"] == "ICEBERG", table["Parameters"]
    location, metadata = table["StorageDescriptor"]["Location"], table["Parameters"]
    # Iceberg's GlueCatalog committed it (NNNNN-<uuid>.metadata.json, no version hint), not
    # the folder-addressed tables (vN.metadata.json + metadata/version-hint.text)
    assert re.fullmatch(
        r"\d{5}-[0-9a-f-]{36}\.metadata\.json", Path(metadata["metadata_location"]).name
    )
    assert not Path(location.replace("file:", ""), "metadata", "version-hint.text").exists()
    reader = IcebergSnapshotReader.open(location, metadata_location=metadata["metadata_location"])
    return spark.createDataFrame(reader.to_arrow().to_pandas())


_S3_ENDPOINT: list[str] = []  # set by the setup fixture: records/table get only the URI


def _clean_python(base: Path) -> Path:
    """A venv whose site sees pyspark/deltalake/... but not featurekit's editable install."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(base)], check=True)
    purelib = Path(sysconfig.get_paths(vars={"base": str(base), "platbase": str(base)})["purelib"])
    # A plain path line: the directory joins sys.path, its own .pth files are not run.
    (purelib / "featurekit_conformance_deps.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n"
    )
    return base / "bin" / "python"


def _pip_install(wheel: Path, target: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", str(target), str(wheel)],
        check=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str) -> Setup:
    base = tmp_path_factory.mktemp("conformance")
    dist = base / "dist"
    build_artifacts(USER_PROJECT, dist)  # featurekit + the user project, as a user builds it
    user_wheel = dist / "wheels" / read_project(USER_PROJECT).wheel_name
    _pip_install(user_wheel, base / "user-site")
    delta_jars = tuple(jars.resolve([jars.delta_coordinate()]))  # cached by `make install`
    _S3_ENDPOINT[:] = [moto_endpoint]
    return Setup(dist, user_wheel, base / "user-site", _clean_python(base / "clean-venv"),
                 delta_jars, moto_endpoint)  # fmt: skip


ORDERS = {
    "part-0.csv": [
        ("o1", "c1", "2026-03-01 08:15:00", 12.5),
        ("o2", "c1", "2026-03-01 19:40:00", 30.0),
        ("o3", "c2", "2026-03-01 23:59:59", 4.0),
        ("o4", "c3", "2026-03-02 00:00:00", 99.99),
    ],
    "part-1.csv": [
        ("o5", "c2", "2026-03-02 10:00:00", 18.25),
        ("o6", "c4", "2026-03-02 11:30:00", 7.5),
        ("o7", "c1", "2026-03-03 09:00:00", 5.0),
        ("o8", "c3", "2026-03-03 14:45:00", 61.2),
        ("o9", "c3", "2026-03-03 15:00:00", 2.0),
    ],
}
CUSTOMERS = [("c1", "gold"), ("c2", "silver"), ("c3", "gold")]  # c4: no segment -> unknown


@pytest.fixture(scope="module")
def sources(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with the user job's inputs: order CSVs and the table shop.customers."""
    warehouse = tmp_path_factory.mktemp("sources") / "warehouse"
    landing = warehouse / "_s3" / "shop-landing" / "orders"
    landing.mkdir(parents=True)
    for name, rows in ORDERS.items():
        lines = ["order_id,customer_id,order_time,amount", *(",".join(map(str, r)) for r in rows)]
        (landing / name).write_text("\n".join(lines) + "\n")
    runtime = LocalRuntime(LocalConfig(warehouse=str(warehouse), quiet=True), spark=spark)
    customers = spark.createDataFrame(CUSTOMERS, "customer_id string, segment string")
    write_source_table(runtime, "shop.customers", customers, "conformance customers")
    return warehouse


def run_way(way: Way, setup: Setup, sources: Path, base: Path, cluster: Any = None) -> Run:
    """Run ``way`` on its own copy of the source warehouse; check its run record."""
    warehouse = way.place(setup, sources, base)
    started = time.time() * 1000
    proc = subprocess.run(
        way.command(setup, warehouse, cluster),
        env=dict(way.env(setup)),
        capture_output=True,
        text=True,
    )
    printed = proc.stdout + proc.stderr  # spark-submit forwards the driver's stderr to stdout
    assert proc.returncode == 0, f"{way.name} failed:\n{proc.stdout}\n{proc.stderr[-4000:]}"
    (record,) = way.records(warehouse, way.job)
    assert (record["status"], record["runtime"]) == ("succeeded", way.runtime)
    assert record["output"]["engine"] == way.engine
    run = Run(warehouse, printed)
    if cluster is not None:
        run.app = cluster.last_app()
        assert run.app["starttime"] >= started - 1000, "the cluster ran no new application"
        run.executor_logs = cluster.executor_logs(run.app["id"])
    return run


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest,
    setup: Setup,
    sources: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[Way], Run]:
    """Each way's run, once per module (the cluster checks reuse the conformance run)."""
    done: dict[str, Run] = {}

    def run(way: Way) -> Run:
        if way.name not in done:
            cluster = request.getfixturevalue("spark_cluster") if way.cluster else None
            base = tmp_path_factory.mktemp(way.name)
            done[way.name] = run_way(way, setup, sources, base, cluster)
        return done[way.name]

    return run


@pytest.fixture(scope="module")
def reference(spark: SparkSession, runs: Callable[[Way], Run]) -> DataFrame:
    df = LOCAL.table(spark, runs(LOCAL).warehouse).cache()
    # c1 on 03-01: o1 + o2 (o3 is below min_amount=5); c4 has no segment.
    rows = {(r.customer_id, str(r.order_date)): r for r in df.collect()}
    assert len(rows) == 6
    assert (rows["c1", "2026-03-01"].orders, rows["c1", "2026-03-01"].revenue) == (2, 42.5)
    assert rows["c4", "2026-03-02"].segment == "unknown"
    return df


@pytest.mark.parametrize("way", WAYS, ids=[w.name for w in WAYS])
def test_way_writes_the_same_table_as_local(
    way: Way, spark: SparkSession, runs: Callable[[Way], Run], reference: DataFrame
) -> None:
    table = way.table(spark, runs(way).warehouse)
    assert_df_equality(reference, table, ignore_row_order=True, ignore_column_order=True)


EMR_CLUSTER = next(w for w in WAYS if w.name == "emr-cluster")


def test_emr_step_runs_its_executors_in_two_worker_processes(
    runs: Callable[[Way], Run], spark_cluster: StandaloneCluster
) -> None:
    run = runs(EMR_CLUSTER)
    assert run.app["state"] == "FINISHED", run.app
    # One executor per worker, each a JVM the worker launched, and both ran tasks.
    workers = {name.split("/")[0] for name in run.executor_logs}
    assert len(run.executor_logs) == 2, run.executor_logs
    assert len(workers) == 2, run.executor_logs
    for name, stderr in run.executor_logs.items():
        assert "Running task" in stderr.read_text(errors="replace"), f"{name} ran no task"


def test_emr_step_on_the_cluster_imports_only_the_shipped_artifacts(
    runs: Callable[[Way], Run], setup: Setup
) -> None:
    run = runs(EMR_CLUSTER)
    lines = [x for x in run.output.splitlines() if "featurekit 0." in x and " from " in x]
    assert lines, run.output[-3000:]
    assert str(setup.dist / BUNDLE) in lines[0], lines[0]
    assert str(ROOT) not in lines[0], lines[0]
    job_lines = [x for x in run.output.splitlines() if f"job {JOB} from " in x]
    assert job_lines, run.output[-3000:]
    assert f"{setup.dist / BUNDLE}/shop_features/orders.py" in job_lines[0], job_lines[0]
