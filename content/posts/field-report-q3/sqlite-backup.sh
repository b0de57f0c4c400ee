#!/bin/sh
# Back up a live SQLite database and verify the copy.
# Usage: sqlite-backup.sh [database] [backup-dir]
set -eu

DATABASE="${1:-/srv/app/data/app.db}"
BACKUP_DIR="${2:-/srv/backups}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
COPY="$BACKUP_DIR/app-$STAMP.db"

mkdir -p "$BACKUP_DIR"

# VACUUM INTO writes a consistent, compacted copy in one read transaction,
# so the application can keep writing while it runs.
sqlite3 "$DATABASE" "VACUUM INTO '$COPY'"

# Check the copy, not the live database.
RESULT="$(sqlite3 "$COPY" 'PRAGMA integrity_check;')"
if [ "$RESULT" != "ok" ]; then
  echo "backup_failed file=$COPY reason=integrity_check" >&2
  exit 1
fi

gzip -9 "$COPY"
SIZE="$(wc -c < "$COPY.gz" | tr -d ' ')"
echo "backup_ok file=$COPY.gz bytes=$SIZE"
