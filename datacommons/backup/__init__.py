"""Backup and restore: the database, the Parquet store and the instance secret, taken while serving.

A backup is a directory, or the same content as one uncompressed ``.tar`` file::

    db/<table>.jsonl                      one JSON array per row, in primary-key order
    store/objects/<xx>/<sha256>.parquet   every dataset file a version in the snapshot refers to
    keys/secret.key                       the instance secret, when it lives in the data directory
    manifest.json                         written last: revisions, tables, columns, row counts and
                                          the size and SHA-256 of every other file

*Consistent while the server runs.* Every table is read in one read-only transaction: a
``SERIALIZABLE READ ONLY DEFERRABLE`` snapshot on PostgreSQL, a WAL read transaction on SQLite, so
writers go on and the backup holds exactly the committed state of one instant (a transparency log
and its head that agree, every consent with its events). Dataset files are immutable and written
before the row that registers them, so every file the snapshot names exists; each is hashed while
it is copied and must match its name.

*Portable.* Rows are JSON with one type tag per column (``datetime`` in UTC ISO 8601, ``bytes`` in
base64, ``json`` as its text), and the manifest records the Alembic revisions: a backup of a SQLite
instance restores into PostgreSQL and back. Restore builds the schema with the migrations at the
backup's revisions, loads the rows, then migrates to this version's newest revisions.

*Never half done.* A backup is written under a hidden ``.NAME.partial-…`` name and renamed into
place once its manifest is fsynced, so a killed backup never looks complete. Restore first checks
the manifest and the hash of every file, touches nothing if one is wrong, copies dataset files into
the store (content-addressed: an extra file changes nothing), then replaces the schema and loads
every row in ONE transaction: the target database is either untouched or fully restored.

*Secrets.* Every key the commons holds (donors' data keys, receipt-signing keys) is in the database,
wrapped under keys derived from the instance secret; the secret itself is ``DATACOMMONS_SECRET_KEY``
or ``<data_dir>/secret.key``. A backup includes ``secret.key`` when that file is the secret in force,
and always records a fingerprint of the secret, so restore refuses a target whose secret would leave
donor data and signing keys unreadable.
"""

from __future__ import annotations

from datacommons.backup.format import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    SECRET_FILE,
    Progress,
    Summary,
    secret_fingerprint,
)
from datacommons.backup.read import verify_backup
from datacommons.backup.restore import restore_backup
from datacommons.backup.write import make_backup

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "SECRET_FILE",
    "Progress",
    "Summary",
    "make_backup",
    "restore_backup",
    "secret_fingerprint",
    "verify_backup",
]
