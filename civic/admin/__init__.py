"""Administration: users and roles, territory, audit log, outbox."""
