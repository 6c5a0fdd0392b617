"""Analysis layer: pure functions on DataFrames that return numbers and codes.

No I/O, no plotting, no babel, no French sentences; may read constants of `data.schema`.
"""
