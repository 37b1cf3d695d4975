//! Forwarding SIGINT, SIGTERM and SIGHUP to the command.
//!
//! A signal another process sends to `semtel exec` goes on to the command. A
//! signal the terminal generates (Ctrl-C, hangup) already reaches the command
//! through its process group, so it is not sent a second time.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Handle;
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::low_level::siginfo::Cause;
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Default)]
struct Target {
    pid: Option<libc::pid_t>,
    pending: Vec<i32>,
    done: bool,
}

/// Catches the forwarded signals from installation on; sends them to the
/// command once it runs (those caught before, then).
pub struct Forwarder {
    target: Arc<Mutex<Target>>,
    handle: Option<Handle>,
}

fn send(pid: libc::pid_t, signal: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(pid, signal);
    }
}

impl Forwarder {
    /// Starts catching; a failure to install is reported, and the signals then keep their default action.
    pub fn install() -> Forwarder {
        let target = Arc::new(Mutex::new(Target::default()));
        let handle = match SignalsInfo::<WithOrigin>::new([SIGINT, SIGTERM, SIGHUP]) {
            Ok(mut signals) => {
                let handle = signals.handle();
                let t = Arc::clone(&target);
                let spawned = std::thread::Builder::new()
                    .name("semtel-signals".into())
                    .spawn(move || {
                        for origin in signals.forever() {
                            if origin.cause == Cause::Kernel {
                                continue;
                            }
                            let mut t = t.lock().unwrap_or_else(PoisonError::into_inner);
                            match (t.done, t.pid) {
                                (true, _) => {}
                                (false, Some(pid)) => send(pid, origin.signal),
                                (false, None) => t.pending.push(origin.signal),
                            }
                        }
                    });
                match spawned {
                    Ok(_) => Some(handle),
                    Err(e) => {
                        handle.close();
                        eprintln!("semtel exec: cannot forward signals ({e})");
                        None
                    }
                }
            }
            Err(e) => {
                eprintln!("semtel exec: cannot forward signals ({e})");
                None
            }
        };
        Forwarder { target, handle }
    }

    /// The command runs as `pid`: signals go there from now on.
    pub fn forward_to(&self, pid: u32) {
        let mut t = self.target.lock().unwrap_or_else(PoisonError::into_inner);
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return;
        };
        t.pid = Some(pid);
        for signal in std::mem::take(&mut t.pending) {
            send(pid, signal);
        }
    }

    /// The command has ended (its pid may be reused): forward nothing more.
    pub fn stop(&self) {
        self.target
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .done = true;
        if let Some(h) = &self.handle {
            h.close();
        }
    }
}
