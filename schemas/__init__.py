"""pandera models for the published tables, one module per table, plus shared code lists.

This package imports nothing else from the project, so the data dictionary and any
downstream user can load it alone.
"""

SCHEMA_VERSION = "1.0.0"
