//! Memory the allocator keeps after a burst. glibc raises its mmap threshold to the size
//! of the first large block freed, so every later 19 MiB argon2 block is carved from a
//! per-thread arena and kept there after it is freed: 48 parallel sign-ins left 876 MiB
//! resident. A fixed threshold keeps such blocks mmapped, so freeing one gives it back.

/// Blocks of this size or more are mapped on their own and unmapped when freed.
const MMAP_THRESHOLD_BYTES: i32 = 1 << 20;

/// Call once at start, before the first password is hashed.
pub fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; setting the threshold has no preconditions.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
    }
}
