//! The agent service and its repository: the seed's `agent.Create` span
//! with `project.id`, `agent.name`, `agent.framework`, and `agent.id` once
//! created; error status `validation failed` / `create failed`; the
//! database call a client span of its own.

use semtel::{current_span, traced_task};
use sqlx::SqlitePool;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a create request carries.
#[derive(serde::Deserialize)]
pub struct CreateInput {
    /// The agent's name (unique per project).
    pub name: String,
    /// `langgraph`, `crewai`, ...
    pub framework: String,
}

/// Why creating an agent failed.
#[derive(Debug, semtel::ErrorType)]
pub enum CreateError {
    /// The input is not acceptable.
    Invalid,
    /// The database refused the row.
    Database,
}

impl std::fmt::Display for CreateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The seed's status messages; the detail goes to the log line.
        f.write_str(match self {
            CreateError::Invalid => "validation failed",
            CreateError::Database => "create failed",
        })
    }
}

const FRAMEWORKS: [&str; 4] = ["langgraph", "crewai", "autogen", "custom"];
const INSERT: &str = "INSERT INTO agents (id, project_id, name, framework) VALUES (?, ?, ?, ?)";

/// Opens the in-memory database with its table.
pub async fn open() -> Result<SqlitePool, sqlx::Error> {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await?;
    sqlx::query(
        "CREATE TABLE agents (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, \
         name TEXT NOT NULL, framework TEXT NOT NULL, UNIQUE (project_id, name))",
    )
    .execute(&pool)
    .await?;
    Ok(pool)
}

/// The database call: a client span named after the operation and table.
#[traced_task(name = "INSERT agents", kind = client, attrs(db.system.name = "sqlite", db.operation.name = "INSERT", db.collection.name = "agents", db.query.text = INSERT))]
async fn insert(
    pool: &SqlitePool,
    id: &str,
    project_id: &str,
    input: &CreateInput,
) -> Result<(), sqlx::Error> {
    sqlx::query(INSERT)
        .bind(id)
        .bind(project_id)
        .bind(&input.name)
        .bind(&input.framework)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Creates an agent; its id is set on the span once known.
#[traced_task(name = "agent.Create", attrs(project.id = project_id, agent.name = input.name, agent.framework = input.framework))]
pub async fn create(
    pool: &SqlitePool,
    project_id: &str,
    input: &CreateInput,
) -> Result<String, CreateError> {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    tracing::info!(name = %input.name, framework = %input.framework, "creating agent");
    let invalid = if input.name.trim().is_empty() {
        Some("the name is empty")
    } else if !FRAMEWORKS.contains(&input.framework.as_str()) {
        Some("unknown framework")
    } else {
        None
    };
    if let Some(why) = invalid {
        tracing::warn!(reason = why, name = %input.name, "invalid agent");
        return Err(CreateError::Invalid);
    }
    let id = format!("agt-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    if let Err(e) = insert(pool, &id, project_id, input).await {
        tracing::error!(error = %e, name = %input.name, "failed to create agent");
        return Err(CreateError::Database);
    }
    current_span().set(crate::semconv::agent::ID, id.clone());
    tracing::info!(agent_id = %id, "agent created");
    Ok(id)
}

/// The agent's name and project, for a chat.
pub async fn find(pool: &SqlitePool, id: &str) -> Option<(String, String)> {
    sqlx::query_as("SELECT name, project_id FROM agents WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await
        .ok()
        .flatten()
}
