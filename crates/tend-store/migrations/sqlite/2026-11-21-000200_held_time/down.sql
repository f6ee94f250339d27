ALTER TABLE blocked_times DROP COLUMN hold_purpose;
