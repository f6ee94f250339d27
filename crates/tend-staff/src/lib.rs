//! Staff members, skills, contracts, availability and leave.
