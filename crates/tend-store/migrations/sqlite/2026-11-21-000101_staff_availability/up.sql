-- Days a staff member can never work (hard), as JSON: unavailable weekdays and dates.
ALTER TABLE staff_rostering ADD COLUMN availability TEXT NOT NULL DEFAULT '{}';
