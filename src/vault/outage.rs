//! One run-wide budget for an unavailable server (DESIGN.md "Failure"):
//! every request that finds Vault unreachable or unavailable waits on the same
//! outage, and once it has lasted `--wait-timeout` all of them stop at once
//! with one error, instead of each object retrying on its own clock.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::error::VaultError;

/// At most one waiting line this often, however many requests wait.
const LOG_EVERY: Duration = Duration::from_secs(5);

pub struct Outage {
    budget: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// When the first failing attempt of the current outage started.
    since: Option<Instant>,
    last_error: String,
    /// The last time a waiting line was logged: one per backoff wave.
    logged: Option<Instant>,
    /// Set once the budget is spent: every later request fails at once.
    gave_up: Option<(u64, String)>,
}

/// What a request does after a retryable failure.
pub enum Next {
    Wait,
    GiveUp(VaultError),
}

impl Outage {
    pub fn new(budget: Duration) -> Outage {
        Outage {
            budget,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The error every request answers with once the budget is spent.
    pub fn gave_up(&self, addr: &str) -> Option<VaultError> {
        self.state()
            .gave_up
            .as_ref()
            .map(|(waited_s, reason)| unavailable(addr, *waited_s, reason))
    }

    /// A request succeeded: the server is back.
    pub fn recovered(&self) {
        let mut state = self.state();
        if state.since.take().is_some() {
            tracing::info!("Vault answers again");
        }
        state.logged = None;
    }

    /// A retryable failure of an attempt that started at `attempt_started`.
    pub fn failed(
        &self,
        addr: &str,
        attempt_started: Instant,
        error: &VaultError,
        delay: Duration,
    ) -> Next {
        let mut state = self.state();
        if let Some(e) = state.gave_up.as_ref() {
            return Next::GiveUp(unavailable(addr, e.0, &e.1));
        }
        let since = *state.since.get_or_insert(attempt_started);
        state.last_error = error.to_string();
        let waited = since.elapsed();
        if waited >= self.budget {
            let waited_s = waited.as_secs();
            state.gave_up = Some((waited_s, state.last_error.clone()));
            return Next::GiveUp(unavailable(addr, waited_s, &state.last_error));
        }
        if state
            .logged
            .is_none_or(|at| at.elapsed() >= delay.max(LOG_EVERY))
        {
            state.logged = Some(Instant::now());
            tracing::warn!(
                addr,
                error = %state.last_error,
                retrying_for_s = self.budget.saturating_sub(waited).as_secs(),
                "Vault unavailable; retrying"
            );
        }
        Next::Wait
    }

    /// How long a waiting request may still sleep before the budget ends.
    pub fn remaining(&self) -> Duration {
        match self.state().since {
            Some(since) => self.budget.saturating_sub(since.elapsed()),
            None => self.budget,
        }
    }
}

fn unavailable(addr: &str, waited_s: u64, reason: &str) -> VaultError {
    VaultError::Unavailable {
        addr: addr.to_owned(),
        waited_s,
        reason: reason.to_owned(),
    }
}
