"""A Glue script that uses Spark's own s3:// paths: ``--src`` parquet to ``--dst`` parquet."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "src", "dst"])
glue_context = GlueContext(SparkContext.getOrCreate())
spark = glue_context.spark_session
job = Job(glue_context)
job.init(args["JOB_NAME"], args)
orders = spark.read.parquet(args["src"])
orders.where("amount > 1").write.mode("overwrite").parquet(args["dst"])
job.commit()
