"""The seeded synthetic site used by `make run` and by tests; see builder.py to add data."""
