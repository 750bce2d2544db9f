// The build script of the ring-3 binaries (the monitor and the test
// programs), which theirs include: links the binaries at `abi::IMAGE_BASE`
// with the ring-3 link map `abi/user.ld`.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-T{dir}/../abi/user.ld");
    println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
    println!("cargo:rerun-if-changed=../abi/user.ld");
    println!("cargo:rerun-if-changed=../abi/user_link.rs");
    println!("cargo:rerun-if-changed=build.rs");
}
