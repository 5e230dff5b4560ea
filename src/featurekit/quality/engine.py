"""Deequ's DQDL engine (``com.amazon.deequ.dqdl.EvaluateDataQuality``), called through py4j.

Deequ is the open-source library AWS Glue Data Quality is built on; its DQDL engine takes
Glue's rule language and returns Glue's outcome columns, so a ruleset gives the same
answers locally, on EMR and on Glue. Its jar must be on the session's classpath:

* locally: ``LocalConfig(quality=True)`` resolves it once from Maven Central (cached in
  Ivy's folder like the Delta jars); ``featurekit run`` does so for jobs with rulesets;
* Glue, EMR, EMR Serverless: ``featurekit package`` ships the two jars (:func:`engine_jars`)
  and ``plan``/``deploy`` put them on the job's classpath
  (:mod:`featurekit.deploy.quality_jars`); ``--packages`` with :func:`spark_packages` works
  too where Maven Central is reachable.

Deequ builds exist for Spark 3.5 only (Scala 2.12); on Spark 4.x :func:`coordinates`
raises :class:`QualityEngineError` naming the line: featurekit never skips rules silently.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

from featurekit.errors import QualityEngineError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Deequ release per Spark line. 2.1.0-spark-3.5 carries the DQDL engine with row-level
# outcomes; its pom asks for software.amazon.glue:dqdl 1.0.7, which Maven Central's
# mirror reachable here does not serve, so the parser is pinned to 1.0.0 (served, and
# tested with this engine: tests/quality) and 1.0.7 is excluded from Deequ's tree.
DEEQU_BY_SPARK: Mapping[str, tuple[str, ...]] = {
    "3.5": ("com.amazon.deequ:deequ:2.1.0-spark-3.5",),
}
DQDL_PARSER = "software.amazon.glue:dqdl:1.0.0"
EXCLUDES = ("software.amazon.glue:dqdl",)
ENTRY = "com.amazon.deequ.dqdl.EvaluateDataQuality"

# Glue's column names (rule outcomes, then the row-level columns added to each row).
RULE_COLUMNS = ("Rule", "Outcome", "FailureReason", "EvaluatedMetrics", "EvaluatedRule")
ROW_PASS = "DataQualityRulesPass"
ROW_FAIL = "DataQualityRulesFail"
ROW_SKIP = "DataQualityRulesSkip"
ROW_RESULT = "DataQualityEvaluationResult"
ROW_COLUMNS = (ROW_PASS, ROW_FAIL, ROW_SKIP, ROW_RESULT)


def coordinates(line: Optional[str] = None) -> tuple[str, ...]:
    """Deequ's Maven coordinates for a Spark line (default: the installed pyspark)."""
    from featurekit.core.jars import spark_line

    line = line or spark_line()
    try:
        return DEEQU_BY_SPARK[line]
    except KeyError:
        raise QualityEngineError(
            f"Deequ publishes no build for Spark {line} (its DQDL engine is built for "
            f"Spark {', '.join(sorted(DEEQU_BY_SPARK))}, Scala 2.12), so featurekit cannot "
            f"evaluate data quality rules on Spark {line}. Run jobs with rulesets on Spark "
            "3.5 (pyspark 3.5, Glue 5, EMR 7), or remove their rulesets."
        ) from None


def available(line: Optional[str] = None) -> bool:
    """True when Deequ publishes a build for the Spark line (default: the installed one)."""
    from featurekit.core.jars import spark_line

    return (line or spark_line()) in DEEQU_BY_SPARK


def spark_packages(line: Optional[str] = None) -> str:
    """The ``--packages`` value for spark-submit (EMR), with the parser pinned."""
    return ",".join((*coordinates(line), DQDL_PARSER))


def local_jars(
    *,
    ivy_dir: Optional[str] = None,
    ivy_settings: Optional[str] = None,
    report: Callable[[str], None] = lambda _m: None,
    line: Optional[str] = None,
) -> list[str]:
    """Deequ's jar and the DQDL parser's, resolved once through Spark's Ivy and cached.

    Only these two of the resolved tree (:func:`engine_jars`): the rest is on every
    Spark 3.5 classpath already, so local sessions run on what Glue and EMR get.
    """
    from featurekit.core import jars

    kwargs = {"ivy_dir": ivy_dir, "ivy_settings": ivy_settings, "report": report}
    deequ = coordinates(line)
    found = jars.resolve(deequ, excludes=EXCLUDES, **kwargs)  # type: ignore[arg-type]
    found += jars.resolve([DQDL_PARSER], **kwargs)  # type: ignore[arg-type]
    return engine_jars(found, (*deequ, DQDL_PARSER))


def engine_jars(resolved: Sequence[str], wanted: Sequence[str]) -> list[str]:
    """Of Ivy's resolution of Deequ and the parser, the jars Spark 3.5 does not carry.

    Deequ's tree is breeze, spire, algebra, cats-kernel, JTransforms, JLargeArrays,
    netlib, opencsv, scala-collection-compat (Spark MLlib's dependencies, the same
    versions in Spark 3.5's jars folder), scala-reflect, slf4j, commons-math3 and
    Jackson (older than Spark's own); the parser's pom adds the ANTLR tool and its
    build-time dependencies (antlr4, ST4, icu4j, treelayout, javax.json), which parsing
    does not load: it runs on Spark's antlr4-runtime. That leaves two jars.
    """
    names = {_ivy_name(c) for c in wanted}
    found = [j for j in resolved if Path(j).name in names]
    missing = names - {Path(j).name for j in found}
    if missing:
        raise QualityEngineError(
            f"Ivy's resolution of Deequ lacks {', '.join(sorted(missing))}: delete the "
            "featurekit folder in the Ivy folder (~/.ivy2) and resolve again."
        )
    return found


def _ivy_name(coordinate: str) -> str:
    """The file name Spark's Ivy gives a coordinate's jar: ``group_artifact-version.jar``."""
    group, artifact, version = coordinate.split(":")
    return f"{group}_{artifact}-{version}.jar"


@dataclass(frozen=True)
class Evaluation:
    """What the engine returned: one row per rule, and the rows with their outcome columns."""

    rule_outcomes: DataFrame
    row_level: DataFrame


# The DQDL parser's lexer and parser were generated by ANTLR 4.7; Spark ships a newer
# antlr4-runtime, whose RuntimeMetaData.checkVersion prints two lines per class to the
# JVM's System.err (not through log4j) when each class is initialized: four lines on the
# first evaluation of every run. Parsing works; the lines are noise.
ANTLR_CLASSES = (
    "software.amazon.glue.dqdl.DataQualityDefinitionLanguageLexer",
    "software.amazon.glue.dqdl.DataQualityDefinitionLanguageParser",
)
ANTLR_VERSION_LINE = re.compile(
    r"ANTLR (Tool|Runtime) version \S+ used for (code generation|parser compilation) does "
    r"not match the current runtime version \S+"
)
_quieted: weakref.WeakSet[Any] = weakref.WeakSet()  # SparkContexts already done


def without_antlr_warnings(jvm: Any, action: Callable[[], None]) -> None:
    """Run ``action`` with the JVM's System.err captured, then print what it wrote there
    to the real System.err, less the ANTLR version-mismatch lines: every other line (an
    error, another thread's output in that moment) still appears, in order."""
    original = jvm.System.err
    captured = jvm.java.io.ByteArrayOutputStream()
    jvm.System.setErr(jvm.java.io.PrintStream(captured, True, "UTF-8"))
    try:
        action()
    finally:
        jvm.System.setErr(original)
        kept = [
            line
            for line in str(captured.toString("UTF-8")).splitlines()
            if not ANTLR_VERSION_LINE.fullmatch(line.strip())
        ]
        if kept:
            original.println("\n".join(kept))
            original.flush()


def _load_parser_quietly(spark: SparkSession) -> None:
    """Initialize the DQDL parser's generated classes once per SparkContext, without the
    ANTLR version lines their static initializers print (see :data:`ANTLR_CLASSES`)."""
    context = spark.sparkContext
    if context in _quieted:
        return
    jvm: Any = context._jvm
    loader = jvm.Thread.currentThread().getContextClassLoader()

    def initialize() -> None:
        for name in ANTLR_CLASSES:
            try:
                jvm.java.lang.Class.forName(name, True, loader)
            except Exception:  # not on the classpath: _entry's error names what is missing
                return

    without_antlr_warnings(jvm, initialize)
    _quieted.add(context)


def _entry(spark: SparkSession) -> object:
    jvm = spark.sparkContext._jvm
    try:
        cls = jvm.java.lang.Class.forName(  # type: ignore[union-attr]
            ENTRY + "$",
            True,
            jvm.Thread.currentThread().getContextClassLoader(),  # type: ignore[union-attr]
        )
        return cls.getField("MODULE$").get(None)
    except Exception as exc:  # py4j raises Py4JJavaError / Py4JError for a missing class
        raise QualityEngineError(
            f"Deequ's DQDL engine ({ENTRY}) is not on this session's classpath. Locally use "
            "LocalConfig(quality=True) (featurekit run does for jobs with rulesets); on Glue "
            "and EMR deploy with the package and plan featurekit builds (they add the jars "
            "`featurekit package` ships), or add --packages "
            f"{', '.join(DEEQU_BY_SPARK.get('3.5', ()))},{DQDL_PARSER}."
        ) from exc


def evaluate(df: DataFrame, ruleset: str, *, row_level: bool = True) -> Evaluation:
    """Evaluate a DQDL ruleset on ``df`` (rules with ``primary`` in CustomSql see ``df``).

    Metrics are computed now (one Deequ pass, plus one per rule outside Deequ's
    analyzers, e.g. CustomSql); the row-level frame stays lazy. ``row_level=False`` asks
    for the rule outcomes only (cheaper; ``row_level`` is then the input itself).
    """
    from pyspark.sql import DataFrame as PyDataFrame

    spark = df.sparkSession
    coordinates(".".join(spark.version.split(".")[:2]))  # names a line without a build
    engine = _entry(spark)
    _load_parser_quietly(spark)
    df.createOrReplaceTempView("primary")  # Glue's name of the evaluated frame in CustomSql
    try:
        if not row_level:
            outcomes = engine.process(df._jdf, ruleset)  # type: ignore[attr-defined]
            return Evaluation(rule_outcomes=PyDataFrame(outcomes, spark), row_level=df)
        result = engine.processRows(df._jdf, ruleset)  # type: ignore[attr-defined]
    except Exception as exc:
        raise QualityEngineError(
            f"Deequ could not evaluate the ruleset {ruleset!r}: {_java_message(exc)}"
        ) from exc
    finally:
        spark.catalog.dropTempView("primary")
    return Evaluation(
        rule_outcomes=PyDataFrame(result.apply("ruleOutcomes"), spark),
        row_level=PyDataFrame(result.apply("rowLevelOutcomes"), spark),
    )


def _java_message(exc: BaseException) -> str:
    java = getattr(exc, "java_exception", None)
    text = str(java.toString()) if java is not None else str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
