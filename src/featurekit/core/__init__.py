"""The ground floor: what every layer uses and nothing here imports from above.

``names`` (Spark SQL identifiers quoted as they are, table-name checks), ``java`` (a Java
for Spark's launcher) and ``jars`` (JVM packages from Maven Central, resolved once).
"""
