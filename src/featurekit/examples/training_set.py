"""Churn training set: each label joined to the user's features known at the label time."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from featurekit import FeatureJob, FeatureTable, JobContext, TableInput
from featurekit.examples.user_activity_daily import FEATURES, UserActivityDaily
from featurekit.features import assert_no_leakage, point_in_time_join
from featurekit.quality import Ruleset

ACTIVITY = UserActivityDaily.output


class TrainingSet(FeatureJob):
    name = "training_set"
    description = "raw.labels joined point-in-time to features.user_activity_daily, audited."
    inputs = {
        "labels": TableInput(
            "raw.labels",
            time_column="label_time",
            quality=(Ruleset('Rules = [ IsComplete "user_id", IsUnique "user_id" ]'),),
        ),
        # A label on D uses the row of D-1 (known at D 00:00): one day of lookback.
        "activity": TableInput(ACTIVITY.name, time_column="feature_date", lookback_days=1),
    }
    output = FeatureTable(
        "features.training_set",
        keys=("user_id",),
        date_column="label_date",
        columns={
            "user_id": "string",
            "label_date": "date",
            "label_time": "timestamp",
            "churned": "boolean",
            "feature_date": "date",
            "feature_ts": "timestamp",
            **FEATURES,
            "last_event_at_30d": "timestamp",
        },
        description=(
            "One row per label. Features are those of the last day that ended before the "
            "label time (max age 1 day); null when the user had no event in the 30 days before."
        ),
        quality=(
            Ruleset(
                'Rules = [ IsPrimaryKey "user_id" "label_date", IsComplete "churned", '
                "RowCount > 0 ]",
                name="contract",
            ),
            # Labels without features stay in the set (null features) and are copied to
            # features.training_set__quarantine for a look.
            Ruleset(
                'Rules = [ ColumnValues "events_30d" >= 1 ]',
                severity="warn",
                on_failing_rows="quarantine",
                name="has_features",
            ),
        ),
    )

    def transform(self, ctx: JobContext, labels: DataFrame, activity: DataFrame) -> DataFrame:
        # The UTC date of the label, whatever the session time zone.
        utc_day = F.floor(F.unix_micros("label_time") / 86_400_000_000).cast("int")
        spine = labels.withColumn("label_date", F.date_from_unix_date(utc_day))
        # Feature rows with a null user_id or feature_ts never match; counted in ctx.counters.
        joined = point_in_time_join(
            spine,
            activity,
            keys="user_id",
            spine_time="label_time",
            feature_time="feature_ts",
            max_age="1d",
            counters=ctx.counters,
        )
        # Fails the run (LeakageError) if any joined feature was not known at label_time.
        assert_no_leakage(
            joined,
            spine_time="label_time",
            feature_time="feature_ts",
            data_time_columns=["last_event_at_30d"],
            feature_date="feature_date",
        )
        return joined
