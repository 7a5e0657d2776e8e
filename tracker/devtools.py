"""Developer helpers: ``python -m tracker.devtools revision "message"`` autogenerates a migration."""

import sys
import tempfile

from alembic import command

from tracker.db import alembic_config, migrate


def revision(message: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/rev.db"
        migrate(url)
        command.revision(alembic_config(url), message=message, autogenerate=True)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m tracker.devtools revision "message"')
    revision(sys.argv[2])
