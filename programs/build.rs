//! Links the test programs at `abi::IMAGE_BASE` with the ring-3 link map
//! (`abi/user.ld`, shared with the monitor).

include!("../abi/user_link.rs");
