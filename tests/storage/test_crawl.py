"""featurekit crawl: datasets found under a landing folder and registered in the catalog
(the local one and the Glue Data Catalog on moto's server), as a Glue crawler would."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession

from featurekit.cli import main
from featurekit.errors import InputError
from featurekit.runtime.local import LocalConfig, LocalRuntime
from featurekit.tables.catalog import CatalogEntry, LocalCatalog, Partition
from featurekit.tables.deltars import DeltaRsEngine
from featurekit.tables.files import read_files_table
from featurekit.tables.glue_catalog import GlueCatalogConfig
from featurekit.warehouse import Warehouse

pytestmark = pytest.mark.integration


def read_table(runtime: LocalRuntime, name: str, entry: CatalogEntry, **kwargs: Any) -> DataFrame:
    """Input ``name`` read from a files table of the catalog, as a run reads it."""
    storage = runtime.storage
    return read_files_table(
        runtime.spark, storage.warehouse, storage.catalog, name, entry, **kwargs
    )


@pytest.fixture(scope="module")
def landing(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("landing")
    for day, rows in {"2026-03-01": ["o1,c1,12.5", "o2,c2,4"], "2026-03-02": ["o3,c1,7.5"]}.items():
        folder = root / "orders" / f"dt={day}"
        folder.mkdir(parents=True)
        (folder / "part-0.csv").write_text("order_id,customer_id,amount\n" + "\n".join(rows))
    (root / "clicks").mkdir()
    (root / "clicks" / "a.tsv").write_text("u1\t/home\t3\nu2\t/cart\t1\n")  # no header
    for day, lines in {"01": ['{"user": "u1", "n": 1}'], "02": ['{"user": "u2", "n": 2}']}.items():
        folder = root / "events" / "2026" / "03" / day
        folder.mkdir(parents=True)
        (folder / "events.jsonl").write_text("\n".join(lines) + "\n")
    items = spark.createDataFrame([("i1", 9.99), ("i2", 1.5)], "item_id string, price double")
    items.coalesce(1).write.parquet(str(root / "items"))
    customers = spark.createDataFrame([("c1", "gold")], "customer_id string, segment string")
    DeltaRsEngine().write(customers, str(root / "customers"), mode="overwrite")
    (root / "mixed").mkdir()
    (root / "mixed" / "a.csv").write_text("x\n1\n")
    (root / "mixed" / "b.json").write_text('{"x": 1}\n')
    return root


def _args(catalog: str, endpoint: str, warehouse: Path) -> list[str]:
    args = ["--warehouse", str(warehouse), "--quiet", "--catalog", catalog]
    if catalog == "glue":
        args += ["--catalog-endpoint", endpoint, "--catalog-region", "us-east-1"]
    return args


@pytest.mark.parametrize("catalog", ["local", "glue"])
def test_crawl_registers_one_table_per_dataset(
    catalog: str, landing: Path, spark: SparkSession, tmp_path: Path, moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    db = f"raw_{uuid.uuid4().hex[:6]}"
    args = ["crawl", str(landing), "--database", db, *_args(catalog, moto_endpoint, tmp_path)]
    assert main([*args, "--dry-run", "--json"]) == 0
    plan = {t["table"]: t for t in json.loads(capsys.readouterr().out)["tables"]}
    assert {t["action"] for t in plan.values()} == {"create", "skipped"}
    assert plan[f"{db}.orders"]["new_partitions"] == [
        {"values": ["2026-03-01"], "location": f"{landing}/orders/dt=2026-03-01"},
        {"values": ["2026-03-02"], "location": f"{landing}/orders/dt=2026-03-02"},
    ]  # what the crawl would add
    glue = GlueCatalogConfig(region="us-east-1", endpoint_url=moto_endpoint)
    config = LocalConfig(warehouse=str(tmp_path), quiet=True, catalog=catalog, glue_catalog=glue)
    runtime = LocalRuntime(config, spark=spark)
    assert not [
        e for e in runtime.storage.catalog.list() if e.name.startswith(db)
    ]  # dry run: nothing

    assert main([*args, "--json"]) == 0
    done = {t["table"]: t for t in json.loads(capsys.readouterr().out)["tables"]}
    assert {n: (t["format"], t["partitions"], t["action"]) for n, t in done.items()} == {
        f"{db}.orders": ("csv", ["dt"], "create"),
        f"{db}.clicks": ("csv", [], "create"),
        f"{db}.events": ("json", ["partition_0", "partition_1", "partition_2"], "create"),
        f"{db}.items": ("parquet", [], "create"),
        f"{db}.customers": ("delta", [], "create"),
        f"{db}.mixed": ("mixed", [], "skipped"),
    }
    assert done[f"{db}.orders"]["columns"] == [
        ["order_id", "string"], ["customer_id", "string"], ["amount", "double"], ["dt", "string"]
    ]  # fmt: skip
    assert [c[0] for c in done[f"{db}.clicks"]["columns"]] == ["col0", "col1", "col2"]

    counts = {
        name: read_table(runtime, name, runtime.storage.catalog.get(f"{db}.{name}")).count()
        for name in ("orders", "clicks", "events", "items")
    }
    assert counts == {"orders": 3, "clicks": 2, "events": 2, "items": 2}
    orders = read_table(runtime, "orders", runtime.storage.catalog.get(f"{db}.orders"))
    assert sorted(orders.columns) == ["amount", "customer_id", "dt", "order_id"]
    assert runtime.storage.catalog.get(f"{db}.customers").format == "delta"
    assert runtime.storage.catalog.partitions(f"{db}.events") == [
        Partition(("2026", "03", day), f"{landing}/events/2026/03/{day}") for day in ("01", "02")
    ]
    assert [p.values for p in runtime.storage.catalog.partitions(f"{db}.orders")] == [
        ("2026-03-01",), ("2026-03-02",)
    ]  # fmt: skip
    assert runtime.storage.catalog.partitions(f"{db}.items") == []


def test_a_recrawl_follows_the_schema_change_policy(
    landing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "events"
    (source / "2026" / "03").mkdir(parents=True)
    (source / "2026" / "03" / "a.jsonl").write_text('{"user": "u1", "n": 1}\n')
    db = f"raw_{uuid.uuid4().hex[:6]}"
    args = ["crawl", str(source), "--database", db, "--warehouse", str(tmp_path / "wh"), "--quiet"]
    assert main(args) == 0
    (source / "2026" / "04").mkdir()
    (source / "2026" / "04" / "b.jsonl").write_text('{"user": "u2", "n": 2, "channel": "web"}\n')
    capsys.readouterr()

    assert main([*args, "--on-change", "log", "--json"]) == 0
    logged = json.loads(capsys.readouterr().out)["tables"][0]
    assert (logged["action"], logged["changes"]) == ("logged", ["new column channel string"])
    assert logged["new_partitions"] == [  # new partitions are added under either policy
        {"values": ["2026", "04"], "location": f"{source}/2026/04"}
    ]
    catalog = LocalCatalog(Warehouse(tmp_path / "wh"))
    assert "channel" not in catalog.get(f"{db}.events").column_types
    assert [p.values for p in catalog.partitions(f"{db}.events")] == [
        ("2026", "03"),
        ("2026", "04"),
    ]

    assert main([*args, "--json"]) == 0
    updated = json.loads(capsys.readouterr().out)["tables"][0]
    assert (updated["action"], updated["new_partitions"]) == ("update", [])
    assert list(catalog.get(f"{db}.events").column_types) == [
        "n",
        "user",
        "channel",
        "partition_0",
        "partition_1",
    ]
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tables"][0]["action"] == "unchanged"
    (source / "2026" / "05").mkdir()
    (source / "2026" / "05" / "c.jsonl").write_text('{"user": "u3", "n": 3}\n')
    assert main([*args, "--dry-run"]) == 0
    assert "would add 1 partition(s): partition_0=2026/partition_1=05" in capsys.readouterr().out
    assert len(catalog.partitions(f"{db}.events")) == 2  # a dry run registers nothing


def test_crawling_nothing_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["crawl", str(tmp_path / "absent"), "--database", "raw", "--warehouse", str(tmp_path)]
    assert main(args) == 2
    assert "Nothing to crawl at" in capsys.readouterr().err


def test_register_finds_partitions_and_tables_read_only_the_registered_ones(
    landing: Path,
    spark: SparkSession,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    orders = tmp_path / "orders"
    shutil.copytree(landing / "orders", orders)
    monkeypatch.chdir(tmp_path)  # a location relative to the working folder
    args = ["table", "register", "raw.orders", "--location", "./orders", "--format", "csv",
            "--option", "header=true", "--warehouse", str(tmp_path / "wh"), "--quiet",
            "--json"]  # fmt: skip
    assert main([*args, "--partition-columns", "day"]) == 2
    assert "partitioned by dt" in capsys.readouterr().err
    assert main([*args, "--partition-columns", "dt"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["location"] == str(orders)  # the entry as stored: its location resolved
    added = doc["new_partitions"]
    assert [p["values"] for p in added] == [["2026-03-01"], ["2026-03-02"]]

    runtime = LocalRuntime(LocalConfig(warehouse=str(tmp_path / "wh"), quiet=True), spark=spark)
    entry = runtime.storage.catalog.get("raw.orders")
    (orders / "dt=2026-03-09").mkdir()  # on disk, not registered: not read (as Athena)
    (orders / "dt=2026-03-09" / "a.csv").write_text("order_id,customer_id,amount\no9,c9,1\n")
    rows = read_table(runtime, "orders", entry).collect()
    day1, day2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)  # the inferred type, registered
    assert sorted((r.order_id, r.dt) for r in rows) == [("o1", day1), ("o2", day1), ("o3", day2)]
    shutil.rmtree(orders / "dt=2026-03-02")  # registered, gone: a clear error
    with pytest.raises(InputError, match=r"partition dt=2026-03-02 of raw\.orders is registered"):
        read_table(runtime, "orders", entry)
    first_day = read_table(runtime, "orders", entry, window=("dt", day1, day1))
    assert sorted(r.order_id for r in first_day.collect()) == ["o1", "o2"]  # dt=03-02 unread
    later = read_table(
        runtime, "orders", entry, window=("dt", day2 + dt.timedelta(3), day2 + dt.timedelta(9))
    )
    assert later.columns == ["order_id", "customer_id", "amount", "dt"]
    assert later.count() == 0  # no partition of those dates: no rows


def test_table_show_previews_a_crawled_files_table(
    landing: Path, spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wh = ["--warehouse", str(tmp_path / "wh")]
    assert main(["crawl", str(landing), "--database", "raw", *wh, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["table", "show", "raw.orders", "--limit", "2", *wh]) == 0
    captured = capsys.readouterr()
    assert "starting Spark to read the csv files table raw.orders" in captured.err
    out = captured.out
    assert out.startswith(f"raw.orders  csv files  {landing}/orders")
    assert "  rows: 3\n" in out
    assert "    amount: double\n" in out
    assert "order_id" in out
    assert "o1" in out
    assert main(["table", "show", "raw.items", "--json", "--quiet", *wh]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["format"], doc["version"], doc["rows"]) == ("parquet", None, 2)
    assert sorted(r["item_id"] for r in doc["head"]) == ["i1", "i2"]
    assert main(["table", "show", "raw.items", "--version", "0", *wh]) == 2
    assert "has no versions" in capsys.readouterr().err


def test_a_dry_run_prints_each_tables_columns_and_says_spark_starts(
    landing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["crawl", str(landing), "--database", "raw", "--warehouse", str(tmp_path / "wh")]
    assert main([*args, "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert "featurekit: starting Spark" in captured.err
    out = captured.out
    orders = out[out.index("raw.orders: would create (csv partitions dt)") :]
    assert orders.splitlines()[1:6] == [
        "  columns:",
        "    order_id: string",
        "    customer_id: string",
        "    amount: double",
        "    dt: string (partition)",
    ]
    assert "    price: double\n" in out  # raw.items, parquet
    assert not LocalCatalog(Warehouse(tmp_path / "wh")).list()  # a dry run registers nothing
    assert main([*args, "--dry-run", "--quiet"]) == 0
    assert "starting Spark" not in capsys.readouterr().err


def test_csv_delimiters_are_found_as_glue_finds_them(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    landing = tmp_path / "landing"
    files = {
        "semicolons": 'id;name;price\n1;"a;b";2.5\n2;c;3\n',  # a quoted delimiter
        "pipes": "id|name|price\n1|a,b|2.5\n2|c|3\n",  # commas in a value
        "commas": "id,name,price\n1,a,2.5\n",
    }
    for name, text in files.items():
        (landing / name).mkdir(parents=True)
        (landing / name / "part-0.csv").write_text(text)
    wh = ["--warehouse", str(tmp_path / "wh"), "--quiet"]
    assert main(["crawl", str(landing), "--database", "raw", *wh]) == 0
    capsys.readouterr()
    runtime = LocalRuntime(LocalConfig(warehouse=str(tmp_path / "wh"), quiet=True), spark=spark)
    for name, sep in (("semicolons", ";"), ("pipes", "|"), ("commas", ",")):
        entry = runtime.storage.catalog.get(f"raw.{name}")
        assert entry.options["sep"] == sep
        rows = read_table(runtime, name, entry).orderBy("id").collect()
        assert [f["name"] for f in entry.schema["fields"]] == ["id", "name", "price"]
        assert rows[0].name == {"semicolons": "a;b", "pipes": "a,b", "commas": "a"}[name]
