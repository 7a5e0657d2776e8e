"""The fixed vocabularies the database and the code share (tracker/models.py, tracker/intake/grid.py).

Stored values are the members' values, the same words databases already hold: renaming one would strand
rows written before, so the words are pinned here.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tracker.intake.grid import UnreadableCode
from tracker.models import JobOutcome, OutboxStatus, Severity, SubmissionSource, SubmissionStatus


@pytest.mark.parametrize(("vocabulary", "words"), [
    (JobOutcome, ["running", "ok", "error", "skipped", "missed"]),
    (OutboxStatus, ["pending", "sending", "sent", "failed"]),
    (SubmissionSource, ["cli", "inbox", "mailbox", "web", "history"]),
    (SubmissionStatus, ["accepted", "rejected"]),
    (Severity, ["error", "warning"]),
    (UnreadableCode, ["too_large", "not_workbook", "encrypted", "zip_bomb", "xml_attack", "too_many_cells",
                      "timeout", "crashed", "corrupt"]),
])
def test_the_stored_words_stay_the_ones_existing_databases_hold(vocabulary, words):
    assert [member.value for member in vocabulary] == words


def test_a_run_is_stored_as_the_plain_word_and_reads_back_as_its_member(ctx):
    from jobs.runs import last_runs, record_run

    record_run(ctx, "pull", "manual", JobOutcome.skipped, message="nothing to do")
    with ctx.engine.connect() as conn:
        assert conn.execute(text("SELECT outcome FROM jobrun")).scalar_one() == "skipped"
    assert last_runs(ctx)["pull"].outcome == JobOutcome.skipped


def test_an_unknown_outcome_is_refused_before_anything_is_written(ctx):
    from jobs.runs import record_run, runs_of

    with pytest.raises(ValueError, match="done"):
        record_run(ctx, "pull", "manual", "done")  # type: ignore[arg-type]
    assert runs_of(ctx) == []


def test_every_unreadable_code_is_a_finding_code_of_the_file():
    from tracker.messages import CODES

    file_codes = {code for code in CODES if code.startswith("file_")}
    assert file_codes == {f"file_{code}" for code in UnreadableCode}
