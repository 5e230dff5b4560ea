"""Write a class-data sharing archive of a test-shaped Spark JVM: jvm_archive.py OUT.

The driver JVM runs the work a test session does (Delta, parquet, windows, joins, a
Deequ ruleset) and dumps the classes it loaded to OUT when it exits
(``-XX:ArchiveClassesAtExit``, JDK 13+). JVMs started with ``-XX:SharedArchiveFile=OUT``
then map those classes instead of loading and verifying them again: tests/conftest.py
gives the archive to every JVM of a test session. Exit status 0 once OUT is written.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path


def main(out: str) -> int:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from featurekit.core.jars import hadoop_aws_coordinate
    from featurekit.quality import engine
    from featurekit.runtime.local import LocalConfig, build_session
    from featurekit.runtime.s3 import S3A
    from featurekit.testing.plugin import TEST_CONF

    work = Path(tempfile.mkdtemp(prefix="featurekit-jvm-archive-"))
    options = TEST_CONF["spark.driver.extraJavaOptions"]
    conf = {
        **TEST_CONF,
        "spark.driver.extraJavaOptions": f"{options} -XX:ArchiveClassesAtExit={out} -Xlog:cds*=off",
        "spark.sql.warehouse.dir": str(work / "spark-warehouse"),
        "spark.hadoop.fs.s3a.impl": S3A,
    }
    config = LocalConfig(
        warehouse=str(work / "warehouse"),
        app_name="featurekit-jvm-archive",
        spark_conf=conf,
        engine="delta-spark",
        packages=(hadoop_aws_coordinate(),),
        quality=engine.available(),
        quiet=True,
    )
    spark = build_session(config)
    df = spark.range(200).select(
        (F.col("id") % 7).alias("k"),
        F.col("id").cast("double").alias("v"),
        F.date_from_unix_date((F.col("id") % 30).cast("int")).alias("d"),
    )
    running = Window.partitionBy("k").orderBy("d").rowsBetween(Window.unboundedPreceding, 0)
    df.select("*", F.sum("v").over(running).alias("r")).collect()
    df.groupBy("k").agg(F.sum("v"), F.count("*"), F.max("d")).collect()
    df.join(df.select("k").distinct(), "k").count()
    df.write.format("delta").partitionBy("d").save(str(work / "delta"))
    spark.read.format("delta").load(str(work / "delta")).where("k = 1").count()
    df.write.parquet(str(work / "parquet"))
    spark.read.parquet(str(work / "parquet")).count()
    if config.quality:
        engine.evaluate(df, 'Rules = [ ColumnValues "v" >= 0, IsComplete "k", RowCount > 0 ]')
    # End the JVM as pyspark does when Python exits (EOF on its stdin), so that it writes
    # the archive on its way out; then wait for it.
    gateway = spark.sparkContext._gateway
    proc = getattr(gateway, "proc", None)
    if proc is None or proc.stdin is None:
        return 1
    proc.stdin.close()
    proc.wait(timeout=600)
    return 0 if Path(out).is_file() else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
