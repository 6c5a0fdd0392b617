"""Importers: open-data and workbook formats → the project's tables (data layer).

Each importer reads foreign files (never modifying them) and writes a data folder that
`cucs validate` accepts, through the shared helpers of `common` (atomic output folder,
metadonnees.yaml merge, French errors and import report).
"""
