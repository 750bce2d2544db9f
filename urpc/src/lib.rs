//! Cache-line message channels between cores (in progress).
#![no_std]
