//! Two pieces of plan loading at once: while a plan loads, nothing else
//! uses the machine's second core.

/// Runs `a` on a second thread and `b` on this one, and returns both
/// results. When no thread can be started, or `a` panicked there, `a` runs
/// here instead (a panic then happens where it is reported).
pub fn both<A: Send, B>(a: impl Fn() -> A + Sync, b: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|scope| {
        let second = std::thread::Builder::new()
            .name("plan-load".into())
            .spawn_scoped(scope, &a);
        let here = b();
        let there = match second {
            Ok(handle) => handle.join().unwrap_or_else(|_| a()),
            Err(_) => a(),
        };
        (there, here)
    })
}
