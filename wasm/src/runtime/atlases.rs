//! Atlas operations: validate, load (with dependencies, cross-atlas action uniqueness and replace), unload,
//! list, get.

use crate::obj;
use std::rc::Rc;

use serde_json::Value;

use crate::atlas::deps::parse_range;
use crate::atlas::{compile, Atlas, Validation};
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::host::Host;
use crate::input::Obj;
use crate::json::{pointer_push, JsonOut};
use crate::time::Micros;

use super::Runtime;

const CODE: ErrorCode = ErrorCode::InvalidRequest;

impl Runtime {
    /// Compiles a manifest and checks it against what is loaded (dependencies, action ids of other atlases).
    fn check_atlas(&self, o: Obj, now: Micros, host: &mut dyn Host) -> CoreResult<(Validation, bool)> {
        o.deny_unknown(&["manifest", "files", "replace"], CODE)?;
        let manifest = o.get("manifest").ok_or_else(|| o.err(CODE, "manifest", "`manifest` is required"))?;
        let files = o.opt_object("files", CODE)?;
        let replace = o.opt_bool("replace", CODE)?.unwrap_or(false);
        let mut v = compile(manifest, files, host, now);
        if let Some(atlas) = &v.atlas {
            let errors = self.conflicts(atlas);
            if !errors.is_empty() {
                v.errors.extend(errors);
                v.atlas = None;
            }
        }
        Ok((v, replace))
    }

    fn conflicts(&self, atlas: &Atlas) -> Vec<CoreError> {
        let mut errors = Vec::new();
        for (dep, range) in &atlas.dependencies {
            let path = pointer_push("/dependencies", dep);
            match self.atlases.iter().find(|a| &a.atlas_id == dep) {
                None => errors.push(CoreError::at(ErrorCode::AtlasNotFound, path, format!("dependency `{}` is not loaded", dep))),
                Some(a) => {
                    if !parse_range(range).map(|r| r.satisfied_by(&a.version)).unwrap_or(false) {
                        errors.push(CoreError::at(
                            ErrorCode::AtlasInvalid,
                            path,
                            format!("dependency `{}` is loaded at {}, which does not satisfy {}", dep, a.version, range),
                        ));
                    }
                }
            }
        }
        for (i, action) in atlas.actions.iter().enumerate() {
            if let Some(other) = self
                .atlases
                .iter()
                .find(|a| a.atlas_id != atlas.atlas_id && a.action_index.contains_key(&action.action_id))
            {
                errors.push(CoreError::at(
                    ErrorCode::AtlasInvalid,
                    format!("/actions/{}/action_id", i),
                    format!("action `{}` is already declared by atlas `{}`", action.action_id, other.atlas_id),
                ));
            }
        }
        errors
    }

    pub fn validate_atlas(&self, o: Obj, now: Micros, host: &mut dyn Host) -> CoreResult<Value> {
        let (v, _) = self.check_atlas(o, now, host)?;
        Ok(obj!(
            "valid": v.errors.is_empty(),
            "errors": v.errors.iter().map(|e| e.to_json()).collect::<Vec<_>>(),
            "warnings": v.warnings.iter().map(|e| e.to_json()).collect::<Vec<_>>(),
        ))
    }

    pub fn load_atlas(&mut self, o: Obj, now: Micros, host: &mut dyn Host) -> CoreResult<String> {
        let (v, replace) = self.check_atlas(o, now, host)?;
        let atlas = match (v.atlas, v.errors.into_iter().next()) {
            (Some(a), _) => a,
            (None, Some(first)) => return Err(first),
            (None, None) => return Err(CoreError::internal("validation failed without an error")),
        };
        let existing = self.atlases.iter().position(|a| a.atlas_id == atlas.atlas_id);
        if existing.is_some() && !replace {
            return Err(CoreError::at(
                ErrorCode::AtlasExists,
                "/atlas_id",
                format!("atlas `{}` is already loaded (pass replace to load a new version)", atlas.atlas_id),
            ));
        }
        // The descriptors let a host complete the compact allowed actions of later resolutions.
        let mut out = JsonOut::with_capacity(4096);
        out.begin_object();
        out.key("atlas_id").str(&atlas.atlas_id);
        out.key("version").str(&atlas.version);
        out.key("name").str(&atlas.name);
        out.key("action_count").u64(atlas.actions.len() as u64);
        out.key("warnings").begin_array();
        for w in &v.warnings {
            out.value(&w.to_json());
        }
        out.end_array();
        out.key("actions").begin_array();
        for a in &atlas.actions {
            out.begin_object().raw_members(&a.descriptor).end_object();
        }
        out.end_array();
        out.end_object();
        for a in &atlas.actions {
            self.actions.intern(&a.action_id);
        }
        // Sessions keep the resolutions they have: those hold their own reference to the old version.
        match existing.and_then(|i| self.atlases.get_mut(i)) {
            Some(slot) => *slot = Rc::new(atlas),
            None => self.atlases.push(Rc::new(atlas)),
        }
        Ok(out.into_string())
    }

    pub fn unload_atlas(&mut self, o: Obj) -> CoreResult<Value> {
        let id = o.req_str("atlas_id", CODE)?;
        let i = self
            .atlases
            .iter()
            .position(|a| a.atlas_id == id)
            .ok_or_else(|| CoreError::at(ErrorCode::AtlasNotFound, "/atlas_id", format!("atlas `{}` is not loaded", id)))?;
        if let Some(dependent) = self.atlases.iter().find(|a| a.dependencies.iter().any(|(d, _)| d == id)) {
            return Err(CoreError::at(
                ErrorCode::InvalidState,
                "/atlas_id",
                format!("atlas `{}` depends on `{}`; unload it first", dependent.atlas_id, id),
            ));
        }
        self.atlases.remove(i).unloaded.set(true);
        Ok(obj!("atlas_id": id))
    }

    pub fn list_atlases(&self) -> Value {
        let list: Vec<Value> = self
            .atlases
            .iter()
            .map(|a| {
                obj!(
                    "atlas_id": &a.atlas_id,
                    "version": &a.version,
                    "name": &a.name,
                    "description": &a.description,
                    "action_count": a.actions.len(),
                )
            })
            .collect();
        obj!("atlases": list)
    }

    pub fn get_atlas(&self, o: Obj) -> CoreResult<Value> {
        let id = o.req_str("atlas_id", CODE)?;
        let a = self
            .atlas(id)
            .ok_or_else(|| CoreError::at(ErrorCode::AtlasNotFound, "/atlas_id", format!("atlas `{}` is not loaded", id)))?;
        Ok(obj!("manifest": &a.manifest))
    }

    pub fn atlas(&self, id: &str) -> Option<&Rc<Atlas>> {
        self.atlases.iter().find(|a| a.atlas_id == id)
    }

    /// The atlases a request addresses (all, in load order, by default); an unknown id is an error at `path`.
    pub fn atlases_in_scope(&self, ids: Option<&[String]>, path: &str) -> CoreResult<Vec<Rc<Atlas>>> {
        match ids {
            None => Ok(self.atlases.clone()),
            Some(ids) => {
                for (i, id) in ids.iter().enumerate() {
                    if self.atlas(id).is_none() {
                        return Err(CoreError::at(ErrorCode::AtlasNotFound, format!("{}/{}", path, i), format!("atlas `{}` is not loaded", id)));
                    }
                }
                Ok(self.atlases.iter().filter(|a| ids.contains(&a.atlas_id)).cloned().collect())
            }
        }
    }
}

