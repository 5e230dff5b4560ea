"""A bookmarked job with no guard around the write: a rerun with no new files must succeed
and write nothing (as on Glue)."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.transforms import ApplyMapping, DropNullFields
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME"])
glueContext = GlueContext(SparkContext())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

events = glueContext.create_dynamic_frame.from_options(
    connection_type="s3",
    connection_options={"paths": ["s3://bucket/events/"]},
    format="json",
    transformation_ctx="events",
)
mapped = ApplyMapping.apply(
    frame=events, mappings=[("id", "long", "id", "long"), ("kind", "string", "kind", "string")]
)
cleaned = DropNullFields.apply(frame=mapped)
glueContext.write_dynamic_frame.from_options(
    frame=cleaned,
    connection_type="s3",
    connection_options={"path": "s3://bucket/events_out/"},
    format="parquet",
    transformation_ctx="sink",
)
job.commit()
