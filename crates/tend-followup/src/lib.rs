//! After-care plans, follow-up tasks and feedback.
