//! Adapter for facebook (being written).
