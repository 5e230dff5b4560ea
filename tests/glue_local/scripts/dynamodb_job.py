"""A DynamoDB job: scan a table with the ETL connector, the same table with the export
connector (unnested), keep the active users and write them to another table."""

import sys

from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "source", "target", "table_arn"])
glueContext = GlueContext(SparkContext.getOrCreate())

users = glueContext.create_dynamic_frame.from_options(
    connection_type="dynamodb",
    connection_options={
        "dynamodb.input.tableName": args["source"],
        "dynamodb.throughput.read.percent": "1.0",
        "dynamodb.splits": "2",
    },
)
exported = glueContext.create_dynamic_frame.from_options(
    connection_type="dynamodb",
    connection_options={
        "dynamodb.export": "ddb",
        "dynamodb.tableArn": args["table_arn"],
        "dynamodb.unnestDDBJson": True,
    },
)
assert exported.count() == users.count()
active = users.filter(lambda r: r["active"])
glueContext.write_dynamic_frame_from_options(
    frame=active,
    connection_type="dynamodb",
    connection_options={
        "dynamodb.output.tableName": args["target"],
        "dynamodb.throughput.write.percent": "1.0",
    },
)
