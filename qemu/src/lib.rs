//! Host library that runs Flotilla images in QEMU (in progress).
