//! Client records, lifecycle rules and field visibility.
