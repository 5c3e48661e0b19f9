"""Demo steps: every module here is imported before a build (see builder.py)."""
