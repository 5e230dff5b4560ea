"""A Glue Studio-generated style script: csv node with Studio's format options, a
ChangeSchema node with a nested target, the data-quality node on it (its row-level
outcomes written out), an S3 target updating the catalog."""

import sys

from awsglue import DynamicFrame  # noqa: F401 (Studio imports it)
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.transforms import *  # noqa: F403
from awsglue.utils import getResolvedOptions
from awsgluedq.transforms import EvaluateDataQuality
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME"])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

# Default ruleset used by all target nodes with data quality enabled
DEFAULT_DATA_QUALITY_RULESET = """
    Rules = [
        ColumnCount > 0,
        IsComplete "state",
        ColumnValues "state" in ["WA", "CA"]
    ]
"""

# Script generated for node Amazon S3
AmazonS3_node1 = glueContext.create_dynamic_frame.from_options(
    format_options={
        "quoteChar": '"',
        "withHeader": True,
        "separator": ",",
        "optimizePerformance": False,
        "multiline": False,
    },
    connection_type="s3",
    format="csv",
    connection_options={"paths": ["s3://bucket/providers/"], "recurse": True},
    transformation_ctx="AmazonS3_node1",
)

# Script generated for node Change Schema
ChangeSchema_node2 = ApplyMapping.apply(  # noqa: F405
    frame=AmazonS3_node1,
    mappings=[
        ("provider_id", "string", "provider.id", "long"),
        ("provider_name", "string", "provider.name", "string"),
        ("state", "string", "state", "string"),
    ],
    transformation_ctx="ChangeSchema_node2",
)

# Script generated for node Evaluate Data Quality
EvaluateDataQuality_node4 = EvaluateDataQuality().process_rows(
    frame=ChangeSchema_node2,
    ruleset=DEFAULT_DATA_QUALITY_RULESET,
    publishing_options={
        "dataQualityEvaluationContext": "EvaluateDataQuality_node4",
        "enableDataQualityResultsPublishing": True,
    },
    additional_options={
        "dataQualityResultsPublishing.strategy": "BEST_EFFORT",
        "observations.scope": "ALL",
    },
)
rowLevelOutcomes_node5 = SelectFromCollection.apply(  # noqa: F405
    dfc=EvaluateDataQuality_node4,
    key="rowLevelOutcomes",
    transformation_ctx="rowLevelOutcomes_node5",
)
ruleOutcomes_node6 = SelectFromCollection.apply(  # noqa: F405
    dfc=EvaluateDataQuality_node4,
    key="ruleOutcomes",
    transformation_ctx="ruleOutcomes_node6",
)
glueContext.write_dynamic_frame.from_options(
    frame=ruleOutcomes_node6,
    connection_type="s3",
    format="json",
    connection_options={"path": "s3://bucket/dq_rules/"},
    transformation_ctx="ruleOutcomes_sink",
)
glueContext.write_dynamic_frame.from_options(
    frame=rowLevelOutcomes_node5,
    connection_type="s3",
    format="json",
    connection_options={"path": "s3://bucket/dq_rows/"},
    transformation_ctx="rowLevelOutcomes_sink",
)

# Script generated for node Amazon S3
AmazonS3_node3 = glueContext.getSink(
    path="s3://bucket/providers_out/",
    connection_type="s3",
    updateBehavior="UPDATE_IN_DATABASE",
    partitionKeys=["state"],
    enableUpdateCatalog=True,
    transformation_ctx="AmazonS3_node3",
)
AmazonS3_node3.setCatalogInfo(catalogDatabase="studio", catalogTableName="providers")
AmazonS3_node3.setFormat("glueparquet", compression="snappy")
AmazonS3_node3.writeFrame(ChangeSchema_node2)
job.commit()
