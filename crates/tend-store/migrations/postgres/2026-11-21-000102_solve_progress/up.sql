-- Progress of a running solve, written by the process that runs it at most once a second (the
-- engine's phase, incumbent objective and bound, neighbourhood solves, the solver's own elapsed
-- milliseconds), and who runs it: the owning process and its heartbeat. A running job whose owner
-- stopped heart-beating is marked failed ("interrupted") so its site is free again (ADR 0006).
ALTER TABLE solve_jobs ADD COLUMN phase TEXT;
ALTER TABLE solve_jobs ADD COLUMN iterations BIGINT;
ALTER TABLE solve_jobs ADD COLUMN solver_millis BIGINT;
ALTER TABLE solve_jobs ADD COLUMN owner TEXT;
ALTER TABLE solve_jobs ADD COLUMN heartbeat_at TIMESTAMP;
