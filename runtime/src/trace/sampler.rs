//! Head sampling, as the OpenTelemetry specification defines the built-in samplers.

use opentelemetry::trace::TraceId;

/// Decides at span start whether a span is recorded.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Sampler {
    /// Record every span.
    AlwaysOn,
    /// Record no span.
    AlwaysOff,
    /// Record a fixed share of traces, chosen by trace id (0.0 to 1.0).
    TraceIdRatio(f64),
    /// Follow the parent's decision; decide roots with the inner sampler.
    ParentBased(Root),
}

/// The root sampler of [`Sampler::ParentBased`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Root {
    /// Record every root.
    AlwaysOn,
    /// Record no root.
    AlwaysOff,
    /// Record a share of roots, by trace id.
    TraceIdRatio(f64),
}

impl Default for Sampler {
    /// `parentbased_always_on`, the specification's default.
    fn default() -> Self {
        Sampler::ParentBased(Root::AlwaysOn)
    }
}

/// A sampler prepared for the hot path (ratios turned into thresholds).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Prepared {
    root: Decision,
    follow_parent: bool,
}

#[derive(Clone, Copy, Debug)]
enum Decision {
    On,
    Off,
    Below(u64),
}

const RANDOM_BITS: u32 = 56;

impl Decision {
    fn ratio(r: f64) -> Decision {
        if r.is_nan() || r <= 0.0 {
            Decision::Off
        } else if r >= 1.0 {
            Decision::On
        } else {
            Decision::Below((r * (1u64 << RANDOM_BITS) as f64) as u64)
        }
    }

    #[inline]
    fn sample(self, trace_id: TraceId) -> bool {
        match self {
            Decision::On => true,
            Decision::Off => false,
            Decision::Below(t) => {
                let low =
                    u128::from_be_bytes(trace_id.to_bytes()) as u64 & ((1u64 << RANDOM_BITS) - 1);
                low < t
            }
        }
    }
}

impl Sampler {
    pub(crate) fn prepare(self) -> Prepared {
        let (root, follow_parent) = match self {
            Sampler::AlwaysOn => (Decision::On, false),
            Sampler::AlwaysOff => (Decision::Off, false),
            Sampler::TraceIdRatio(r) => (Decision::ratio(r), false),
            Sampler::ParentBased(Root::AlwaysOn) => (Decision::On, true),
            Sampler::ParentBased(Root::AlwaysOff) => (Decision::Off, true),
            Sampler::ParentBased(Root::TraceIdRatio(r)) => (Decision::ratio(r), true),
        };
        Prepared {
            root,
            follow_parent,
        }
    }
}

impl Prepared {
    /// Whether a span in `trace_id` with a parent whose sampled flag is
    /// `parent` (`None` for a root) is recorded.
    #[inline]
    pub fn sample(&self, parent: Option<bool>, trace_id: TraceId) -> bool {
        match parent {
            Some(sampled) if self.follow_parent => sampled,
            _ => self.root.sample(trace_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_samples_about_its_share() {
        let s = Sampler::TraceIdRatio(0.25).prepare();
        let n = 20_000;
        let hits = (0..n)
            .filter(|_| s.sample(None, crate::trace::id::trace_and_span_id().0))
            .count();
        let share = hits as f64 / n as f64;
        assert!((0.22..0.28).contains(&share), "share {share}");
    }

    #[test]
    fn parent_based_follows_parent() {
        let s = Sampler::ParentBased(Root::AlwaysOff).prepare();
        let t = crate::trace::id::trace_and_span_id().0;
        assert!(s.sample(Some(true), t));
        assert!(!s.sample(Some(false), t));
        assert!(!s.sample(None, t));
        let on = Sampler::AlwaysOn.prepare();
        assert!(on.sample(Some(false), t));
    }
}
