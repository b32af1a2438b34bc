"""Hooks into the apps below: executions says a suite run is finishing, notifications records what it owes."""

from notifications import services


def suite_run_notifications_record(sender, *, suite_run_id, **kwargs) -> None:
    """Inside the transaction that finishes the run: write the outbox rows (sent on commit)."""
    services.notifications_owed_record(suite_run_id=suite_run_id)
