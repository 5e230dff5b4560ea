"""JDBC connections of Glue scripts: connection names and URLs mapped by the connections
file, or served by the embedded H2 database under the warehouse (read back through JDBC)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from featurekit.cli.glue import run_script
from featurekit.errors import ConfigError, UnsupportedError
from featurekit.glue_local import jdbc
from featurekit.glue_local.catalog import ScriptCatalog
from featurekit.glue_local.connections import Connections, JdbcConnection, load_connections
from featurekit.glue_local.context import GlueContext
from featurekit.glue_local.dynamicframe import DynamicFrame
from featurekit.glue_local.install import installed
from featurekit.runtime.local import LocalRuntime

SCRIPTS = Path(__file__).parent / "scripts"


def conns(warehouse: Path, **kwargs: object) -> Connections:
    return Connections(jdbc_root=warehouse.resolve() / "_jdbc", **kwargs)  # type: ignore[arg-type]


def read_back(spark: SparkSession, target: jdbc.JdbcTarget, table: str) -> DataFrame:
    return jdbc.read_table(spark, target, table, {})


def check(actual: DataFrame, expected: DataFrame) -> None:
    assert_df_equality(
        actual,
        expected,
        ignore_row_order=True,
        ignore_nullable=True,
        ignore_column_order=True,
        ignore_metadata=True,
    )


def put(warehouse: Path, key: str, *docs: dict[str, object]) -> None:
    path = warehouse / "_s3" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))


# -- the connections file ---------------------------------------------------------------


def test_connections_file_maps_names_urls_and_the_dynamodb_endpoint(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[connections.redshift]\nurl = "jdbc:postgresql://127.0.0.1:5439/dev"\nuser = "etl"\n'
        'password = "pw"\n[connections.orders-db]\ntype = "mysql"\n'
        '[urls]\n"jdbc:postgresql://prod:5432/s" = "jdbc:postgresql://127.0.0.1:5432/s"\n'
        '[dynamodb]\nendpoint_url = "http://127.0.0.1:8000"\n'
    )
    found = load_connections(str(path), jdbc_root=tmp_path / "_jdbc")
    assert found.connection("redshift") == JdbcConnection(
        "redshift", None, "jdbc:postgresql://127.0.0.1:5439/dev", "etl", "pw"
    )
    assert found.connection("orders-db").type == "mysql"
    assert found.connection("unmapped").url is None
    assert found.dynamodb_endpoint == "http://127.0.0.1:8000"
    target = jdbc.url_target(found, "postgresql", "jdbc:postgresql://prod:5432/s", "u", "p")
    assert target.url == "jdbc:postgresql://127.0.0.1:5432/s"
    assert not target.embedded
    # the file's database replaces the URL's, as Glue's connection_options["database"]
    dev2 = jdbc.connection_target(found, "redshift", database="dev2")
    assert dev2.url == "jdbc:postgresql://127.0.0.1:5439/dev2"


def test_connection_flags_add_or_replace_the_files_connections(tmp_path: Path) -> None:
    from featurekit.glue_local.connections import with_flags

    base = conns(tmp_path, jdbc={"a": JdbcConnection("a", "mysql")})
    found = with_flags(base, ["a=jdbc:postgresql://127.0.0.1/db?user=u", "b=oracle"])
    assert found.connection("a").url == "jdbc:postgresql://127.0.0.1/db?user=u"
    assert found.connection("b") == JdbcConnection("b", "oracle")
    with pytest.raises(ConfigError, match="expected NAME=jdbc:URL or NAME=ENGINE"):
        with_flags(base, ["nothing"])
    with pytest.raises(ConfigError, match="use one of"):
        with_flags(base, ["c=db2"])


def test_connections_file_refuses_unknown_keys_and_engines(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"connections": {"x": {"url": "jdbc:h2:mem:x", "pasword": "p"}}}))
    with pytest.raises(ConfigError, match="unknown key 'pasword'"):
        load_connections(str(path), jdbc_root=None)
    path.write_text(json.dumps({"connections": {"x": {"type": "db2"}}}))
    with pytest.raises(ConfigError, match="use one of postgresql, redshift, mysql"):
        load_connections(str(path), jdbc_root=None)
    with pytest.raises(ConfigError, match="cannot read it"):
        load_connections(str(tmp_path / "missing.toml"), jdbc_root=None)


def test_embedded_database_takes_each_engines_dialect(tmp_path: Path) -> None:
    found = conns(tmp_path)
    urls = {
        kind: jdbc.connection_target(found, "c", vendor=kind, database="dev").url
        for kind in ("redshift", "postgresql", "mysql", "sqlserver", "oracle")
    }
    assert urls["redshift"] == urls["postgresql"]
    assert urls["redshift"].endswith("/_jdbc/c/dev;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;"
                                     "DEFAULT_NULL_ORDERING=HIGH")  # fmt: skip
    assert ";MODE=MySQL;" in urls["mysql"]
    assert urls["sqlserver"].endswith(";MODE=MSSQLServer")
    assert urls["oracle"].endswith(";MODE=Oracle")
    # a script's literal URL of a remote host: the stand-in for that host and database
    remote = jdbc.url_target(found, "postgresql", "jdbc:postgresql://db.example.com/shop", "", "")
    assert remote.embedded
    assert "/_jdbc/db.example.com/shop;MODE=PostgreSQL" in remote.url
    local = jdbc.url_target(found, "postgresql", "jdbc:postgresql://localhost:5432/shop", "", "")
    assert not local.embedded  # a database on this machine is used as it is


def test_s3_warehouse_needs_mapped_connections() -> None:
    with pytest.raises(ConfigError, match="map it to a JDBC URL"):
        jdbc.connection_target(Connections(jdbc_root=None), "redshift")


# -- scripts ----------------------------------------------------------------------------


@pytest.mark.slow
def test_relationalize_walkthrough_writes_to_redshift_through_the_connection(
    spark: SparkSession, local_runtime: LocalRuntime, warehouse: Path
) -> None:
    contact = [{"type": "email", "value": "a@x"}, {"type": "fax", "value": "1"}]
    put(warehouse, "legislators/persons/p.json",
        {"id": "p1", "name": "Ann", "contact_details": contact},
        {"id": "p2", "name": "Bob", "contact_details": []})  # fmt: skip
    put(warehouse, "legislators/memberships/m.json",
        {"person_id": "p1", "organization_id": "o1", "role": "member"},
        {"person_id": "p2", "organization_id": "o1", "role": "chair"})  # fmt: skip
    put(warehouse, "legislators/organizations/o.json", {"id": "o1", "name": "Senate"})
    args = ["--JOB_NAME", "hist", "--TempDir", "s3://legislators/tmp/"]
    assert run_script(str(SCRIPTS / "legislators_redshift_job.py"), args, local_runtime) == 0

    target = jdbc.connection_target(
        conns(warehouse), "redshift3", vendor="redshift", database="dev"
    )
    check(read_back(spark, target, "public.l_history"), spark.createDataFrame(
        [("Ann", "Senate", "member"), ("Bob", "Senate", "chair")],
        "name string, org_name string, role string",
    ))  # fmt: skip
    root = read_back(spark, target, "hist_root")
    assert sorted(r.name for r in root.collect()) == ["Ann", "Bob"]
    contacts = read_back(spark, target, "hist_root_contact_details")
    types = contacts.select("`contact_details.val.type`").collect()
    assert sorted(r[0] for r in types) == ["email", "fax"]


def test_postgres_from_options_reads_and_writes_the_stand_in_of_its_url(
    spark: SparkSession, local_runtime: LocalRuntime, warehouse: Path
) -> None:
    url = "jdbc:postgresql://db.example.com:5432/shop"
    target = jdbc.url_target(conns(warehouse), "postgresql", url, "", "")
    orders = spark.createDataFrame(
        [("o1", 12.5), ("o2", 3.0), ("o3", 10.0)], "order_id string, amount double"
    )
    jdbc.write_table(spark, orders, target, "public.orders", {})
    args = ["--db_url", url, "--db_user", "app", "--db_password", "pw", "--JOB_NAME", "pg"]
    assert run_script(str(SCRIPTS / "postgres_job.py"), args, local_runtime) == 0
    check(
        read_back(spark, target, "reports.big_orders"),
        spark.createDataFrame([("o1", 12.5), ("o3", 10.0)], "order_id string, amount double"),
    )


def test_catalog_table_on_a_jdbc_connection_and_extract_jdbc_conf(
    spark: SparkSession, local_runtime: LocalRuntime, warehouse: Path
) -> None:
    found = conns(warehouse)
    target = jdbc.connection_target(found, "pg-conn", vendor="postgresql", database="sales")
    rows = spark.createDataFrame([(1, "a"), (2, "b")], "id long, label string")
    jdbc.write_table(spark, rows, target, "public.items", {})
    catalog = ScriptCatalog(local_runtime.storage.catalog)
    catalog.register_connection_table(
        "sales", "sales_public_items", classification="postgresql",
        connection="pg-conn", location="sales.public.items", schema=rows.schema,
    )  # fmt: skip
    with installed(storage=local_runtime.storage, connections=found):
        glue = GlueContext(spark)
        frame = glue.create_dynamic_frame.from_catalog(
            database="sales", table_name="sales_public_items"
        )
        check(frame.toDF(), rows)
        more = spark.createDataFrame([(3, "c")], "id long, label string")
        glue.write_dynamic_frame.from_catalog(
            frame=DynamicFrame.fromDF(more, glue, "more"),
            database="sales", table_name="sales_public_items",
        )  # fmt: skip
        conf = glue.extract_jdbc_conf("pg-conn")
        with pytest.raises(UnsupportedError, match="connection_type 's3', 'postgresql'"):
            glue.create_dynamic_frame.from_options("kafka", {"topic": "t"})
    check(read_back(spark, target, "public.items"), rows.union(more))
    assert conf["vendor"] == "postgresql"
    assert conf["fullUrl"] == jdbc.connection_target(found, "pg-conn").url
    assert conf["user"] == "sa"
