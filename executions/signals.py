"""What executions tell the apps above them, which it never imports (notifications, reports...)."""

from django.dispatch import Signal

# Sent once per suite run, after the transaction that finished it commits; `suite_run_id` is
# the only argument. Receivers must not raise: the run is over whatever they do.
suite_run_finished = Signal()

# Sent once per finished execution, after its transaction commits: `execution_id`, `status` and
# `final_attempt` (False when a retry follows). Sent robustly: a receiver's error never reaches the run.
execution_finished = Signal()
