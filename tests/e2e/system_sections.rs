//! End-to-end tests of the system_sections sections (to be written).
