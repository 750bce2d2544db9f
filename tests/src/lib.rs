//! Shared support for the QEMU integration tests (in progress).
