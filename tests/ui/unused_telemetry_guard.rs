// Telemetry lives as long as its guard: dropping it at once, in a build that
// denies warnings, is an error rather than telemetry silently shut down.
#![deny(warnings)]

fn main() {
    semtel::init().unwrap();
    semtel::builder().service_name("svc").init().unwrap();
    semtel::testing::capture();
    semtel::testing::capture_with(semtel::builder());
    semtel::testing::without_telemetry();
    semtel::builder().service_name("svc");
}
