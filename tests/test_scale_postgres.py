"""PostgreSQL at scale: plans must follow the data as it grows (runs with TRACKER_TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from tracker.db import get_engine
from tracker.intake.ingest import _SELECT_HISTORY


@pytest.mark.db
def test_a_long_lived_connection_never_keeps_a_server_side_plan(db_url):
    """psycopg would prepare the intake's history query after 5 runs, and PostgreSQL could then keep a generic
    plan made on empty tables for the connection's life (the national benchmark fell to ~2 sheets/s)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    with get_engine(db_url).connect() as conn:
        for _ in range(12):
            conn.execute(_SELECT_HISTORY, {"cid": "cum-1", "district_id": 1, "start": date(2023, 1, 1),
                                           "as_of": date(2023, 6, 30)}).all()
        prepared = conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar_one()
    assert prepared == 0
