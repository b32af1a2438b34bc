"""Benchmarks of JBTestSuite, each against a baseline measured in the same run; see bench/__main__.py."""
