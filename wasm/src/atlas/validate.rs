//! Atlas/1.0 validation and compilation (SPEC §1): the manifest is checked against the schema's rules plus the
//! semantic ones (unique ids, references, dependencies), collecting every error with its JSON pointer (relative to
//! the manifest), then compiled into an [`Atlas`] with its indexes. Policies, their parameters and the per-action
//! policy index are read in `policies.rs`, with the same [`Validator`].

use crate::obj;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::host::Host;
use crate::ids::{is_action_id, is_atlas_id, is_capability_id, is_semver};
use crate::input::{as_document, type_name, Obj};
use crate::json::{pointer_index, pointer_push};
use crate::time::{parse_time_bound, Micros};
use crate::uri::is_uri;

use super::conditions::{zone_of, Conditions, RiskTier, TimeWindow, Zone};
use super::model::*;
use super::pattern::{Pattern, SortedIds};
use super::policies::index_policies;
use super::prepare::prepare;

pub(super) const CODE: ErrorCode = ErrorCode::AtlasInvalid;

const TOP_FIELDS: &[&str] = &[
    "atlas_version", "atlas_id", "version", "name", "description", "authors", "license", "homepage", "repository",
    "domains", "capabilities", "context_packs", "policies", "actions", "adapters", "dependencies", "metadata",
];
const ACTION_FIELDS: &[&str] = &[
    "action_id", "name", "description", "parameters_schema", "returns_schema", "risk_tier", "idempotent",
    "requires_confirmation", "executor", "timeout_seconds", "rate_limit", "examples",
];
const CAPABILITY_FIELDS: &[&str] = &["capability_id", "name", "description", "actions", "context_packs"];
const PACK_FIELDS: &[&str] = &["pack_id", "name", "description", "files", "priority", "conditions", "max_tokens"];
const CONDITION_FIELDS: &[&str] = &["risk_tiers", "agents", "capabilities", "context_matches", "time_window"];
const WINDOW_FIELDS: &[&str] = &["start", "end", "timezone", "days"];
const DAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/// Adapter platforms whose `settings.tool_names` are checked (the SDK's tool adapters read them).
const TOOL_NAME_PLATFORMS: &[&str] = &["openai", "anthropic", "mcp", "ai_sdk"];

/// The outcome of validating one manifest.
pub struct Validation {
    pub atlas: Option<Atlas>,
    pub errors: Vec<CoreError>,
    pub warnings: Vec<Warning>,
}

/// Something odd in a manifest that does not stop it from loading (a pattern that matches nothing, a context file
/// whose text was not supplied). Answered in the shape of an error, with the code `atlas_warning`; never an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// JSON pointer into the manifest.
    pub path: String,
    pub message: String,
}

impl Warning {
    pub const CODE: &'static str = "atlas_warning";

    pub fn to_json(&self) -> Value {
        obj!("code": Warning::CODE, "message": &self.message, "path": &self.path)
    }
}

/// Validates and compiles `manifest`. `files` holds the text of context files by path (missing ones are a warning
/// and give empty blocks). Named time zones are checked with the host at `now`.
pub fn compile(manifest: &Value, files: Option<&Map<String, Value>>, host: &mut dyn Host, now: Micros) -> Validation {
    let mut v = Validator { errors: Vec::new(), warnings: Vec::new(), host, now };
    let atlas = v.manifest(manifest, files);
    let atlas = if v.errors.is_empty() { atlas } else { None };
    Validation { atlas, errors: v.errors, warnings: v.warnings }
}

/// Collects every error and warning of one manifest while its parts are read (the policy parts in `policies.rs`).
pub(super) struct Validator<'h> {
    pub(super) errors: Vec<CoreError>,
    pub(super) warnings: Vec<Warning>,
    host: &'h mut dyn Host,
    now: Micros,
}

impl<'h> Validator<'h> {
    pub(super) fn take<T>(&mut self, r: CoreResult<T>) -> Option<T> {
        match r {
            Ok(t) => Some(t),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    pub(super) fn error(&mut self, path: String, message: impl Into<String>) {
        self.errors.push(CoreError::at(CODE, path, message));
    }

    pub(super) fn warn(&mut self, path: String, message: impl Into<String>) {
        self.warnings.push(Warning { path, message: message.into() });
    }

    // The sections below stay functions of their own (#[inline(never)]): a host compiles each wasm function when it
    // is first called, and one function holding the whole validator took milliseconds to compile on the first load.
    fn manifest(&mut self, manifest: &Value, files: Option<&Map<String, Value>>) -> Option<Atlas> {
        let root = match as_document(manifest, "", CODE) {
            Ok(o) => o,
            Err(e) => {
                self.errors.push(e);
                return None;
            }
        };
        let r = root.deny_unknown(TOP_FIELDS, CODE);
        self.take(r);

        match root.opt_str("atlas_version", CODE) {
            Ok(Some("1.0")) => {}
            Ok(Some(other)) => self.error("/atlas_version".into(), format!("unsupported atlas_version `{}`; this runtime reads 1.0", other)),
            Ok(None) => self.error("/atlas_version".into(), "`atlas_version` is required"),
            Err(e) => self.errors.push(e),
        }
        let atlas_id = self.required_id(root, "atlas_id", is_atlas_id, "a reverse-domain id such as `com.example.support`");
        let version = match root.req_str("version", CODE) {
            Ok(s) if is_semver(s) => Some(s.to_string()),
            Ok(_) => {
                self.error("/version".into(), "`version` must be a semantic version (e.g. 1.2.0)");
                None
            }
            Err(e) => {
                self.errors.push(e);
                None
            }
        };
        let r = root.req_text("name", 1, 100, CODE);
        let name = self.take(r).map(str::to_string);
        let r = root.req_text("description", 0, 1000, CODE);
        let description = self.take(r).map(str::to_string);
        for key in ["authors", "domains"] {
            let r = root.opt_str_list(key, CODE, |_| None);
            self.take(r);
        }
        let r = root.opt_str("license", CODE);
        self.take(r);
        for key in ["homepage", "repository"] {
            match root.opt_str(key, CODE) {
                Ok(Some(s)) if !is_uri(s) => self.error(root.field_path(key), format!("`{}` must be a URI (RFC 3986)", key)),
                Ok(_) => {}
                Err(e) => self.errors.push(e),
            }
        }
        let r = root.opt_object("metadata", CODE);
        self.take(r);
        let dependencies = self.dependencies(root);

        let actions = self.list(root, "actions", |v, o| v.action(o));
        let mut action_index = HashMap::new();
        for (i, a) in actions.iter().enumerate() {
            if let Some(a) = a {
                if action_index.insert(a.action_id.clone(), i).is_some() {
                    self.error(format!("/actions/{}/action_id", i), format!("duplicate action id `{}`", a.action_id));
                }
            }
        }
        // Every well-formed action id, also of actions refused for another member: a pattern or tool name that
        // names one is not a second problem to report.
        let action_ids: Vec<String> = match root.get("actions") {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|a| a.get("action_id").and_then(Value::as_str).filter(|id| is_action_id(id)).map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        self.adapters(root, &action_ids);

        let packs = self.list(root, "context_packs", |v, o| v.pack(o, files));
        self.unique(packs.iter().map(|p| p.as_ref().map(|p| p.pack_id.as_str())), "/context_packs", "pack_id");
        let pack_ids: HashSet<String> = packs.iter().flatten().map(|p| p.pack_id.clone()).collect();

        // Sorted: a pattern is checked against the actions with a binary search, not a pass over all of them.
        let ids: Vec<&str> = action_ids.iter().map(String::as_str).collect();
        let sorted_ids = SortedIds::new(&ids);
        let capabilities = self.list(root, "capabilities", |v, o| v.capability(o, &sorted_ids, &pack_ids));
        self.unique(
            capabilities.iter().map(|c| c.as_ref().map(|c| c.capability_id.as_str())),
            "/capabilities",
            "capability_id",
        );

        let policies = self.list(root, "policies", |v, o| v.policy(o, &sorted_ids));
        self.unique(policies.iter().map(|p| p.as_ref().map(|p| p.policy_id.as_str())), "/policies", "policy_id");

        if !self.errors.is_empty() {
            return None;
        }
        let mut atlas = Atlas {
            atlas_id: atlas_id?,
            version: version?,
            name: name?,
            description: description?,
            manifest: manifest.clone(),
            dependencies,
            actions: actions.into_iter().flatten().collect(),
            action_index,
            capabilities: capabilities.into_iter().flatten().collect(),
            capability_index: HashMap::new(),
            packs: packs.into_iter().flatten().collect(),
            policies: policies.into_iter().flatten().collect(),
            unloaded: Cell::new(false),
        };
        index_policies(&mut atlas);
        prepare(&mut atlas);
        Some(atlas)
    }

    fn required_id(&mut self, o: Obj, key: &str, check: fn(&str) -> bool, what: &str) -> Option<String> {
        match o.req_str(key, CODE) {
            Ok(s) if check(s) => Some(s.to_string()),
            Ok(s) => {
                self.error(o.field_path(key), format!("`{}` is not {}", s, what));
                None
            }
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    /// Reads an optional array of objects with `item`, keeping positions (`None` for items that failed).
    fn list<T>(&mut self, root: Obj, key: &str, mut item: impl FnMut(&mut Self, Obj) -> Option<T>) -> Vec<Option<T>> {
        let arr = match root.opt_array(key, CODE) {
            Ok(Some(a)) => a,
            Ok(None) => return Vec::new(),
            Err(e) => {
                self.errors.push(e);
                return Vec::new();
            }
        };
        let base = root.field_path(key);
        let mut out = Vec::with_capacity(arr.len());
        for (i, v) in arr.iter().enumerate() {
            let path = pointer_index(&base, i);
            match root.object(v, &path, CODE) {
                Ok(o) => out.push(item(self, o)),
                Err(e) => {
                    self.errors.push(e);
                    out.push(None);
                }
            }
        }
        out
    }

    fn unique<'a>(&mut self, ids: impl Iterator<Item = Option<&'a str>>, base: &str, key: &str) {
        let mut seen = HashSet::new();
        for (i, id) in ids.enumerate() {
            if let Some(id) = id {
                if !seen.insert(id) {
                    self.error(format!("{}/{}/{}", base, i, key), format!("duplicate {} `{}`", key, id));
                }
            }
        }
    }

    /// `adapters`: free-form per platform (`enabled`, `settings`), except the tool names of the platforms the
    /// SDK's adapters name tools for, which must fit every one of those platforms (see [`Self::tool_names`]).
    #[inline(never)]
    fn adapters(&mut self, root: Obj, action_ids: &[String]) {
        let map = match root.opt_object("adapters", CODE) {
            Ok(Some(m)) => m,
            Ok(None) => return,
            Err(e) => return self.errors.push(e),
        };
        let base = root.field_path("adapters");
        for (name, v) in map {
            let path = pointer_push(&base, name);
            match root.object(v, &path, CODE) {
                Ok(o) => {
                    let r = o.opt_bool("enabled", CODE);
                    self.take(r);
                    let r = o.opt_object("settings", CODE);
                    if let Some(Some(settings)) = self.take(r) {
                        if TOOL_NAME_PLATFORMS.contains(&name.as_str()) {
                            let at = o.field_path("settings");
                            // `settings` is free-form (a `null` there is "not given"), but its tool names are read.
                            self.tool_names(Obj::new(settings, &at), action_ids);
                        }
                    }
                }
                Err(e) => self.errors.push(e),
            }
        }
    }

    /// `settings.tool_names`: `{action id of this atlas: tool name}`. A name must be one that OpenAI, Anthropic and
    /// MCP clients all accept (`^[a-zA-Z0-9_-]{1,64}$`), and two actions cannot share one on a platform: the
    /// tool call would not say which action it means. Checked at load so that a bad name fails there, not at
    /// the first tool call.
    #[inline(never)]
    fn tool_names(&mut self, settings: Obj, action_ids: &[String]) {
        let map = match settings.opt_object("tool_names", CODE) {
            Ok(Some(m)) => m,
            Ok(None) => return,
            Err(e) => return self.errors.push(e),
        };
        let base = settings.field_path("tool_names");
        // (name, action id): a handful per platform, so a list (another hash-map type costs module size).
        let mut given: Vec<(&str, &str)> = Vec::new();
        for (action_id, name) in map {
            let path = pointer_push(&base, action_id);
            if !action_ids.iter().any(|a| a == action_id) {
                self.error(path, format!("`{}` is not an action of this atlas", action_id));
                continue;
            }
            match name {
                Value::String(n) if is_tool_name(n) => {
                    if let Some((_, first)) = given.iter().find(|(g, _)| *g == n.as_str()) {
                        self.error(path, format!("tool name `{}` is already given to `{}`", n, first));
                    } else {
                        given.push((n, action_id));
                    }
                }
                Value::String(n) => self.error(path, format!("tool name `{}` must match ^[a-zA-Z0-9_-]{{1,64}}$", n)),
                other => self.error(path, format!("expected a tool name (a string matching ^[a-zA-Z0-9_-]{{1,64}}$), found {}", type_name(other))),
            }
        }
        // A given name must not be the default name of an action left unnamed on this platform: a call by that
        // name would run the named action. (The default name is the action id with `.` → `_`, the SDK's
        // `defaultToolName` in sdk/src/tools/names.ts; ids longer than 64 characters never have a clashing one.)
        for (name, action_id) in &given {
            let clash = action_ids.iter().find(|b| b.as_str() != *action_id && !map.contains_key(b.as_str()) && b.len() <= 64 && b.replace('.', "_") == *name);
            if let Some(b) = clash {
                self.error(
                    pointer_push(&base, action_id),
                    format!("tool name `{}` is the default tool name of `{}`: give `{}` a name too, or choose another", name, b, b),
                );
            }
        }
    }

    #[inline(never)]
    fn dependencies(&mut self, root: Obj) -> Vec<(String, String)> {
        let map = match root.opt_object("dependencies", CODE) {
            Ok(Some(m)) => m,
            Ok(None) => return Vec::new(),
            Err(e) => {
                self.errors.push(e);
                return Vec::new();
            }
        };
        let base = root.field_path("dependencies");
        let mut out = Vec::new();
        for (id, range) in map {
            let path = pointer_push(&base, id);
            if !is_atlas_id(id) {
                self.error(path, format!("dependency `{}` is not an atlas id", id));
                continue;
            }
            match range {
                Value::String(r) if super::deps::parse_range(r).is_some() => out.push((id.clone(), r.clone())),
                Value::String(r) => self.error(path, format!("`{}` is not a version range (e.g. ^1.2.0, >=1.0.0 <2.0.0, *)", r)),
                other => self.error(path, format!("expected a version range string, found {}", type_name(other))),
            }
        }
        out
    }

    #[inline(never)]
    fn action(&mut self, o: Obj) -> Option<Action> {
        let r = o.deny_unknown(ACTION_FIELDS, CODE);
        self.take(r);
        let id = self.required_id(o, "action_id", is_action_id, "a dotted action id such as `ticket.lookup`");
        let r = o.req_str("name", CODE);
        let name = self.take(r);
        let r = o.req_str("description", CODE);
        let description = self.take(r);
        let r = o.opt_object("parameters_schema", CODE);
        let params = self.take(r);
        let r = o.opt_object("returns_schema", CODE);
        let returns = self.take(r);
        let risk = self.risk_tier(o, "risk_tier");
        let r = o.opt_bool("idempotent", CODE);
        let idempotent = self.take(r);
        let r = o.opt_bool("requires_confirmation", CODE);
        let confirm = self.take(r);
        let r = o.opt_str("executor", CODE);
        self.take(r);
        let r = o.opt_int("timeout_seconds", 1, 300, CODE);
        self.take(r);
        let rate_limit = match o.opt_object("rate_limit", CODE) {
            Ok(Some(m)) => {
                let path = o.field_path("rate_limit");
                let rl = o.child(m, &path);
                // The schema leaves the limit open to other members: they are ignored, with a warning.
                for key in m.keys().filter(|k| !matches!(k.as_str(), "max_calls" | "window_seconds")) {
                    self.warn(rl.field_path(key), format!("unknown rate_limit field `{}` is ignored", key));
                }
                // Both numbers stay required: a limit with one of them cannot be enforced.
                let max = self.required_int(rl, "max_calls", 1);
                let window = self.required_int(rl, "window_seconds", 1);
                match (max, window) {
                    (Some(m), Some(w)) => Some(Some((m as u64, w as u64))),
                    _ => None,
                }
            }
            Ok(None) => Some(None),
            Err(e) => {
                self.errors.push(e);
                None
            }
        };
        self.examples(o);
        Some(Action {
            action_id: id?,
            name: name?.to_string(),
            description: description?.to_string(),
            parameters_schema: params?.map(|m| Value::Object(m.clone())),
            returns_schema: returns?.map(|m| Value::Object(m.clone())),
            risk_tier: risk?.unwrap_or(RiskTier::Low),
            idempotent: idempotent?.unwrap_or(false),
            requires_confirmation: confirm?.unwrap_or(false),
            rate_limit: rate_limit?,
            policies: Vec::new(),
            dynamic: false,
            descriptor: String::new(),
        })
    }

    /// `examples`: objects whose `name` is a string and `parameters` / `expected_result` objects, when present;
    /// other members are the author's (the schema leaves them open).
    fn examples(&mut self, o: Obj) {
        let list = match o.opt_array("examples", CODE) {
            Ok(Some(l)) => l,
            Ok(None) => return,
            Err(e) => return self.errors.push(e),
        };
        let base = o.field_path("examples");
        for (i, ex) in list.iter().enumerate() {
            let path = pointer_index(&base, i);
            let ex = match o.object(ex, &path, CODE) {
                Ok(ex) => ex,
                Err(e) => {
                    self.errors.push(e);
                    continue;
                }
            };
            let r = ex.opt_str("name", CODE).map(drop);
            self.take(r);
            for key in ["parameters", "expected_result"] {
                let r = ex.opt_object(key, CODE).map(drop);
                self.take(r);
            }
        }
    }

    pub(super) fn required_int(&mut self, o: Obj, key: &str, min: i64) -> Option<i64> {
        match o.opt_int(key, min, i64::MAX, CODE) {
            Ok(Some(n)) => Some(n),
            Ok(None) => {
                self.error(o.field_path(key), format!("`{}` is required", key));
                None
            }
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    fn risk_tier(&mut self, o: Obj, key: &str) -> Option<Option<RiskTier>> {
        match o.opt_str(key, CODE) {
            Ok(None) => Some(None),
            Ok(Some(s)) => match RiskTier::parse(s) {
                Some(t) => Some(Some(t)),
                None => {
                    self.error(o.field_path(key), format!("`{}` is not a risk tier (low, medium, high, critical)", s));
                    None
                }
            },
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    /// Action patterns: strings; one that matches no action of this atlas is a warning (`""` among them: it is
    /// the exact id `""`, which no action has).
    pub(super) fn patterns(&mut self, o: Obj, key: &str, action_ids: &SortedIds) -> Option<Vec<Pattern>> {
        let r = o.opt_str_list(key, CODE, |_| None);
        let list = self.take(r)?.unwrap_or_default();
        let base = o.field_path(key);
        let mut out = Vec::with_capacity(list.len());
        for (i, s) in list.iter().enumerate() {
            let p = Pattern::parse(s);
            if !action_ids.any(&p) {
                self.warn(pointer_index(&base, i), format!("`{}` matches no action of this atlas", s));
            }
            out.push(p);
        }
        Some(out)
    }

    #[inline(never)]
    fn capability(&mut self, o: Obj, action_ids: &SortedIds, pack_ids: &HashSet<String>) -> Option<Capability> {
        let r = o.deny_unknown(CAPABILITY_FIELDS, CODE);
        self.take(r);
        let id = self.required_id(o, "capability_id", is_capability_id, "a capability id such as `resource.read`");
        let r = o.req_str("name", CODE);
        let name = self.take(r);
        let r = o.opt_str("description", CODE);
        self.take(r);
        let patterns = self.patterns(o, "actions", action_ids);
        // A pack that this atlas does not have is a warning and is dropped, as a pattern that matches no action is.
        let r = o.opt_str_list("context_packs", CODE, |_| None);
        let packs = self.take(r).map(|list| {
            let base = o.field_path("context_packs");
            let mut known = list.unwrap_or_default();
            let mut i = 0;
            known.retain(|p| {
                let keep = pack_ids.contains(p);
                if !keep {
                    self.warn(pointer_index(&base, i), format!("`{}` is not a context pack of this atlas; it is ignored", p));
                }
                i += 1;
                keep
            });
            known
        });
        Some(Capability {
            capability_id: id?,
            name: name?.to_string(),
            patterns: patterns?,
            context_packs: packs?,
            members: Vec::new(),
        })
    }

    #[inline(never)]
    fn pack(&mut self, o: Obj, files: Option<&Map<String, Value>>) -> Option<ContextPack> {
        let r = o.deny_unknown(PACK_FIELDS, CODE);
        self.take(r);
        let r = o.req_text("pack_id", 1, usize::MAX, CODE);
        let id = self.take(r);
        let r = o.req_str("name", CODE);
        let name = self.take(r);
        let r = o.opt_str("description", CODE);
        self.take(r);
        let r = o.opt_int("priority", 0, 1000, CODE);
        let priority = self.take(r);
        let r = o.opt_int("max_tokens", 0, i64::MAX, CODE);
        let max_tokens = self.take(r);
        let conditions = self.conditions(o);
        let paths = match o.opt_str_list("files", CODE, check_file_path) {
            Ok(Some(p)) => Some(p),
            Ok(None) => {
                self.error(o.field_path("files"), "`files` is required");
                None
            }
            Err(e) => {
                self.errors.push(e);
                None
            }
        };
        let mut out_files = Vec::new();
        if let Some(paths) = &paths {
            let base = o.field_path("files");
            for (i, p) in paths.iter().enumerate() {
                let text = match files.and_then(|f| f.get(p)) {
                    Some(Value::String(t)) => t.clone(),
                    Some(other) => {
                        self.errors.push(CoreError::at(
                            ErrorCode::InvalidRequest,
                            format!("/files{}", pointer_push("", p)),
                            format!("the text of `{}` must be a string, found {}", p, type_name(other)),
                        ));
                        String::new()
                    }
                    None => {
                        self.warn(pointer_index(&base, i), format!("the text of `{}` was not supplied; its block is empty", p));
                        String::new()
                    }
                };
                out_files.push(ContextFile { path: p.clone(), text });
            }
        }
        paths?;
        Some(ContextPack {
            pack_id: id?.to_string(),
            name: name?.to_string(),
            files: out_files,
            priority: priority?.unwrap_or(100),
            conditions: conditions?,
            max_tokens: max_tokens?.map(|n| n as u64),
            blocks: Vec::new(),
        })
    }

    /// `Some(None)` when absent, `Some(Some(c))` when valid, `None` on error.
    #[inline(never)]
    pub(super) fn conditions(&mut self, o: Obj) -> Option<Option<Conditions>> {
        let m = match o.opt_object("conditions", CODE) {
            Ok(Some(m)) => m,
            Ok(None) => return Some(None),
            Err(e) => {
                self.errors.push(e);
                return None;
            }
        };
        let path = o.field_path("conditions");
        let c = o.child(m, &path);
        let before = self.errors.len();
        let r = c.deny_unknown(CONDITION_FIELDS, CODE);
        self.take(r);
        let r = c.opt_str_list("risk_tiers", CODE, |s| {
            if RiskTier::parse(s).is_some() {
                None
            } else {
                Some(format!("`{}` is not a risk tier", s))
            }
        });
        let risk_tiers = self.take(r).flatten().map(|l| l.iter().filter_map(|s| RiskTier::parse(s)).collect());
        let r = c.opt_str_list("agents", CODE, |_| None);
        let agents = self.take(r).flatten();
        let r = c.opt_str_list("capabilities", CODE, |_| None);
        let capabilities = self.take(r).flatten();
        let mut context_matches = None;
        match c.opt_object("context_matches", CODE) {
            Ok(Some(m)) => {
                let base = c.field_path("context_matches");
                let mut list = Vec::new();
                for (k, v) in m {
                    match v {
                        Value::String(s) => list.push((k.clone(), s.clone())),
                        other => self.error(pointer_push(&base, k), format!("expected a string, found {}", type_name(other))),
                    }
                }
                context_matches = Some(list);
            }
            Ok(None) => {}
            Err(e) => self.errors.push(e),
        }
        let time_window = self.time_window(c);
        if self.errors.len() > before {
            return None;
        }
        Some(Some(Conditions { risk_tiers, agents, capabilities, context_matches, time_window }))
    }

    fn time_window(&mut self, c: Obj) -> Option<TimeWindow> {
        let m = match c.opt_object("time_window", CODE) {
            Ok(Some(m)) => m,
            Ok(None) => return None,
            Err(e) => {
                self.errors.push(e);
                return None;
            }
        };
        let path = c.field_path("time_window");
        let w = c.child(m, &path);
        // The schema leaves the window open to other members: they are ignored, with a warning.
        for key in m.keys().filter(|k| !WINDOW_FIELDS.contains(&k.as_str())) {
            self.warn(w.field_path(key), format!("unknown time_window field `{}` is ignored", key));
        }
        let bound = |v: &mut Self, key: &str| -> Option<(u32, Option<i32>)> {
            match w.opt_str(key, CODE) {
                Ok(Some(s)) => match parse_time_bound(s) {
                    Some(t) => Some(t),
                    None => {
                        v.error(w.field_path(key), time_bound_message(s));
                        None
                    }
                },
                Ok(None) => None,
                Err(e) => {
                    v.errors.push(e);
                    None
                }
            }
        };
        let start = bound(self, "start");
        let end = bound(self, "end");
        let zone = match w.opt_str("timezone", CODE) {
            Ok(Some(name)) => {
                let z = zone_of(name);
                if let Zone::Named(n) = &z {
                    if self.host.tz_offset_minutes(n, self.now.div_euclid(1_000_000)).is_none() {
                        self.error(w.field_path("timezone"), format!("unknown time zone `{}`", n));
                    }
                }
                z
            }
            Ok(None) => Zone::Fixed(0),
            Err(e) => {
                self.errors.push(e);
                Zone::Fixed(0)
            }
        };
        let r = w.opt_str_list("days", CODE, |s| {
            if DAYS.contains(&s) {
                None
            } else {
                Some(format!("`{}` is not a day (mon … sun)", s))
            }
        });
        let days = self.take(r).flatten().map(|list| {
            list.iter().fold(0u8, |acc, d| acc | DAYS.iter().position(|x| x == d).map(|i| 1u8 << i).unwrap_or(0))
        });
        Some(TimeWindow { start, end, zone, days, raw: Value::Object(m.clone()) })
    }
}

/// Why a time-window bound was refused. `24:00` gets its own hint: the end of the day is `00:00`, since a window
/// whose end is before its start runs past midnight (`TimeWindow::contains`), or no `end` at all.
fn time_bound_message(s: &str) -> String {
    let midnight = s.strip_prefix("24").map_or(false, |rest| matches!(parse_time_bound(&format!("00{}", rest)), Some((0, _))));
    if midnight {
        format!("`{}` is not a time of day: hours run from 00 to 23; for midnight write `00:00` (a window that ends before it starts runs past midnight), or leave out `end` for the end of the day", s)
    } else {
        format!("`{}` is not a time of day (HH:MM or HH:MM:SS, hours 00 to 23, with an optional Z or ±HH:MM)", s)
    }
}

/// Context file paths are relative to the atlas folder and may not climb out of it.
fn check_file_path(p: &str) -> Option<String> {
    if p.is_empty() || p.starts_with('/') || p.contains('\\') || p.contains('\0') || p.split('/').any(|s| s == "..") {
        Some(format!("`{}` must be a relative path inside the atlas folder", p))
    } else {
        None
    }
}

/// `^[a-zA-Z0-9_-]{1,64}$`.
fn is_tool_name(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

