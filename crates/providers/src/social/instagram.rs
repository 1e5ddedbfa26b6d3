//! Adapter for instagram (being written).
