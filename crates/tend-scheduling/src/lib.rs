//! Roster model, MILP solver (HiGHS via good_lp) and independent plan checker.
