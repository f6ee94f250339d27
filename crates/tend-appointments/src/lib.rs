//! Service catalogue, availability, slot search, bookings, waitlists and reminders.
