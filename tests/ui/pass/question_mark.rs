// `?` converts errors into `Box<dyn Error>` and `anyhow::Error` inside an
// instrumented function exactly as without the attribute.
use semtel::{metered, traced_task};
use std::error::Error;

#[traced_task]
fn parse_boxed(text: &str) -> Result<u32, Box<dyn Error + Send + Sync>> {
    let n: u32 = text.trim().parse()?;
    Ok(n)
}

#[traced_task]
#[metered]
fn parse_anyhow(text: &str) -> anyhow::Result<u32> {
    let n: u32 = text.trim().parse()?;
    anyhow::ensure!(n > 0, "zero is not a count");
    Ok(n)
}

#[traced_task]
#[track_caller]
fn parse_inline(text: &str) -> anyhow::Result<u32> {
    let n = parse_boxed(text).map_err(|e| anyhow::anyhow!(e))?;
    Ok(n * 2)
}

#[traced_task]
async fn read_config(path: &str) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)?;
    Ok(text)
}

fn main() {
    assert_eq!(parse_boxed(" 7 ").unwrap(), 7);
    assert!(parse_boxed("seven").is_err());
    assert_eq!(parse_anyhow("3").unwrap(), 3);
    assert!(parse_anyhow("0").is_err());
    assert_eq!(parse_inline("4").unwrap(), 8);
    assert!(parse_inline("x").is_err());
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert!(rt.block_on(read_config("/nonexistent/semtel.toml")).is_err());
}
