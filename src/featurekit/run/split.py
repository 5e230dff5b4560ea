"""The output split by its dropping ruleset while Spark writes it.

Without this, a ruleset that drops rows costs a second write of every kept row: its
row-level outcomes exist only after Deequ's metric pass over the written rows. Here the
ruleset's row-level outcome columns (Deequ's own expressions, built on one synthetic row:
:mod:`featurekit.quality.rowlevel`) are attached to the job's plan, and the one staged
write puts passing and failing rows in folders of their own (``featurekit_rows=pass`` and
``=fail``, above the table's partitions). Deequ then evaluates the ruleset on all the
written rows as before; when its row-level expressions there are the ones the write used,
the kept rows are the ``pass`` files as written and the quarantine is built from the
``fail`` files alone. When they are not (a rule whose row-level outcome depends on the
data), the rows are split again from the written files, as Deequ evaluated them.

Used for one ruleset that drops rows per output (more are chained through the written
rows). A ruleset that quarantines rows but keeps them all is not split: its output is
every row as staged, and staging its few failing rows from the staged files costs less
than evaluating Deequ's row-level expressions inside the job's write and doubling its
folders (measured at ``bench_quality``'s default size: 1.13x of the run without rules
against 1.44x split; a drop 1.79x unsplit against 1.37x split; docs/quality.md).
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from featurekit.core.names import sql_name
from featurekit.quality import rowlevel
from featurekit.quality.dynamic import resolve
from featurekit.quality.engine import ROW_FAIL
from featurekit.run.quality import history
from featurekit.tables.engine import Staged
from featurekit.validate import observed_metrics

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, Observation

    from featurekit.io import FeatureTable
    from featurekit.run.env import RunEnv
    from featurekit.runs import RunRecord

FLAG = "featurekit_rows"
PASS, FAIL = "pass", "fail"


@dataclass(frozen=True)
class Split:
    """How the staged write splits the rows: by ruleset ``index``'s row-level rules."""

    index: int
    rules: rowlevel.RowRules
    observation: Observation


def plan(
    out: DataFrame, table: FeatureTable, env: RunEnv, record: RunRecord
) -> Optional[tuple[DataFrame, Split]]:
    """``out`` with the ``featurekit_rows`` column the staged write partitions by, and
    the split; None when the output's rulesets cannot split it during the write."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    quarantining = [i for i, r in enumerate(table.quality) if r.quarantines]
    if len(quarantining) != 1 or FLAG in out.columns:
        return None
    index = quarantining[0]
    if table.quality[index].on_failing_rows != "drop":  # see the module's docstring
        return None
    try:
        dqdl = resolve(
            table.quality[index].dqdl, "output", history(env.storage, record, table.quality)
        ).dqdl
        rules = rowlevel.prepare(out.schema, dqdl, out.sparkSession)
        if rules is None:
            return None
        rows = flagged(rules, out)
    except Exception:  # the evaluation on the written rows names what is wrong
        return None
    observation = Observation(f"featurekit_split_{uuid.uuid4().hex[:12]}")
    frame = rows.observe(
        observation,
        F.count(F.lit(1)).alias("rows"),
        F.coalesce(F.sum(F.when(F.col(FLAG) == FAIL, 1)), F.lit(0)).alias("failed"),
    )
    return frame, Split(index, rules, observation)


def flagged(rules: rowlevel.RowRules, out: DataFrame) -> DataFrame:
    """``out``'s columns and ``featurekit_rows``: ``fail`` where a row-level rule of
    ``rules`` fails, else ``pass``."""
    from pyspark.sql import functions as F

    failed = F.size(F.col(ROW_FAIL)) > 0
    return rowlevel.attach(rules, out).select(
        *map(sql_name, out.columns), F.when(failed, FAIL).otherwise(PASS).alias(FLAG)
    )


def written(staged: Staged, split: Split) -> tuple[Staged, Staged, Staged]:
    """The staged write's rows as three stagings: all of them, the passing ones and the
    failing ones (each laid out under the table's own partitions)."""
    schema = type(staged.schema)([f for f in staged.schema.fields if f.name != FLAG])
    partitions = tuple(c for c in staged.partition_by if c != FLAG)
    whole = dataclasses.replace(
        staged, schema=schema, partition_by=partitions, details=dict(staged.details)
    )
    kept, failing = (_part(whole, value) for value in (PASS, FAIL))
    if "file_rows" in staged.details:  # counted from the files' footers already
        kept.rows = sum(staged.details["file_rows"][f] for f in kept.files)
        failing.rows = whole.rows - kept.rows
    elif whole.rows == 0:  # nothing to count (and Spark may have run no query to observe)
        pass
    elif len(got := observed_metrics(split.observation)) == 2 and int(got["rows"]) == whole.rows:
        failing.rows = int(got["failed"])
        kept.rows = whole.rows - failing.rows
    else:  # Spark did not deliver the counts: read them
        kept.rows = kept.dataframe().count()
        failing.rows = whole.rows - kept.rows
    return whole, kept, failing


def _part(whole: Staged, value: str) -> Staged:
    folder = f"{FLAG}={value}"
    files = [f for f in whole.files if f"/{folder}/" in f]
    details: dict[str, Any] = dict(whole.details)
    if "file_rows" in details:
        details["file_rows"] = {f: n for f, n in details["file_rows"].items() if f in files}
    return dataclasses.replace(
        whole,
        staging_dir=f"{whole.staging_dir.rstrip('/')}/{folder}",
        files=files,
        rows=0,
        details=details,
    )


def failing_rows(split: Split, failing: Staged) -> DataFrame:
    """The failing staged rows with Deequ's row-level outcome columns."""
    return rowlevel.attach(split.rules, failing.dataframe())


def matches(split: Split, row_level: Optional[DataFrame]) -> bool:
    """True when Deequ's evaluation on the written rows (its row-level frame) used the
    row-level expressions the write split the rows by."""
    return row_level is not None and rowlevel.signature(row_level) == split.rules.signature
