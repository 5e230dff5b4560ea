"""A Glue console-generated style script: SparkContext() boilerplate, catalog source with a
hyphenated database, ApplyMapping -> ResolveChoice -> DropNullFields, and Spark's own s3://."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.transforms import ApplyMapping, DropNullFields, ResolveChoice
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "output_path"])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

datasource0 = glueContext.create_dynamic_frame.from_catalog(
    database="crime-database", table_name="04", transformation_ctx="datasource0"
)
applymapping1 = ApplyMapping.apply(
    frame=datasource0,
    mappings=[
        ("id", "long", "id", "long"),
        ("amount", "double", "amount", "double"),
        ("note", "string", "note", "string"),
    ],
    transformation_ctx="applymapping1",
)
resolvechoice2 = ResolveChoice.apply(
    frame=applymapping1, choice="make_struct", transformation_ctx="resolvechoice2"
)
dropnullfields3 = DropNullFields.apply(frame=resolvechoice2, transformation_ctx="dropnullfields3")
datasink4 = glueContext.write_dynamic_frame.from_options(
    frame=dropnullfields3,
    connection_type="s3",
    connection_options={"path": args["output_path"]},
    format="parquet",
    transformation_ctx="datasink4",
)
# Spark's own s3:// reads and writes, next to the GlueContext's.
codes = spark.read.option("header", True).csv("s3://bucket/codes/")
codes.write.mode("overwrite").parquet("s3://bucket/codes_parquet/")
job.commit()
