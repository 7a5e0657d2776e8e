"""`make test`: the test suite on SQLite, or on PostgreSQL when TRACKER_TEST_DATABASE_URL is set."""

import os
import subprocess
import sys

url = os.environ.get("TRACKER_TEST_DATABASE_URL", "")
if url.startswith("postgresql"):
    print(f"Database under test: PostgreSQL ({url}); tests that use no database ran in the SQLite pass.",
          file=sys.stderr)
else:
    print("Database under test: SQLite only. To run the suite on PostgreSQL too, set "
          "TRACKER_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres "
          "(as .ci/run does).", file=sys.stderr)
sys.exit(subprocess.call([sys.executable, "-m", "pytest", *sys.argv[1:]]))
