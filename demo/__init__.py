"""A small site served by the app itself, for the demo project's cases to run against.

Plain Django views and templates, no JWT and no app login, so a newcomer can press "Run now"
and watch a real run. Element ids here are what `catalog.py`'s cases select: change both together.
"""
