"""Spark schema JSON <-> the Hive type strings the Glue Data Catalog stores in ``Columns``.

The Glue Data Catalog (like a Hive metastore) keeps a column's type as a Hive DDL string
(``bigint``, ``array<struct<id:string>>``, ``decimal(10,2)``); featurekit's catalog entries
keep Spark's ``StructType`` JSON. Pure Python, no Spark session needed::

    hive_type("long")                              # 'bigint'
    spark_type("map<string,array<int>>")           # {'type': 'map', 'keyType': 'string', ...}
"""

from __future__ import annotations

import re
from typing import Any

from featurekit.errors import ConfigError

_TO_HIVE = {"long": "bigint", "integer": "int", "short": "smallint", "byte": "tinyint"}
_TO_SPARK = {v: k for k, v in _TO_HIVE.items()}
_PRIMITIVES = {
    "string", "bigint", "int", "smallint", "tinyint", "double", "float", "boolean", "date",
    "timestamp", "timestamp_ntz", "binary", "void",
}  # fmt: skip
_ALIASES = {"integer": "int", "long": "bigint", "short": "smallint", "byte": "tinyint",
            "char": "string", "varchar": "string", "real": "float"}  # fmt: skip


def hive_type(spark: Any) -> str:
    """The Hive type string of a Spark type (its JSON form: a name or a dict)."""
    if isinstance(spark, str):
        return _TO_HIVE.get(spark, spark)
    kind = spark["type"]
    if kind == "array":
        return f"array<{hive_type(spark['elementType'])}>"
    if kind == "map":
        return f"map<{hive_type(spark['keyType'])},{hive_type(spark['valueType'])}>"
    if kind == "struct":
        fields = ",".join(f"{f['name']}:{hive_type(f['type'])}" for f in spark["fields"])
        return f"struct<{fields}>"
    raise ConfigError(f"No Hive type for the Spark type {spark!r}.")


def struct_to_columns(schema: dict[str, Any], skip: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """Glue ``Columns`` (``[{"Name", "Type"}]``) of a StructType JSON, minus ``skip``."""
    return [
        {"Name": f["name"], "Type": hive_type(f["type"])}
        for f in schema.get("fields", [])
        if f["name"] not in skip
    ]


def columns_to_struct(columns: list[dict[str, Any]]) -> dict[str, Any]:
    """StructType JSON of Glue ``Columns`` (every field nullable, as Hive's are)."""
    fields = [
        {"name": c["Name"], "type": spark_type(c["Type"]), "nullable": True, "metadata": {}}
        for c in columns
    ]
    return {"type": "struct", "fields": fields}


def spark_type(hive: str) -> Any:
    """The Spark type JSON of a Hive type string; ConfigError for one it cannot read."""
    parser = _Parser(hive)
    parsed = parser.type()
    if parser.rest():
        raise ConfigError(f"Cannot read the Hive type {hive!r} (stopped at {parser.rest()!r}).")
    return parsed


class _Parser:
    _TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|<|>|,|:|\(|\)|\d+|`[^`]*`)")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def rest(self) -> str:
        return self.text[self.pos :].strip()

    def peek(self) -> str:
        match = self._TOKEN.match(self.text, self.pos)
        return match.group(1) if match else ""

    def take(self, expected: str = "") -> str:
        match = self._TOKEN.match(self.text, self.pos)
        if not match or (expected and match.group(1) != expected):
            want = expected or "a type"
            raise ConfigError(f"Cannot read the Hive type {self.text!r}: expected {want}.")
        self.pos = match.end()
        return match.group(1)

    def type(self) -> Any:
        name = self.take().lower()
        name = _ALIASES.get(name, name)
        if name == "array":
            self.take("<")
            element = self.type()
            self.take(">")
            return {"type": "array", "elementType": element, "containsNull": True}
        if name == "map":
            self.take("<")
            key = self.type()
            self.take(",")
            value = self.type()
            self.take(">")
            return {"type": "map", "keyType": key, "valueType": value, "valueContainsNull": True}
        if name == "struct":
            return self.struct()
        if name == "decimal":
            return self.decimal()
        if self.peek() == "(":  # varchar(10), char(3)
            self.take("(")
            self.take()
            self.take(")")
        if name not in _PRIMITIVES:
            raise ConfigError(f"Unknown Hive type {name!r} in {self.text!r}.")
        return _TO_SPARK.get(name, name)

    def struct(self) -> dict[str, Any]:
        self.take("<")
        fields = []
        while self.peek() != ">":
            name = self.take().strip("`")
            self.take(":")
            fields.append({"name": name, "type": self.type(), "nullable": True, "metadata": {}})
            if self.peek() == ",":
                self.take(",")
        self.take(">")
        return {"type": "struct", "fields": fields}

    def decimal(self) -> str:
        if self.peek() != "(":
            return "decimal(10,0)"
        self.take("(")
        precision = self.take()
        scale = "0"
        if self.peek() == ",":
            self.take(",")
            scale = self.take()
        self.take(")")
        return f"decimal({precision},{scale})"
