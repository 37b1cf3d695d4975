//! The two ways a program sets up `tracing` with semtel, and in-memory
//! telemetry installed the same way as `init` does it.
//!
//! Each test binary uses one mode (the global `tracing` subscriber is set
//! once per process): [`Mode::Semtel`] lets semtel install its subscriber;
//! [`Mode::OwnRegistry`] installs the program's own
//! `registry().with(fmt::layer()).with(semtel::tracing_layer())`, whose
//! `fmt` lines are kept for [`fmt_output`].

use semtel::Builder;
use semtel::trace::SpanRecord;
use std::io::Write;
use std::sync::{Mutex, OnceLock, PoisonError};
use tracing_subscriber::layer::SubscriberExt;

/// Who installs the `tracing` subscriber.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// semtel's own (`builder().tracing_subscriber(true)`).
    Semtel,
    /// The program's registry with `fmt` and `semtel::tracing_layer()`.
    OwnRegistry,
}

/// Telemetry installed for one test: every span kept in memory.
pub struct Session {
    capture: semtel::testing::Capture,
}

static FMT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static OWN: OnceLock<()> = OnceLock::new();

/// What the program's `fmt` layer wrote so far ([`Mode::OwnRegistry`]).
pub fn fmt_output() -> String {
    String::from_utf8_lossy(&FMT.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
}

struct FmtWriter;

impl Write for FmtWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        FMT.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn install_own_registry() {
    OWN.get_or_init(|| {
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(|| FmtWriter),
            )
            .with(semtel::tracing_layer());
        tracing::subscriber::set_global_default(subscriber)
            .expect("the test binary sets its subscriber once");
    });
}

impl Session {
    /// Installs in-memory telemetry for `mode` (one session at a time per
    /// process; a second waits for the first to end).
    pub fn start(mode: Mode) -> Session {
        Session::with(mode, semtel::builder())
    }

    /// [`Session::start`] from `builder`'s settings.
    pub fn with(mode: Mode, builder: Builder) -> Session {
        if mode == Mode::OwnRegistry {
            install_own_registry();
        }
        let builder = builder.tracing_subscriber(mode == Mode::Semtel);
        Session {
            capture: semtel::testing::capture_with(builder),
        }
    }

    /// The warnings `init` reported.
    pub fn warnings(&self) -> Vec<String> {
        self.capture.telemetry().warnings().to_vec()
    }

    /// Every span finished so far.
    pub fn spans(&self) -> Vec<SpanRecord> {
        self.capture.spans()
    }
}
