//! End-to-end tests of the auth_sections sections (to be written).
