DROP TRIGGER audit_events_no_delete;
DROP TRIGGER audit_events_no_update;
DROP TABLE audit_events;
DROP TABLE client_transitions;
DROP TABLE clients;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE sites;
