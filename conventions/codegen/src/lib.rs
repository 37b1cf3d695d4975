//! The semtel schema compiler: loads semantic-convention YAML (the
//! OpenTelemetry registry's `groups:` format and `file_format: definition/2`),
//! resolves it, and generates typed Rust and documentation from it.
//!
//! A user crate generates its own conventions from a `build.rs`:
//!
//! ```no_run
//! // build.rs: `fn main()` holds this one line.
//! semtel_codegen::Generator::new().schema_dir("semconv").run_build_script();
//! ```
//!
//! and includes the result once, at the crate root, with
//! `semtel::include_conventions!();`, which defines `mod semconv`.

mod docs;
mod error;
mod fields;
pub mod model;
pub mod names;
mod raw;
mod resolve;
mod rust;
mod v1;
mod v2;

/// The located YAML reader the loader uses (also used by `semtel` for its
/// config files).
pub use semtel_yaml as yaml;

pub use error::{Diagnostic, Error, Location};
pub use model::Registry;

use error::Sink;
use std::path::{Path, PathBuf};

/// The file a build script writes next to the generated code so that the
/// semtel macros can check uses against the same schema.
pub const MANIFEST_FILE: &str = "semtel-schema.txt";

/// The file the generated Rust is written to, in `OUT_DIR`.
pub const OUTPUT_FILE: &str = "semconv.rs";

/// The bundled schema's files, compiled into this crate so that the macros
/// and user schemas can use it without finding it on disk.
const BUNDLED: &[(&str, &str)] = &[
    ("error.yaml", include_str!("../../schema/error.yaml")),
    ("function.yaml", include_str!("../../schema/function.yaml")),
    ("gen_ai.yaml", include_str!("../../schema/gen_ai.yaml")),
    (
        "orchestration.yaml",
        include_str!("../../schema/orchestration.yaml"),
    ),
];

/// Names of the bundled schema files (for tests that compare with the directory).
pub fn bundled_files() -> impl Iterator<Item = &'static str> {
    BUNDLED.iter().map(|(n, _)| *n)
}

/// The bundled conventions (`semtel-conventions`' schema), resolved.
pub fn bundled() -> Result<Registry, Error> {
    let mut sink = Sink::default();
    let reg = from_texts(BUNDLED, None, false, &mut sink);
    sink.finish(reg)
}

/// Parses and resolves schema files given as `(name, text)` pairs.
fn from_texts(
    files: &[(&str, &str)],
    base: Option<&Registry>,
    hint_bundled: bool,
    sink: &mut Sink,
) -> Registry {
    let mut groups = Vec::new();
    for (name, text) in files {
        let file: std::sync::Arc<Path> = std::sync::Arc::from(Path::new(name));
        match yaml::Node::parse(text, &file) {
            Ok(root) => groups.extend(parse_file(&root, base, sink)),
            Err(d) => sink.push(d),
        }
    }
    resolve::resolve(groups, base, hint_bundled, sink)
}

/// Entry points for the fuzz targets in `fuzz/` and the tests that replay
/// their corpora. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod __fuzz {
    use super::*;

    fn generate(reg: &Registry) {
        let code = to_rust(reg, "::semtel::conventions");
        assert!(!code.is_empty());
        to_markdown(reg, "fuzz");
    }

    /// Loads `data` as one schema file of a user crate (on top of the
    /// bundled conventions); whatever loads is generated as Rust and
    /// Markdown. Errors are expected; panics and hangs are the bugs.
    pub fn schema_file(data: &[u8]) {
        static BASE: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
        let base = BASE.get_or_init(|| bundled().expect("the bundled conventions load"));
        let text = String::from_utf8_lossy(data);
        let mut sink = Sink::default();
        let reg = from_texts(&[("schema/fuzz.yaml", &text)], Some(base), false, &mut sink);
        if sink.diagnostics.is_empty() {
            generate(&reg);
        }
    }

    /// Loads `data` as several schema files (separated by NUL bytes) of one
    /// registry, without the bundled conventions, as `semtel schema` does.
    pub fn schema_registry(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        let names: Vec<String> = (0..text.split('\0').count())
            .map(|i| format!("registry/f{i}.yaml"))
            .collect();
        let files: Vec<(&str, &str)> = names
            .iter()
            .map(String::as_str)
            .zip(text.split('\0'))
            .collect();
        let mut sink = Sink::default();
        let reg = from_texts(&files, None, true, &mut sink);
        if sink.diagnostics.is_empty() {
            generate(&reg);
        }
    }
}

/// Loads and resolves every `.yaml`/`.yml` file under `dirs` (recursively, in
/// path order), on top of `base` when given.
pub fn load(dirs: &[impl AsRef<Path>], base: Option<&Registry>) -> Result<Registry, Error> {
    let (reg, diagnostics) = load_partial(dirs, base);
    if diagnostics.is_empty() {
        Ok(reg)
    } else {
        Err(Error::new(diagnostics))
    }
}

/// Like [`load`], but returns what could be resolved together with every
/// problem found (for reports that show both).
pub fn load_partial(
    dirs: &[impl AsRef<Path>],
    base: Option<&Registry>,
) -> (Registry, Vec<Diagnostic>) {
    let mut sink = Sink::default();
    let mut files = Vec::new();
    for dir in dirs {
        collect_files(dir.as_ref(), &mut files, &mut sink);
    }
    files.sort();
    let mut groups = Vec::new();
    for f in &files {
        match yaml::load_file(f) {
            Ok(root) => groups.extend(parse_file(&root, base, &mut sink)),
            Err(d) => sink.push(d),
        }
    }
    let reg = resolve::resolve(groups, base, base.is_none(), &mut sink);
    (reg, Error::new(sink.diagnostics).diagnostics().to_vec())
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>, sink: &mut Sink) {
    let file: std::sync::Arc<Path> = std::sync::Arc::from(path);
    if path.is_file() {
        out.push(path.to_path_buf());
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(e) => e,
        Err(e) => {
            sink.error(
                &Location::new(&file, 0, 0),
                format!("cannot read schema directory: {e}"),
            );
            return;
        }
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect_files(&p, out, sink);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
            && !is_manifest(&p)
        {
            out.push(p);
        }
    }
}

/// Registry manifests describe a registry; they hold no definitions.
fn is_manifest(p: &Path) -> bool {
    matches!(
        p.file_name().and_then(|n| n.to_str()),
        Some("manifest.yaml" | "registry_manifest.yaml")
    )
}

fn parse_file(root: &yaml::Node, base: Option<&Registry>, sink: &mut Sink) -> Vec<raw::RawGroup> {
    if root.get("groups").is_some() {
        v1::parse(root, sink)
    } else if let Some(format) = root.get("file_format") {
        if format.as_str() == Some("definition/2") {
            v2::check_imports(root, base, sink);
            v2::parse(root, sink)
        } else {
            sink.error(
                &format.loc,
                "unknown `file_format`; expected `definition/2`",
            );
            Vec::new()
        }
    } else if matches!(&root.value, yaml::Value::Null) {
        Vec::new()
    } else {
        sink.error(
            &root.loc,
            "not a semantic-convention file: expected `groups:` or `file_format: definition/2`",
        );
        Vec::new()
    }
}

/// Generates Rust for a registry; items imported from a base are not repeated.
pub fn to_rust(reg: &Registry, types_path: &str) -> String {
    rust::emit(
        reg,
        &rust::Options {
            types: types_path.to_string(),
        },
    )
}

/// Markdown tables documenting a registry (what `semtel schema docs` writes).
pub fn to_markdown(reg: &Registry, title: &str) -> String {
    docs::markdown(reg, title)
}

/// Where the schema for a crate's conventions comes from and where its code goes.
#[derive(Clone, Debug)]
pub struct Generator {
    dirs: Vec<PathBuf>,
    types_path: String,
    module: String,
    with_base: bool,
}

impl Default for Generator {
    fn default() -> Self {
        Self::new()
    }
}

impl Generator {
    /// A generator for a user crate: its schema may `ref` the bundled
    /// conventions, and its code uses `semtel`'s types.
    pub fn new() -> Self {
        Generator {
            dirs: Vec::new(),
            types_path: "::semtel::conventions".to_string(),
            module: "crate::semconv".to_string(),
            with_base: true,
        }
    }

    /// The generator `semtel-conventions` itself uses for its bundled schema.
    pub fn bundled_crate() -> Self {
        Generator {
            dirs: vec![PathBuf::from("schema")],
            types_path: "crate".to_string(),
            module: "::semtel::conventions".to_string(),
            with_base: false,
        }
    }

    /// Adds a schema directory (relative paths are relative to the crate root).
    pub fn schema_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dirs.push(dir.into());
        self
    }

    /// The path at which the crate includes the generated module
    /// (default `crate::semconv`, what `semtel::include_conventions!()` defines).
    pub fn module(mut self, path: impl Into<String>) -> Self {
        self.module = path.into();
        self
    }

    /// Loads and resolves the schema.
    pub fn load(&self) -> Result<Registry, Error> {
        if self.with_base {
            load(&self.dirs, Some(&bundled()?))
        } else {
            load(&self.dirs, None)
        }
    }

    /// The generated Rust source.
    pub fn to_source(&self) -> Result<String, Error> {
        Ok(to_rust(&self.load()?, &self.types_path))
    }

    /// Writes the generated code and the macros' schema manifest into `out_dir`.
    pub fn write_to(&self, out_dir: &Path) -> Result<PathBuf, Error> {
        let source = self.to_source()?;
        let io_err = |p: &Path, e: std::io::Error| {
            let file: std::sync::Arc<Path> = std::sync::Arc::from(p);
            Error::from(Diagnostic::new(
                Location::new(&file, 0, 0),
                format!("cannot write: {e}"),
            ))
        };
        let out = out_dir.join(OUTPUT_FILE);
        std::fs::write(&out, source).map_err(|e| io_err(&out, e))?;
        let mut manifest = format!("module {}\n", self.module);
        for d in &self.dirs {
            let abs = std::fs::canonicalize(d).unwrap_or_else(|_| d.clone());
            manifest.push_str(&format!("dir {}\n", abs.display()));
        }
        let mpath = out_dir.join(MANIFEST_FILE);
        std::fs::write(&mpath, manifest).map_err(|e| io_err(&mpath, e))?;
        Ok(out)
    }

    /// Everything a `build.rs` needs: asks Cargo to rerun when the schema
    /// changes, writes into `OUT_DIR`, and on a schema error prints every
    /// problem (file:line:column) and fails the build without a backtrace.
    pub fn run_build_script(&self) {
        for d in &self.dirs {
            println!("cargo:rerun-if-changed={}", d.display());
        }
        let Some(out_dir) = std::env::var_os("OUT_DIR") else {
            eprintln!("error: semtel-codegen: OUT_DIR is not set; call this from build.rs");
            std::process::exit(1);
        };
        if let Err(e) = self.write_to(Path::new(&out_dir)) {
            eprintln!("semtel: the semantic-convention schema has errors:\n{e}");
            std::process::exit(1);
        }
    }
}

/// A crate's own conventions as its build script recorded them in
/// [`MANIFEST_FILE`]: the module path they are included at, and the schema
/// resolved on top of the bundled conventions.
pub struct UserSchema {
    /// The Rust path of the generated module (`crate::semconv`).
    pub module: String,
    /// The resolved schema; bundled items are marked imported.
    pub registry: Registry,
}

/// Reads a manifest written by [`Generator::write_to`] and loads its schema.
pub fn load_manifest(text: &str) -> Result<UserSchema, Error> {
    let mut module = String::from("crate::semconv");
    let mut dirs = Vec::new();
    for line in text.lines() {
        if let Some(m) = line.strip_prefix("module ") {
            module = m.trim().to_string();
        } else if let Some(d) = line.strip_prefix("dir ") {
            dirs.push(PathBuf::from(d.trim()));
        }
    }
    let registry = load(&dirs, Some(&bundled()?))?;
    Ok(UserSchema { module, registry })
}
