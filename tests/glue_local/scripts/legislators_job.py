"""The legislators walkthrough's shape: joins of persons, memberships and organizations
(sharing non-key field names), then Relationalize of the nested history for a relational store."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.transforms import Join, Relationalize
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "output_dir", "temp_dir"])
glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)


def read(name):
    return glueContext.create_dynamic_frame.from_options(
        "s3", {"paths": [f"s3://legislators/{name}/"]}, format="json"
    )


persons, memberships, orgs = read("persons"), read("memberships"), read("organizations")
orgs = (
    orgs.drop_fields(["other_names", "identifiers"])
    .rename_field("id", "org_id")
    .rename_field("name", "org_name")
)
l_history = Join.apply(
    orgs, Join.apply(persons, memberships, "id", "person_id"), "org_id", "organization_id"
).drop_fields(["person_id", "org_id"])

dfc = Relationalize.apply(
    frame=l_history, staging_path=args["temp_dir"], name="hist_root", transformation_ctx="rel"
)
for df_name in dfc.keys():  # noqa: SIM118 (DynamicFrameCollection has no __iter__)
    m_df = dfc.select(df_name)
    glueContext.write_dynamic_frame.from_options(
        frame=m_df,
        connection_type="s3",
        connection_options={"path": f"{args['output_dir']}/{df_name}"},
        format="parquet",
    )
job.commit()
