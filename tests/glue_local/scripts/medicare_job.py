"""The shape of AWS's data-cleaning walkthrough: a crawled csv table whose provider id
holds numbers and, in a few records, names; the choice is resolved every way, money
strings become numbers, and ApplyMapping nests the record before a parquet write."""

import sys

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "output_path"])
glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)
out = args["output_path"].rstrip("/")

medicare = glueContext.create_dynamic_frame.from_catalog(database="payments", table_name="medicare")
medicare.printSchema()

for action in ("cast:long", "project:long", "make_cols", "make_struct"):
    resolved = medicare.resolveChoice(specs=[("provider id", action)])
    resolved.printSchema()
    glueContext.write_dynamic_frame.from_options(
        frame=resolved,
        connection_type="s3",
        connection_options={"path": f"{out}/{action.replace(':', '_')}"},
        format="parquet",
    )

cleaned = medicare.resolveChoice(specs=[("provider id", "cast:long")]).toDF()
cleaned = cleaned.where("`provider id` is NOT NULL")
for source, target in (("average covered charges", "ACC"), ("average total payments", "ATP")):
    cleaned = cleaned.withColumn(target, F.regexp_replace(F.col(f"`{source}`"), r"^\$", ""))
nested = DynamicFrame.fromDF(cleaned, glueContext, "nested").apply_mapping(
    [
        ("drg definition", "string", "drg", "string"),
        ("provider id", "long", "provider.id", "long"),
        ("provider name", "string", "provider.name", "string"),
        ("provider zip code", "long", "provider.zip", "long"),
        ("ACC", "string", "charges.covered", "double"),
        ("ATP", "string", "charges.total_pay", "double"),
    ]
)
nested.printSchema()
glueContext.write_dynamic_frame.from_options(
    frame=nested,
    connection_type="s3",
    connection_options={"path": f"{out}/nested"},
    format="parquet",
)
job.commit()
