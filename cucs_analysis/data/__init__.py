"""Data layer: the schema, the readers, validation, the data set and its territories, the demo.

Imports nothing above it (no analysis, reports, pipeline or cli), except the leaf French
formatter `present.text` for the French messages of `errors` and `validate` and the French data README (`demo.data_readme`).
"""
