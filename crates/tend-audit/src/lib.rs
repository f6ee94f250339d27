//! Audit event vocabulary, hash chain and verification.
