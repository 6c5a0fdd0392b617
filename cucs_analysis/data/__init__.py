"""Data layer: the schema, the readers, validation, the data set and its territories, the demo.

Imports nothing above it (no analysis, present, reports, pipeline or cli).
"""
