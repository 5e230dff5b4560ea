"""A ruleset's row-level outcomes known before the output is written.

Deequ gives a rule's row-level outcome as a column expression of the row alone (its API
applies a verification's row-level columns to any data, ``rowLevelResultsAsDataFrame``),
but only after a metric pass over the data it was given. To split the output into the
rows it keeps and the rows that fail while Spark writes it, the ruleset is evaluated on
one synthetic row of the output's schema, and the projections Deequ built on that row
are re-attached to the job's own plan (:func:`attach`). Nothing is re-implemented: the
expressions are Deequ's.

Only a plain chain of projections qualifies (rules whose outcome needs other rows, such
as uniqueness, build joins or windows: :func:`prepare` returns None). After the write,
the ruleset's real evaluation on the written rows gives its own chain; the split is used
only when the two chains are the same expressions (:func:`signature`), and otherwise the
rows are split again from the written files, as Deequ evaluated them there.

Internal to Spark 3.5's Catalyst API (Deequ publishes no build for Spark 4): any
surprise there returns None and the run takes the path that needs none of this.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from featurekit.quality.engine import evaluate

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import DataType, StructType

_EXPR_ID = re.compile(r"#\d+L?")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# In the failed-rules column: CASE WHEN (<column>#12 = false) THEN <rule> ELSE ...
_FAILED = re.compile(
    r"CASE WHEN \(([0-9a-f-]{36})#\d+L? = false\) THEN (.*?) ELSE __placeholder__ END"
)


@dataclass(frozen=True)
class RowRules:
    """Deequ's row-level projections of one ruleset, built on a synthetic row."""

    chain: tuple[Any, ...]  # Project nodes, top first (JVM objects)
    leaf: Any  # the synthetic row's relation (JVM)
    signature: tuple[str, ...]


def prepare(schema: StructType, dqdl: str, spark: Any) -> Optional[RowRules]:
    """Deequ's row-level projections of ``dqdl`` for rows of ``schema`` (None: the
    ruleset's row-level outcomes are not a plain projection, or the row is refused)."""
    try:
        # nullable, as the written rows read back are (and Spark's code generation fails
        # on some of Deequ's aggregations over a column that cannot be null)
        nullable = _nullable(schema)
        sample = spark.createDataFrame([_row(nullable)], nullable)
        row_level = evaluate(sample, dqdl, row_level=True).row_level
        chain, leaf = _chain(row_level)
    except Exception:  # the evaluation on the written rows decides, and names any error
        return None
    if not chain or leaf is None or leaf.nodeName() != "LogicalRDD":
        return None
    found = _signature_of(chain)
    return RowRules(chain, leaf, found) if found else None


def signature(row_level: DataFrame) -> Optional[tuple[str, ...]]:
    """The projections on top of a row-level frame Deequ returned, as comparable text
    (None: they are not Deequ's row-level columns)."""
    try:
        chain, _leaf = _chain(row_level)
    except Exception:
        return None
    return _signature_of(chain) or None


def attach(rules: RowRules, df: DataFrame) -> DataFrame:
    """``df`` with Deequ's row-level outcome columns of ``rules`` (its columns must be the
    synthetic row's, by name), as Deequ would add them to ``df`` itself."""
    from pyspark.sql import DataFrame as PyDataFrame

    spark = df.sparkSession
    jvm: Any = spark.sparkContext._jvm
    exprs = jvm.org.apache.spark.sql.catalyst.expressions
    scala = jvm.scala.collection.JavaConverters
    nil = getattr(getattr(jvm.scala.collection.immutable, "Nil$"), "MODULE$")
    plan = df._jdf.queryExecution().analyzed()
    by_name = {str(a.name()): a for a in _list(plan.output())}
    aliases = []
    for old in _list(rules.leaf.output()):  # each column under the id Deequ's chain reads
        aliases.append(
            exprs.Alias(
                by_name[str(old.name())],
                old.name(),
                old.exprId(),
                old.qualifier(),
                jvm.scala.Option.empty(),
                nil,
            )
        )
    node = jvm.org.apache.spark.sql.catalyst.plans.logical.Project(
        scala.asScalaBufferConverter(jvm.java.util.ArrayList(aliases)).asScala().toSeq(), plan
    )
    for project in reversed(rules.chain):
        child = scala.asScalaBufferConverter(jvm.java.util.ArrayList([node])).asScala().toSeq()
        node = project.withNewChildren(child)
    dataset = jvm.org.apache.spark.sql.Dataset.ofRows(spark._jsparkSession, node)
    return PyDataFrame(dataset, spark)


def _chain(row_level: DataFrame) -> tuple[tuple[Any, ...], Any]:
    """The Project nodes from the top of the analyzed plan down, less the plain column
    selections at the bottom (a staged read's own), and the node below them (None when
    something other than projections sits on the way to a leaf)."""
    node = row_level._jdf.queryExecution().analyzed()
    chain = []
    while node.nodeName() == "Project" and node.children().size() == 1:
        chain.append(node)
        node = node.children().head()
    while chain and _selects(chain[-1]):
        chain.pop()
    return tuple(chain), node if node.children().size() == 0 else None


def _selects(project: Any) -> bool:
    """True when a projection only picks columns."""
    items = _list(project.projectList())
    return all(i.getClass().getSimpleName() == "AttributeReference" for i in items)


def _signature_of(chain: tuple[Any, ...]) -> tuple[str, ...]:
    """What decides each row's outcomes: every rule Deequ gave a row-level column, with
    that column's expression (expression ids and Deequ's random column names left out),
    and how many projections carry them. The order Deequ lists rules in varies between
    evaluations; the outcomes do not depend on it."""
    computed: dict[str, str] = {}
    rule_of: dict[str, str] = {}
    for node in chain:
        for item in _list(node.projectList()):
            if item.getClass().getSimpleName() != "Alias":
                continue
            name, text = str(item.name()), str(item.child().toString())
            if name == "DataQualityRulesFail":
                rule_of.update(_FAILED.findall(text))
            elif _UUID.fullmatch(name) and not _UUID.search(text):
                computed[name] = _EXPR_ID.sub("#", text)
    if not rule_of or set(rule_of) - set(computed):  # a rule without its column
        return ()
    # columns no rule names (Deequ's row id) are compared by their expression alone
    rules = sorted(f"{rule_of.get(name, '')} := {expr}" for name, expr in computed.items())
    return (f"{len(chain)} projections", *rules)


def _list(seq: Any) -> list[Any]:
    """A Scala Seq as a Python list."""
    return [seq.apply(i) for i in range(seq.size())]


def _nullable(data_type: Any) -> Any:
    """``data_type`` with every field, element and value nullable."""
    from pyspark.sql import types as T

    if isinstance(data_type, T.StructType):
        fields = [T.StructField(f.name, _nullable(f.dataType), True) for f in data_type.fields]
        return T.StructType(fields)
    if isinstance(data_type, T.ArrayType):
        return T.ArrayType(_nullable(data_type.elementType), True)
    if isinstance(data_type, T.MapType):
        return T.MapType(_nullable(data_type.keyType), _nullable(data_type.valueType), True)
    return data_type


def _row(schema: StructType) -> tuple[Any, ...]:
    """One row of ``schema`` with a non-null value in every field (Deequ's metrics on an
    empty or all-null column are empty states, which it marks failed for every row)."""
    return tuple(_value(f.dataType) for f in schema.fields)


def _value(data_type: DataType) -> Any:
    from pyspark.sql import types as T

    if isinstance(data_type, T.StructType):
        return _row(data_type)
    if isinstance(data_type, T.ArrayType):
        return [_value(data_type.elementType)]
    if isinstance(data_type, T.MapType):
        return {_value(data_type.keyType): _value(data_type.valueType)}
    samples: list[tuple[type[Any], Any]] = [
        (T.StringType, "x"),
        (T.BooleanType, True),
        (T.BinaryType, bytearray(b"x")),
        (T.DateType, dt.date(2000, 1, 1)),
        (T.TimestampNTZType, dt.datetime(2000, 1, 1)),
        (T.TimestampType, dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)),
        (T.DecimalType, decimal.Decimal(0)),
        (T.FractionalType, 0.0),
        (T.NumericType, 0),
    ]
    for kind, value in samples:
        if isinstance(data_type, kind):
            return value
    raise TypeError(f"no sample value for {data_type.simpleString()}")
