"""Operations: backups and restore, retention, metrics endpoint, scheduled housekeeping."""
