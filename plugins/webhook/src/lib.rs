//! Plugin `webhook` (work in progress).
