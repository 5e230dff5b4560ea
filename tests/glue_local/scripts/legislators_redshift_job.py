"""The join-and-relationalize walkthrough's end: the relationalized legislators history
written to Redshift through a Glue connection, one table per frame of the collection."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.transforms import Join
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "TempDir"])
glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

persons = glueContext.create_dynamic_frame.from_options(
    "s3", {"paths": ["s3://legislators/persons/"]}, format="json"
)
memberships = glueContext.create_dynamic_frame.from_options(
    "s3", {"paths": ["s3://legislators/memberships/"]}, format="json"
)
orgs = glueContext.create_dynamic_frame.from_options(
    "s3", {"paths": ["s3://legislators/organizations/"]}, format="json"
)
orgs = orgs.rename_field("id", "org_id").rename_field("name", "org_name")
l_history = Join.apply(
    orgs, Join.apply(persons, memberships, "id", "person_id"), "org_id", "organization_id"
).drop_fields(["person_id", "org_id"])

# the whole history in one table first, then the relationalized frames
glueContext.write_dynamic_frame.from_jdbc_conf(
    frame=l_history.select_fields(["name", "org_name", "role"]),
    catalog_connection="redshift3",
    connection_options={"dbtable": "public.l_history", "database": "dev"},
    redshift_tmp_dir=args["TempDir"],
)
dfc = l_history.relationalize("hist_root", args["TempDir"])
for df_name in dfc.keys():  # noqa: SIM118 (DynamicFrameCollection has no __iter__)
    m_df = dfc.select(df_name)
    glueContext.write_dynamic_frame.from_jdbc_conf(
        frame=m_df,
        catalog_connection="redshift3",
        connection_options={"dbtable": df_name, "database": "dev"},
        redshift_tmp_dir=args["TempDir"],
    )
job.commit()
