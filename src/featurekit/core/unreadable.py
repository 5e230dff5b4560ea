"""Data Spark cannot read, as one featurekit error that says what to fix.

Spark reports a file it cannot read in two ways: an ``AnalysisException`` when the reader
is set up, or, when the schema is inferred by a Spark job (parquet footers), a failed
task whose Java trace carries the cause. Either becomes :class:`~featurekit.errors.InputError`
naming the data and the cause; the commonest cause gets its fix: parquet written by
pandas or pyarrow with nanosecond timestamps, which Spark (and Glue, EMR) do not read.

A file whose column does not have the type the read expects (a declared schema, or the
schema of another file) fails later, in whatever Spark job reads it first (a count, the
write): :func:`parquet_mismatch` finds that in any failed job's error, and a run ends
with it as one InputError naming the file and column instead of Java traces.
"""

from __future__ import annotations

import re
from typing import Optional

from featurekit.errors import InputError

# Spark 3.5: "... Illegal Parquet type: INT64 (TIMESTAMP(NANOS,false)).\n\tat ..." inside a
# failed task's trace; Spark 4: "[PARQUET_TYPE_ILLEGAL] Illegal Parquet type: ... SQLSTATE: 42846".
ILLEGAL_PARQUET = re.compile(r"Illegal Parquet type: ([^\n]+?)\.?(?=\s+SQLSTATE|\s*\n|\s*$)")
NANOS_FIX = (
    "Spark reads parquet timestamps in microseconds or milliseconds, not nanoseconds "
    "(pandas and pyarrow write nanoseconds by default): write them as microseconds, "
    "e.g. df.to_parquet(path, coerce_timestamps='us', allow_truncated_timestamps=True) "
    "or pyarrow.parquet.write_table(table, path, coerce_timestamps='us', "
    "allow_truncated_timestamps=True)."
)

# Spark 3.5: "Parquet column cannot be converted in file F. Column: [ts], Expected:
# timestamp, Found: INT64."; Spark 4: "[FAILED_READ_FILE.PARQUET_COLUMN_DATA_TYPE_MISMATCH]
# ... reading file F. Data type mismatches when reading Parquet column [ts]. Expected
# Spark type timestamp, actual Parquet type INT64."
MISMATCH = (
    re.compile(
        r"Parquet column cannot be converted in file (?P<file>\S+?)\. "
        r"Column: \[(?P<column>[^\]]*)\], Expected: (?P<expected>[^,]+), Found: (?P<found>[^.\s]+)"
    ),
    re.compile(
        r"reading file (?P<file>\S+?)\. Data type mismatches when reading Parquet column "
        r"\[(?P<column>[^\]]*)\]\. Expected Spark type (?P<expected>.+?), actual Parquet type "
        r"(?P<found>[^.\s]+)"
    ),
)


def illegal_parquet(exc: BaseException, what: str) -> Optional[InputError]:
    """An InputError when ``exc`` says the data of ``what`` holds a parquet type Spark does
    not read (with the fix for pandas' nanosecond timestamps), else None."""
    illegal = ILLEGAL_PARQUET.search(_text(exc))
    if not illegal:
        return None
    found = illegal.group(1).strip()
    fix = NANOS_FIX if "NANOS" in found else "Write that column with a type Spark reads."
    return InputError(f"{what}: Spark cannot read it: a parquet column of type {found}. {fix}")


def parquet_mismatch(exc: BaseException, what: str) -> Optional[InputError]:
    """An InputError when ``exc`` (any failed Spark job) says a parquet file has a column
    of another type than the read expects, or a type Spark does not read; else None."""
    found = illegal_parquet(exc, what)
    if found is not None:
        return found
    text = _text(exc)
    match = next((m for m in (p.search(text) for p in MISMATCH) if m), None)
    if match is None:
        return None
    file, column = match["file"], match["column"]
    expected, stored = match["expected"].strip(), match["found"].strip()
    head = (
        f"{what}: Spark cannot read {file}: its parquet column {column!r} holds {stored} "
        f"where {expected} is expected."
    )
    if stored == "INT64" and expected.lower().startswith("timestamp"):
        fix = f"If pandas or pyarrow wrote it, its timestamps are nanoseconds. {NANOS_FIX}"
    else:
        fix = (
            "Declare the type the files hold (FilesInput(schema=...), or the table's "
            "registered schema), or rewrite the files with the declared type."
        )
    return InputError(f"{head} {fix}")


# A csv or json record a FAILFAST read cannot parse (Spark 3.5 and 4 alike), and the file
# it was reading then; the root cause (a NumberFormatException...) is the last "Caused by".
MALFORMED = re.compile(r"Malformed records are detected in record parsing(?:: (\[[^\n]*?\]))?\.")
READING_FILE = re.compile(r"Encountered error while reading file (\S+?)\.(?:\s|$)")
CAUSED_BY = re.compile(r"Caused by: [\w.$]+(?:Exception|Error): ([^\n]+)")


def malformed_record(exc: BaseException, what: str) -> Optional[InputError]:
    """An InputError when ``exc`` (any failed Spark job) says a csv or json record could
    not be parsed in FAILFAST mode, naming the file, the record and the cause; else None."""
    text = _text(exc)
    found = MALFORMED.search(text)
    if found is None:
        return None
    file = READING_FILE.search(text)
    causes = CAUSED_BY.findall(text)
    where = f" of {file.group(1)}" if file else ""
    record = f" {found.group(1)}" if found.group(1) else ""
    cause = f" ({_sentence(causes[-1])})" if causes else ""
    return InputError(
        f"{what}: Spark cannot parse a record{where} (mode FAILFAST):{record}{cause}. Fix the "
        "record, declare the column with the type its values have, or read with mode "
        "PERMISSIVE (values that do not parse become nulls) or DROPMALFORMED (their rows are "
        "dropped)."
    )


def _sentence(message: str) -> str:
    """A Java message's first sentence, without Spark's ``[ERROR_CLASS]`` in front."""
    text = re.sub(r"^\[[A-Z_.]+\]\s*", "", message.strip())
    head, dot, _rest = text.partition(". ")
    return head + dot.strip() if dot else text


def data_unreadable(exc: BaseException, what: str) -> Optional[InputError]:
    """What any failed Spark job says of data it could not read (:func:`parquet_mismatch`,
    :func:`malformed_record`) as one InputError, else None."""
    return parquet_mismatch(exc, what) or malformed_record(exc, what)


def input_unreadable(
    exc: BaseException, name: str, path: str, what: str = ""
) -> Optional[InputError]:
    """The InputError of input ``name`` whose files at ``path`` Spark's reader refused
    (an illegal parquet type: Spark 4 when the reader is set up, 3.5 in the job inferring
    the schema; or an ``AnalysisException``), else None. ``what``: e.g. ``"new files of "``."""
    found = illegal_parquet(exc, f"Input {name!r} ({path})")
    if found is not None:
        return found
    if type(exc).__name__ == "AnalysisException":
        return InputError(f"Input {name!r}: cannot read {what}{path}: {exc}")
    return None


def unreadable(exc: BaseException, what: str) -> Optional[InputError]:
    """An InputError for ``exc`` when it says Spark cannot read the data of ``what``
    (a parquet type Spark does not read or not expected, or an ``AnalysisException``),
    else None."""
    found = parquet_mismatch(exc, what)
    if found is not None:
        return found
    if type(exc).__name__ == "AnalysisException":
        first = str(exc).strip().splitlines()
        return InputError(f"{what}: Spark cannot read it: {first[0] if first else exc}")
    return None


def _text(exc: BaseException) -> str:
    """The exception's message with its Java cause, when it came through py4j."""
    java = getattr(exc, "java_exception", None)
    if java is None:
        return str(exc)
    try:
        return f"{exc}\n{java.toString()}\n{java.getCause().toString() if java.getCause() else ''}"
    except Exception:  # the JVM is gone: the Python side's text is what there is
        return str(exc)
