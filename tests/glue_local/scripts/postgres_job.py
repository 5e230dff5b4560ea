"""A plain PostgreSQL job: read a table with from_options, keep the big orders and write
them back to another table of the same database."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "db_url", "db_user", "db_password"])
glueContext = GlueContext(SparkContext.getOrCreate())
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

orders = glueContext.create_dynamic_frame.from_options(
    connection_type="postgresql",
    connection_options={
        "url": args["db_url"],
        "user": args["db_user"],
        "password": args["db_password"],
        "dbtable": "public.orders",
    },
)
big = orders.filter(lambda r: r["amount"] >= 10)
glueContext.write_dynamic_frame.from_options(
    frame=big,
    connection_type="postgresql",
    connection_options={
        "url": args["db_url"],
        "user": args["db_user"],
        "password": args["db_password"],
        "dbtable": "reports.big_orders",
    },
)
job.commit()
