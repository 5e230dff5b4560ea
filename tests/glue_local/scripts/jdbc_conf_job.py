"""A job that writes through a catalog connection's properties and reads the rows back with
Spark's own JDBC reader, from the URL and credentials extract_jdbc_conf gives."""

import sys

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "connection"])
glueContext = GlueContext(SparkContext.getOrCreate())
spark = glueContext.spark_session

rows = spark.createDataFrame([("o1", 12.5), ("o2", 3.0)], "order_id string, amount double")
glueContext.write_dynamic_frame.from_options(
    frame=DynamicFrame.fromDF(rows, glueContext, "rows"),
    connection_type="mysql",
    connection_options={
        "useConnectionProperties": "true",
        "connectionName": args["connection"],
        "dbtable": "orders",
    },
)
conf = glueContext.extract_jdbc_conf(args["connection"])
seen = spark.read.jdbc(
    url=conf["fullUrl"],
    table="orders",
    properties={"user": conf["user"], "password": conf["password"]},
)
print(f"JDBC_ROWS={sorted(r.order_id for r in seen.collect())}")
