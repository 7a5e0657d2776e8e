"""Backups, restore and proof of every figure (docs/backups.md).

PUBLIC API:
- ``take_backup(ctx, to=None) -> BackupReport`` (:mod:`.take`): the database snapshot, the archive,
  quarantine and config, a manifest with the SHA-256 of every file; keeps the newest ``[backup] keep``;
- ``restore_backup(backup, to, database_url=None) -> Restored`` (:mod:`.restore`): checks every file
  against the manifest, then restores into an empty folder (and an empty PostgreSQL database);
(``tracker verify`` combines the intake's reader and parser with the records: it is a workflow,
:func:`tracker.workflows.verify.verify_archive`.)

:mod:`.manifest` is the pure part (the manifest, names, rotation); :mod:`.database` and :mod:`.files`
do the I/O.
"""
