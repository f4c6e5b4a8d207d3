//! Fuzz the agent's request path: arbitrary message streams into `Agent::handle` on one
//! connection must never panic and must only ever get replies the protocol allows. The splitting
//! and the checks are in `../feed.rs`, shared with `tests/agent_fuzz_seeds.rs`.
#![no_main]

#[path = "../feed.rs"]
mod feed;

use std::cell::RefCell;

use latchkey::agent::Agent;

thread_local! {
    // Built once: a current-thread runtime with a paused clock (sleeps and timeouts complete at
    // once) and one agent, reset by `feed` after each input.
    static STATE: RefCell<(tokio::runtime::Runtime, Agent)> = RefCell::new((
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a Tokio runtime"),
        feed::agent(),
    ));
}

libfuzzer_sys::fuzz_target!(|input: &[u8]| {
    STATE.with_borrow_mut(|(runtime, agent)| {
        feed::feed(agent, runtime, input);
    });
});
