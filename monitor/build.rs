//! Links the monitor at `abi::IMAGE_BASE` with the ring-3 link map
//! (`abi/user.ld`, shared with the test programs).

include!("../abi/user_link.rs");
