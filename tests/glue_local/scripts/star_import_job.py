"""The boilerplate many hand-written Glue scripts start with: pyspark's SparkContext, then
star imports of pyspark.sql.functions and awsglue.transforms, then ``sc = SparkContext()``."""

import sys

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.transforms import *  # noqa: F403
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql.functions import *  # noqa: F403
from pyspark.sql.types import *  # noqa: F403

args = getResolvedOptions(sys.argv, ["JOB_NAME", "input_path", "output_path"])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

events = glueContext.create_dynamic_frame.from_options(
    "s3", {"paths": [args["input_path"]]}, "json", transformation_ctx="events"
)
df = events.toDF().withColumn("kind", upper(col("kind")))  # noqa: F405
glueContext.write_dynamic_frame.from_options(
    frame=DynamicFrame.fromDF(df, glueContext, "out"),
    connection_type="s3",
    connection_options={"path": args["output_path"]},
    format="parquet",
)
job.commit()
