ALTER TABLE solve_jobs DROP COLUMN heartbeat_at;
ALTER TABLE solve_jobs DROP COLUMN owner;
ALTER TABLE solve_jobs DROP COLUMN solver_millis;
ALTER TABLE solve_jobs DROP COLUMN iterations;
ALTER TABLE solve_jobs DROP COLUMN phase;
