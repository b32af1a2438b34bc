"""What executions tell the apps above them, which it never imports (notifications, reports...)."""

from django.dispatch import Signal

# Sent once per suite run, after the transaction that finished it commits; `suite_run_id` is
# the only argument. Receivers must not raise: the run is over whatever they do.
suite_run_finished = Signal()

# Sent once per finished execution, after its transaction commits: `execution_id`, `status` and
# `final_attempt` (False when a retry follows). Sent robustly: a receiver's error never reaches the run.
execution_finished = Signal()

# Sent once per suite run inside the transaction that finishes it, before it commits, so that
# receivers can write rows that must exist exactly when the run is finished (an outbox).
# The receivers share one savepoint: if one raises, their rows are all dropped, never the finish.
suite_run_finishing = Signal()
