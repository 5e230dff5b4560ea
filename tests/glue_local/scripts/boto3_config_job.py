"""A job configured from S3 with boto3: it reads its config object, lists the input keys,
reads them with Glue, writes the totals with Spark and a marker object with boto3, and
keeps a DynamoDB table of the run it creates itself."""

import json
import sys

import boto3
from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "config_bucket"])
glueContext = GlueContext(SparkContext.getOrCreate())
s3 = boto3.client("s3")

config = json.loads(s3.get_object(Bucket=args["config_bucket"], Key="config.json")["Body"].read())
listed = s3.list_objects_v2(Bucket=config["bucket"], Prefix=config["prefix"])
paths = [f"s3://{config['bucket']}/{o['Key']}" for o in listed["Contents"]]
orders = glueContext.create_dynamic_frame.from_options(
    "s3", {"paths": paths}, format="csv", format_options={"withHeader": True}
).toDF()
total = orders.selectExpr("sum(cast(amount as double)) as total")
total.write.mode("overwrite").json(f"s3://{config['bucket']}/totals/")
s3.put_object(Bucket=config["bucket"], Key="markers/done.txt", Body=b"%d" % orders.count())
s3.delete_object(Bucket=args["config_bucket"], Key="obsolete.txt")

ddb = boto3.client("dynamodb")
ddb.create_table(
    TableName="runs",
    KeySchema=[{"AttributeName": "job", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "job", "AttributeType": "S"}],
    BillingMode="PAY_PER_REQUEST",
)
ddb.put_item(TableName="runs", Item={"job": {"S": args["JOB_NAME"]}, "rows": {"N": "2"}})
runs = glueContext.create_dynamic_frame.from_options(
    connection_type="dynamodb", connection_options={"dynamodb.input.tableName": "runs"}
)
print(f"RUNS={runs.toDF().collect()[0]['rows']}")
