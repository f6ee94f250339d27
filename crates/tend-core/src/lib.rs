//! Tend's shared vocabulary: typed ids, validated value types, roles, time and clocks.
