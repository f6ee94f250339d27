-- Typed blocks: blocked time that stays bookable for one purpose (a kind of work, or urgent
-- bookings only), as JSON; NULL for plain blocked time (leave, meetings, maintenance).
ALTER TABLE blocked_times ADD COLUMN hold_purpose TEXT;
