DROP TRIGGER audit_events_no_update_or_delete ON audit_events;
DROP FUNCTION audit_events_append_only();
DROP TABLE audit_events;
DROP TABLE client_transitions;
DROP TABLE clients;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE sites;
