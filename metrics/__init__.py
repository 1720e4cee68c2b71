"""Governed metrics: definitions, the semantic layer and the query engine."""
