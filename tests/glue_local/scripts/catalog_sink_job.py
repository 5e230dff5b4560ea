"""Writes that keep the catalog up to date: getSink with enableUpdateCatalog, and
write_dynamic_frame.from_catalog with additional_options, from a csv catalog table."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME"])
sc = SparkContext.getOrCreate()
glueContext = GlueContext(sc)
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

sales = glueContext.create_dynamic_frame.from_catalog(database="raw", table_name="sales")
sink = glueContext.getSink(
    connection_type="s3",
    path="s3://lake/sales_by_day/",
    enableUpdateCatalog=True,
    updateBehavior="UPDATE_IN_DATABASE",
    partitionKeys=["day"],
)
sink.setCatalogInfo(catalogDatabase="Curated", catalogTableName="Sales_By_Day")
sink.setFormat("glueparquet")
sink.writeFrame(sales)

glueContext.write_dynamic_frame.from_catalog(
    frame=sales,
    database="curated",
    table_name="sales_by_day",
    additional_options={
        "enableUpdateCatalog": True,
        "updateBehavior": "UPDATE_IN_DATABASE",
        "partitionKeys": ["day"],
    },
)
job.commit()
