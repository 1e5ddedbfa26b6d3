//! Adapter for linkedin (being written).
