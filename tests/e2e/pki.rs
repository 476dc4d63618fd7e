//! End-to-end tests of the pki sections (to be written).
