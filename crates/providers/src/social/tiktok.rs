//! Adapter for tiktok (being written).
