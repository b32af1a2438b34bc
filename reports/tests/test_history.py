"""The rules as pure functions: labels, the flaky window, message normalisation."""

from reports import history


def run(status, key="k1", retried=False, n=0):
    return history.Run(execution_id=str(n), status=status, steps_key=key, passed_on_retry=retried,
                       finished_at="2026-11-20T08:00:00+00:00", duration_ms=100)  # fmt: skip


def fold(sequence):
    recent, state = [], None
    for n, item in enumerate(sequence):
        status, key, retried = (
            {1: (*item, "k1", False), 2: (*item, False), 3: item}[len(item)]
            if isinstance(item, tuple)
            else (item, "k1", False)
        )
        state = history.health_fold(recent, run(status, key, retried, n))
        recent = state.recent
    return state


def test_it_labels_each_outcome_against_the_previous_run():
    assert fold(["failed"]).label == "new_failure"
    assert fold(["passed", "failed"]).label == "new_failure"
    assert fold(["passed", "failed", "error"]).label == "known_failure"
    assert fold(["failed", "passed"]).label == "fixed"
    assert fold(["passed", "passed"]).label == "passed"
    assert fold(["failed", ("passed", "k1", True)]).label == "passed_on_retry"


def test_it_calls_two_flips_in_the_window_flaky_and_one_flip_a_change_of_state():
    assert not fold(["passed"] * 5 + ["failed"] * 5).flaky
    assert fold(["passed", "failed", "passed"]).flaky
    assert not fold(["passed", "failed", "passed"] + ["passed"] * 9).flaky  # flips left the window


def test_it_does_not_count_flips_across_a_change_of_steps():
    state = fold([("failed", "k1"), ("passed", "k1"), ("failed", "k1"), ("passed", "k2"), ("passed", "k2")])
    assert (state.flips, state.flaky) == (0, False)


def test_it_counts_passes_on_retry_as_evidence():
    state = fold([("passed", "k1", True), "passed", ("passed", "k1", True)])
    assert (state.flips, state.retry_passes, state.flaky) == (0, 2, True)


def test_it_normalises_what_varies_between_occurrences_of_one_cause():
    one = history.failure_fingerprint(
        "click", "#row-42", "Element '#row-42 .buy' not found after 2000 ms at https://shop.test/p/42?x=1"
    )
    two = history.failure_fingerprint(
        "click", "#row-7", 'Element "#row-7 .buy" not found after 10000 ms at http://127.0.0.1:8001/p/7'
    )
    other = history.failure_fingerprint("click", "#row-7", "Element is not clickable at point (10, 20)")
    assert one[0] == two[0] != other[0]
    assert one[2] == "Element <value> not found after <n> ms at <url>"


def test_it_replaces_uuids_and_hex_ids_but_keeps_words():
    text = history.message_normalise("order 3f2a9c1e-7d4b-4a8e-9b1c-2d3e4f5a6b7c and session deadbeef42 expired\ntrace")
    assert text == "order <id> and session <id> expired"


def test_it_hashes_steps_without_their_descriptions():
    steps = [{"action": "click", "selector": "#a", "description": "one"}]
    renamed = [{"action": "click", "selector": "#a", "description": "two"}]
    changed = [{"action": "click", "selector": "#b", "description": "one"}]
    assert history.steps_key({"steps": steps}) == history.steps_key({"steps": renamed})
    assert history.steps_key({"steps": steps}) != history.steps_key({"steps": changed})
    assert history.steps_key({"steps": steps}, case_version_id=7) == "v:7"
