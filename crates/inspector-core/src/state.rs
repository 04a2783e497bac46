//! The introspection state machine (upstream-behaviour §states) as a pure transition table.
//!
//! Deliberate deviation from upstream (upstream-behaviour §q1): `waiting` and `aborting`
//! accept the `error` event. Upstream's table lacks it, so a ramdisk that
//! reported an error left the node `waiting` until the timeout, and the real
//! error text was lost.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    Starting,
    Waiting,
    Processing,
    Finished,
    Error,
    Reapplying,
    Enrolling,
    Aborting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    Start,
    Wait,
    Process,
    Reapply,
    Finish,
    Error,
    Timeout,
    Abort,
    AbortEnd,
}

impl State {
    pub const ALL: [State; 8] = [
        State::Starting,
        State::Waiting,
        State::Processing,
        State::Finished,
        State::Error,
        State::Reapplying,
        State::Enrolling,
        State::Aborting,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Starting => "starting",
            State::Waiting => "waiting",
            State::Processing => "processing",
            State::Finished => "finished",
            State::Error => "error",
            State::Reapplying => "reapplying",
            State::Enrolling => "enrolling",
            State::Aborting => "aborting",
        }
    }

    /// The state an event leads to, or the error upstream reports for it.
    pub fn on(self, event: Event) -> Result<State, InvalidTransition> {
        use Event as E;
        use State as S;
        let next = match (self, event) {
            (S::Starting, E::Wait) => S::Waiting,
            (S::Starting, E::Error | E::Timeout) => S::Error,
            (S::Waiting, E::Start) => S::Starting,
            (S::Waiting, E::Process) => S::Processing,
            (S::Waiting, E::Error | E::Timeout) => S::Error,
            (S::Waiting, E::Abort) => S::Aborting,
            (S::Processing, E::Finish) => S::Finished,
            (S::Processing, E::Error | E::Timeout) => S::Error,
            (S::Finished, E::Start) => S::Starting,
            (S::Finished, E::Reapply) => S::Reapplying,
            (S::Finished, E::Finish) => S::Finished,
            (S::Error, E::Start) => S::Starting,
            (S::Error, E::Reapply) => S::Reapplying,
            (S::Error, E::Error | E::Abort) => S::Error,
            (S::Reapplying, E::Reapply) => S::Reapplying,
            (S::Reapplying, E::Finish) => S::Finished,
            (S::Reapplying, E::Error | E::Timeout) => S::Error,
            (S::Enrolling, E::Process) => S::Processing,
            (S::Enrolling, E::Error | E::Timeout) => S::Error,
            (S::Aborting, E::AbortEnd | E::Error | E::Timeout) => S::Error,
            (state, event) => return Err(InvalidTransition { state, event }),
        };
        Ok(next)
    }

    /// Whether introspection is still running in this state (not a final result).
    pub fn is_active(self) -> bool {
        !matches!(self, State::Finished | State::Error)
    }
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Start => "start",
            Event::Wait => "wait",
            Event::Process => "process",
            Event::Reapply => "reapply",
            Event::Finish => "finish",
            Event::Error => "error",
            Event::Timeout => "timeout",
            Event::Abort => "abort",
            Event::AbortEnd => "abort_end",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownState(pub String);

impl FromStr for State {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        State::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_string()))
    }
}

/// An event the current state does not accept; the text is upstream's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Can not transition from state '{state}' on event '{event}' (no defined transition)")]
pub struct InvalidTransition {
    pub state: State,
    pub event: Event,
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENTS: [Event; 9] = [
        Event::Start,
        Event::Wait,
        Event::Process,
        Event::Reapply,
        Event::Finish,
        Event::Error,
        Event::Timeout,
        Event::Abort,
        Event::AbortEnd,
    ];

    /// The full table of upstream-behaviour §transitions, row by row, with the additions of
    /// upstream-behaviour §q1 marked.
    /// `None` = invalid transition.
    fn expected(state: State, event: Event) -> Option<State> {
        use State as S;
        // Columns: start, wait, process, reapply, finish, error, timeout, abort, abort_end.
        let row: [Option<State>; 9] = match state {
            S::Starting => [
                None,
                Some(S::Waiting),
                None,
                None,
                None,
                Some(S::Error),
                Some(S::Error),
                None,
                None,
            ],
            // Q1: waiting --error--> error
            S::Waiting => [
                Some(S::Starting),
                None,
                Some(S::Processing),
                None,
                None,
                Some(S::Error),
                Some(S::Error),
                Some(S::Aborting),
                None,
            ],
            S::Processing => [
                None,
                None,
                None,
                None,
                Some(S::Finished),
                Some(S::Error),
                Some(S::Error),
                None,
                None,
            ],
            S::Finished => [
                Some(S::Starting),
                None,
                None,
                Some(S::Reapplying),
                Some(S::Finished),
                None,
                None,
                None,
                None,
            ],
            S::Error => [
                Some(S::Starting),
                None,
                None,
                Some(S::Reapplying),
                None,
                Some(S::Error),
                None,
                Some(S::Error),
                None,
            ],
            S::Reapplying => [
                None,
                None,
                None,
                Some(S::Reapplying),
                Some(S::Finished),
                Some(S::Error),
                Some(S::Error),
                None,
                None,
            ],
            S::Enrolling => [
                None,
                None,
                Some(S::Processing),
                None,
                None,
                Some(S::Error),
                Some(S::Error),
                None,
                None,
            ],
            // Q1: aborting --error--> error
            S::Aborting => [
                None,
                None,
                None,
                None,
                None,
                Some(S::Error),
                Some(S::Error),
                None,
                Some(S::Error),
            ],
        };
        let idx = EVENTS.iter().position(|e| *e == event).unwrap();
        row[idx]
    }

    #[test]
    fn every_state_and_event_follows_the_table() {
        for state in State::ALL {
            for event in EVENTS {
                let got = state.on(event).ok();
                assert_eq!(got, expected(state, event), "{state} on {event}");
            }
        }
    }

    #[test]
    fn invalid_transition_message_is_upstreams() {
        let err = State::Starting.on(Event::Start).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Can not transition from state 'starting' on event 'start' (no defined transition)"
        );
    }

    #[test]
    fn ramdisk_error_while_waiting_ends_in_error() {
        assert_eq!(State::Waiting.on(Event::Error), Ok(State::Error));
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for state in State::ALL {
            assert_eq!(state.as_str().parse::<State>(), Ok(state));
        }
        assert!("Finished".parse::<State>().is_err());
        assert!("".parse::<State>().is_err());
    }

    #[test]
    fn only_finished_and_error_are_final() {
        let active: Vec<State> = State::ALL.into_iter().filter(|s| s.is_active()).collect();
        assert_eq!(active.len(), 6);
        assert!(!State::Finished.is_active() && !State::Error.is_active());
    }
}
