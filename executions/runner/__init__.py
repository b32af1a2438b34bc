"""The browser-driving runner: the only code in JBTestSuite that imports selenium.

It takes plain data in (step dicts, variables, secrets, a browser config) and gives plain
data back (RunResult, StepOutcome, Evidence), so the Django and Celery side can call it
without this package knowing about models.
"""
