//! Large values freed on a thread of their own: dropping a plan or a stage
//! of 10,000 objects one allocation at a time takes 5–15 ms that nothing
//! after it needs to wait for.

/// Drops `value` on another thread (here, when no thread can be started).
pub fn free_elsewhere<T: Send + 'static>(value: T) {
    let freeing = std::thread::Builder::new().name("free".into());
    if let Err(e) = freeing.spawn(move || drop(value)) {
        // The value was dropped with the closure, here.
        tracing::debug!(error = %e, "no thread to free a large value on");
    }
}
