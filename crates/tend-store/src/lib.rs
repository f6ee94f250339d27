//! Tend's persistence: diesel on SQLite (embedded) and PostgreSQL.
