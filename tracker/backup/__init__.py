"""Backups, restore and proof of every figure (docs/backups.md).

PUBLIC API:
- ``take_backup(ctx, to=None) -> BackupReport`` (:mod:`.take`): the database snapshot, the archive,
  quarantine and config, a manifest with the SHA-256 of every file; keeps the newest ``[backup] keep``;
- ``restore_backup(backup, to, database_url=None) -> Restored`` (:mod:`.restore`): checks every file
  against the manifest, then restores into an empty folder (and an empty PostgreSQL database);
- ``verify_archive(ctx, year=None) -> VerifyReport`` (:mod:`.verify`): re-reads every archived accepted
  file and compares it with what the database holds.

:mod:`.manifest` is the pure part (the manifest, names, rotation); :mod:`.database` and :mod:`.files`
do the I/O.
"""
