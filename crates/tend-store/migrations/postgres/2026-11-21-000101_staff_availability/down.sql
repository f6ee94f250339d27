ALTER TABLE staff_rostering DROP COLUMN availability;
