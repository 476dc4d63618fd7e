//! End-to-end tests of the identity sections (to be written).
