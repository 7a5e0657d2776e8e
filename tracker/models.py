"""Database tables. Every row is scoped by ``cluster_id`` so several clusters share one database.

Times are stored as aware UTC datetimes and shown in the cluster's local time. Nothing is deleted:
targets keep their registration history, submissions their versions (``superseded_by_id``).

A column with a fixed vocabulary is typed with its StrEnum below and stored as the member's value in a
plain text column (no database enum type, no CHECK): the stored strings are the ones every existing
database already holds. The code writes members; a row read back holds the text, which compares equal
to its member (``run.outcome == JobOutcome.ok``).
"""
# No `from __future__ import annotations` here: SQLModel relationships break under it.

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import AutoString, Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class SubmissionStatus(enum.StrEnum):
    accepted = "accepted"
    rejected = "rejected"


class Severity(enum.StrEnum):
    error = "error"
    warning = "warning"


class SubmissionSource(enum.StrEnum):
    """Where a received file came from."""

    cli = "cli"  # `tracker ingest`
    inbox = "inbox"  # the inbox folder, by `tracker pull`
    mailbox = "mailbox"  # an e-mail attachment, by `tracker pull`
    web = "web"  # an upload through the portal
    history = "history"  # a summary of earlier figures, by `tracker history import` (one file, many submissions)


class SubmissionKind(enum.StrEnum):
    """What a received file is (docs/assessment.md §5)."""

    report = "report"  # the weekly district report: its figures are ``Figure`` rows
    assessment = "assessment"  # a unit's self-assessment workbook: its scores are ``AssessmentScore`` rows


class OutboxStatus(enum.StrEnum):
    """Where a message is in its delivery (docs/outputs.md §8)."""

    pending = "pending"  # waiting for its next attempt, at ``next_attempt_at``
    # In flight: claimed by a delivery run, which holds it until its lease ends at ``next_attempt_at``;
    # a run that died leaves it to be claimed again after that.
    sending = "sending"
    sent = "sent"
    failed = "failed"  # refused for good; not tried again


class JobOutcome(enum.StrEnum):
    """How a run of a job ended (docs/schedule.md §7)."""

    running = "running"  # started and not finished (or the process died mid-run)
    ok = "ok"
    error = "error"
    skipped = "skipped"  # the job decided not to act; the run's message says why
    missed = "missed"  # the scheduler came back after the grace time


class Cluster(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=40)
    name: str
    year: int
    timezone: str = "Asia/Ho_Chi_Minh"
    head_name: str = ""
    head_emails: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class District(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cluster_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: str = Field(foreign_key="cluster.id", index=True, max_length=40)
    code: str = Field(max_length=20)
    name: str
    emails: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    position: int = 0


class Indicator(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cluster_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: str = Field(foreign_key="cluster.id", index=True, max_length=40)
    key: str = Field(max_length=40)
    label: str
    label_en: str
    unit: str = ""
    kind: str = "count"  # count | amount
    weight: float = 1.0
    deadline: str | None = Field(default=None, max_length=5)  # MM-DD
    position: int = 0


class Target(SQLModel, table=True):
    """One registration of a target. The latest registration (registered_at, then id) is the target."""

    __table_args__ = (Index("ix_target_lookup", "cluster_id", "year", "district_id", "indicator_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: str = Field(foreign_key="cluster.id", max_length=40)
    year: int
    district_id: int = Field(foreign_key="district.id")
    indicator_id: int = Field(foreign_key="indicator.id")
    value: float
    source: str = "config"  # config | workbook
    source_ref: str = ""  # config file path, or the targets workbook's file hash
    registered_at: datetime = Field(default_factory=utcnow)


class Submission(SQLModel, table=True):
    """One received file, accepted or rejected. Its bytes are kept in the archive or quarantine."""

    __table_args__ = (
        Index("ix_submission_hash", "cluster_id", "file_hash"),
        Index("ix_submission_current", "cluster_id", "district_id", "as_of"),
    )
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: str = Field(foreign_key="cluster.id", max_length=40)
    file_hash: str = Field(max_length=64)  # sha256 hex of the bytes
    file_name: str = ""
    stored_path: str = ""  # where the original bytes are kept
    source: SubmissionSource = Field(default=SubmissionSource.cli, sa_type=AutoString)
    # A self-assessment keeps ``as_of`` empty (its date is the assessment's, in ``AssessmentScore``), so
    # no rule about weekly figures, versions by date or reporting weeks ever takes it for a report.
    kind: SubmissionKind = Field(default=SubmissionKind.report, sa_type=AutoString, max_length=20)
    sender: str | None = None
    message_id: str | None = None
    received_at: datetime = Field(default_factory=utcnow)
    status: SubmissionStatus = Field(default=SubmissionStatus.accepted, sa_type=AutoString)
    district_id: int | None = Field(default=None, foreign_key="district.id")
    as_of: date | None = None
    sheet: str | None = None
    superseded_by_id: int | None = Field(default=None, foreign_key="submission.id")
    error_count: int = 0
    warning_count: int = 0


class Figure(SQLModel, table=True):
    """A year-to-date figure with its lineage (submission, sheet, cell)."""

    __table_args__ = (
        UniqueConstraint("submission_id", "indicator_id"),
        Index("ix_figure_lookup", "cluster_id", "district_id", "indicator_id", "as_of"),
    )
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: str = Field(foreign_key="cluster.id", max_length=40)
    submission_id: int = Field(foreign_key="submission.id")
    district_id: int = Field(foreign_key="district.id")
    indicator_id: int = Field(foreign_key="indicator.id")
    as_of: date
    value: float
    period_value: float | None = None  # "Thực hiện trong kỳ", when given
    note: str | None = None  # "Ghi chú", as typed
    sheet: str
    cell: str  # e.g. "D9"


class Finding(SQLModel, table=True):
    """An error or warning found in a submission, naming its cell."""

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: str = Field(foreign_key="cluster.id", max_length=40)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    severity: Severity = Field(sa_type=AutoString)
    code: str = Field(max_length=40)
    sheet: str | None = None
    cell: str | None = None
    indicator_key: str | None = None
    message_vi: str
    message_en: str


class OutboxMessage(SQLModel, table=True):
    """A built e-mail and its delivery state. The idempotency key makes a second send a no-op."""

    __table_args__ = (UniqueConstraint("cluster_id", "idempotency_key"),)
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: str = Field(foreign_key="cluster.id", max_length=40)
    kind: str = Field(max_length=20)  # one of tracker.mail.outbox.KINDS
    period: str = Field(max_length=40)  # 2023-W26, 2023-H1, a submission hash, ...
    recipient_key: str = Field(max_length=200)  # "head", a district code, a sender address
    idempotency_key: str = Field(max_length=300)
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    subject: str
    message: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # the RFC 5322 bytes
    status: OutboxStatus = Field(default=OutboxStatus.pending, index=True, sa_type=AutoString)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str | None = None
    refused: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class JobRun(SQLModel, table=True):
    """One run of a scheduled job (or a missed one), for `tracker jobs list` and the logs."""

    __table_args__ = (Index("ix_jobrun_job", "cluster_id", "job", "started_at"),)
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: str = Field(foreign_key="cluster.id", max_length=40)
    job: str = Field(max_length=40)
    trigger: str = "schedule"  # schedule | manual | demo
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    outcome: JobOutcome = Field(default=JobOutcome.running, sa_type=AutoString)
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = None


class AccessToken(SQLModel, table=True):
    """A secret link for the web portal: one district's page, or the cluster head's dashboard.

    Only the SHA-256 of the token is stored; the token itself is shown once when issued.
    """

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: str = Field(foreign_key="cluster.id", max_length=40, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=10)  # district | head
    district_id: int | None = Field(default=None, foreign_key="district.id")
    label: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class PeriodClose(SQLModel, table=True):
    """One close of a review period's figures (chốt số liệu), and its reopening if any. Closing again after a
    reopen makes a new row: every close and reopen is kept with who and when (docs/closing.md §2)."""

    __tablename__ = "period_close"
    __table_args__ = (Index("ix_period_close", "cluster_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: str = Field(foreign_key="cluster.id", max_length=40)
    period: str = Field(max_length=10)  # 2023-H1 | 2023
    as_of: date  # the figures frozen are those as of this date
    closed_at: datetime = Field(default_factory=utcnow)
    closed_by: str = ""
    reopened_at: datetime | None = None
    reopened_by: str = ""
    reopen_reason: str = ""


class PeriodSnapshot(SQLModel, table=True):
    """A close's frozen figure of one unit and indicator, and the submission it came from."""

    __tablename__ = "period_snapshot"
    __table_args__ = (UniqueConstraint("close_id", "district_id", "indicator_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: str = Field(foreign_key="cluster.id", max_length=40)
    close_id: int = Field(foreign_key="period_close.id", index=True)
    district_id: int = Field(foreign_key="district.id")
    indicator_id: int = Field(foreign_key="indicator.id")
    value: float | None = None  # None: no figure as of the close's date
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    figure_as_of: date | None = None


class ConfirmationRequest(SQLModel, table=True):
    """Units were asked to confirm their figures of a period as of a date (once per period and date)."""

    __tablename__ = "confirmation_request"
    __table_args__ = (UniqueConstraint("cluster_id", "period", "as_of"),)
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: str = Field(foreign_key="cluster.id", max_length=40)
    period: str = Field(max_length=10)
    as_of: date
    requested_at: datetime = Field(default_factory=utcnow)


class Confirmation(SQLModel, table=True):
    """A unit confirmed its figures of a period as of a date: which figures (their submissions), who, when.

    It lapses when the unit's figures up to that date change afterwards (docs/closing.md §1)."""

    __table_args__ = (Index("ix_confirmation", "cluster_id", "period", "district_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: str = Field(foreign_key="cluster.id", max_length=40)
    period: str = Field(max_length=10)
    as_of: date
    district_id: int = Field(foreign_key="district.id")
    confirmed_at: datetime = Field(default_factory=utcnow)
    confirmed_by: str = ""  # the portal link's label, or --by TEXT
    channel: str = Field(default="cli", max_length=10)  # web | cli
    figures: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class AssessmentScore(SQLModel, table=True):
    """One line of a unit's self-assessment workbook (a ``Submission`` of kind ``assessment``): the score the
    unit gave itself for a criterion, bonus or penalty code, and the cell it came from. ``value`` None: left
    blank (not self-scored). The latest accepted workbook of a unit and year counts (docs/assessment.md §5)."""

    __tablename__ = "assessment_score"
    __table_args__ = (UniqueConstraint("submission_id", "code"),
                      Index("ix_assessment_score", "cluster_id", "year", "district_id"))
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: str = Field(foreign_key="cluster.id", max_length=40)
    submission_id: int = Field(foreign_key="submission.id")
    district_id: int = Field(foreign_key="district.id")
    year: int
    as_of: date  # the assessment date the workbook's computed scores are as of
    code: str = Field(max_length=20)
    value: float | None = None
    explanation: str = ""  # "Giải trình, minh chứng", as typed
    sheet: str
    cell: str


class AssessmentReview(SQLModel, table=True):
    """One import of the cluster head's cross-check workbook (``Thẩm định``); the latest of a year counts."""

    __tablename__ = "assessment_review"
    __table_args__ = (Index("ix_assessment_review", "cluster_id", "year"),)
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: str = Field(foreign_key="cluster.id", max_length=40)
    year: int
    file_hash: str = Field(max_length=64)
    file_name: str = ""
    stored_path: str = ""
    received_at: datetime = Field(default_factory=utcnow)


class AssessmentReviewScore(SQLModel, table=True):
    """The cluster's score of one unit and code in a cross-check import; ``value`` None: not given."""

    __tablename__ = "assessment_review_score"
    __table_args__ = (UniqueConstraint("review_id", "district_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: str = Field(foreign_key="cluster.id", max_length=40)
    review_id: int = Field(foreign_key="assessment_review.id", index=True)
    district_id: int = Field(foreign_key="district.id")
    code: str = Field(max_length=20)
    value: float | None = None
    sheet: str
    cell: str
