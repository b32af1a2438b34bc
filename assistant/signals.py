"""Hooks the assistant hangs on the apps below it (they never import the assistant)."""


def connect() -> None:
    return None
