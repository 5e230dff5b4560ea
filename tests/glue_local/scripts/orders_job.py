"""A Glue job script as users write it: CSV orders from S3, bookmarked, to parquet."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.transforms import ApplyMapping
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "input_path", "output_path"])
glueContext = GlueContext(SparkContext.getOrCreate())
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

orders = glueContext.create_dynamic_frame.from_options(
    connection_type="s3",
    connection_options={"paths": [args["input_path"]], "recurse": True},
    format="csv",
    format_options={"withHeader": True, "separator": ","},
    transformation_ctx="orders",
)
mapped = ApplyMapping.apply(
    frame=orders,
    mappings=[
        ("order_id", "string", "order_id", "string"),
        ("amount", "string", "amount", "double"),
    ],
    transformation_ctx="mapped",
)
if mapped.count() > 0:
    glueContext.write_dynamic_frame.from_options(
        frame=mapped,
        connection_type="s3",
        connection_options={"path": args["output_path"]},
        format="parquet",
        transformation_ctx="sink",
    )
if "--fail_before_commit" in sys.argv:
    raise RuntimeError("simulated failure before job.commit()")
job.commit()
