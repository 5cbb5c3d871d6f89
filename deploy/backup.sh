#!/usr/bin/env bash
# Wall Hinge Station: back the database up to DIR/YYYY-MM-DD.db with SQLite's
# online backup (safe while the station runs), then delete the daily backups
# older than the days to keep.
#
#   wallhinge-backup [--config FILE] [--venv DIR] [--dir DIR] [--keep-days N]
#
# Installed as /opt/wallhinge/bin/wallhinge-backup and run daily by
# wallhinge-backup.service (wallhinge-backup.timer); by hand:
#   sudo systemctl start wallhinge-backup && journalctl -u wallhinge-backup -n 5
# The days to keep come from --keep-days, else WALLHINGE_BACKUP_KEEP_DAYS
# (/etc/wallhinge/backup.conf), else 30. Other files in DIR, such as the
# pre-upgrade-*.db backups install.sh makes, are never deleted.
set -euo pipefail

config=/etc/wallhinge/wallhinge.toml
venv=/opt/wallhinge/venv
dir=""
keep="${WALLHINGE_BACKUP_KEEP_DAYS:-30}"

die() { printf 'wallhinge-backup: %s\n' "$*" >&2; exit 1; }

while (($#)); do
  case "$1" in
    --config) config="${2:?--config needs a file}"; shift ;;
    --venv) venv="${2:?--venv needs a folder}"; shift ;;
    --dir) dir="${2:?--dir needs a folder}"; shift ;;
    --keep-days) keep="${2:?--keep-days needs a number}"; shift ;;
    -h|--help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

if ! [[ $keep =~ ^[0-9]+$ ]] || ((10#$keep < 1)); then
  die "the days to keep must be a whole number of 1 or more, not '$keep'"
fi
keep=$((10#$keep))
[[ -x $venv/bin/wallhinge ]] || die "$venv/bin/wallhinge is missing: run deploy/install.sh again"

# Where the database is, as the station itself reads its configuration.
store="$("$venv/bin/python" - "$config" <<'PY'
import sys

from station.errors import WallHingeError
from station.settings import load_settings

try:
    print(load_settings(sys.argv[1]).station.database_path.resolve())
except WallHingeError as error:
    sys.exit(f"wallhinge-backup: {error}")
PY
)" || exit 1
[[ -n $dir ]] || dir="$(dirname "$store")/backups"

if [[ ! -f $store ]]; then
  printf 'no database yet at %s: nothing to back up\n' "$store"
  exit 0
fi
[[ -d $dir ]] || mkdir -p "$dir" || die "cannot make the backup folder $dir"

"$venv/bin/wallhinge" backup "$dir/$(date +%F).db" --store "$store"

# Keep the backups of the last $keep days, today's included.
cutoff="$(date -d "-$((keep - 1)) days" +%F)"
shopt -s nullglob
for file in "$dir"/[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9].db; do
  day="$(basename "$file" .db)"
  if [[ $day < $cutoff ]]; then
    rm -f -- "$file"
    printf 'deleted %s (kept: %s days)\n' "$file" "$keep"
  fi
done
