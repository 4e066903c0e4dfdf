//! Bearer-token authentication from a static token file in the API server's
//! format (`--token-auth-file`: CSV lines `token,user,uid[,"group1,group2"]`)
//! and three scopes from the groups: `kevdb:read`, `kevdb:write` and
//! `kevdb:admin` (each implies the ones before it; a user in no kevdb group
//! may read). Writes (`POST`, `PUT`) need `write`, `DELETE` needs `admin`,
//! everything else `read`; `/healthz`, `/readyz` and `/livez` stay open.
//!
//! The token travels as `Authorization: Bearer <token>`; for exporters
//! whose clients only speak Elasticsearch's schemes it may also be the
//! password of `Basic` auth (any user name) or an `ApiKey`.

use super::access_log::Principal;
use super::status::ApiError;
use super::AppState;
use anyhow::Context;
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Read,
    Write,
    Admin,
}

/// A user of the token file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub scope: Scope,
}

/// The tokens of a `--token-auth-file`.
#[derive(Clone)]
pub struct TokenAuth {
    users: HashMap<String, User>,
}

impl std::fmt::Debug for TokenAuth {
    // Never print the tokens.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAuth").field("users", &self.users.len()).finish()
    }
}

/// Splits one CSV line (RFC 4180 quoting, `""` inside quotes).
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cur.push(c),
            (false, '"') if cur.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            (false, ',') => {
                fields.push(std::mem::take(&mut cur));
                was_quoted = false;
            }
            (false, '"') => return Err("unexpected quote".into()),
            (false, c) => cur.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    fields.push(cur);
    Ok(fields)
}

impl TokenAuth {
    /// Parses the file's text. Blank lines and lines starting with `#` are
    /// skipped.
    pub fn parse(text: &str) -> anyhow::Result<TokenAuth> {
        let mut users = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let f = csv_fields(line).map_err(|e| anyhow::anyhow!("line {}: {e}", i + 1))?;
            anyhow::ensure!(f.len() >= 3, "line {}: expected token,user,uid[,\"groups\"]", i + 1);
            let token = f[0].trim().to_owned();
            anyhow::ensure!(!token.is_empty() && !f[1].trim().is_empty(), "line {}: empty token or user", i + 1);
            let groups: Vec<String> = f
                .get(3)
                .map(|g| g.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default();
            let scope = groups
                .iter()
                .filter_map(|g| match g.as_str() {
                    "kevdb:read" => Some(Scope::Read),
                    "kevdb:write" => Some(Scope::Write),
                    "kevdb:admin" => Some(Scope::Admin),
                    _ => None,
                })
                .max()
                .unwrap_or(Scope::Read);
            let user = User { name: f[1].trim().to_owned(), uid: f[2].trim().to_owned(), groups, scope };
            anyhow::ensure!(users.insert(token, user).is_none(), "line {}: duplicate token", i + 1);
        }
        anyhow::ensure!(!users.is_empty(), "no tokens");
        Ok(TokenAuth { users })
    }

    /// Reads a token file.
    pub fn load(path: &Path) -> anyhow::Result<TokenAuth> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading --token-auth-file {}", path.display()))?;
        TokenAuth::parse(&text).with_context(|| format!("--token-auth-file {}", path.display()))
    }

    /// The user a token belongs to. Compares every token in constant time
    /// so the answer's timing does not leak token prefixes.
    pub fn user(&self, token: &str) -> Option<&User> {
        let mut found = None;
        for (t, u) in &self.users {
            if constant_time_eq(t.as_bytes(), token.as_bytes()) {
                found = Some(u);
            }
        }
        found
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token an `Authorization` header presents: `Bearer <token>`,
/// `ApiKey <token>`, or `Basic base64(user:token)`.
fn presented_token(header: &str) -> Option<String> {
    use base64::Engine as _;
    let (scheme, rest) = header.trim().split_once(' ')?;
    let rest = rest.trim();
    let token = match scheme.to_ascii_lowercase().as_str() {
        "bearer" | "apikey" => rest.to_owned(),
        "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD.decode(rest).ok()?;
            let pair = String::from_utf8(decoded).ok()?;
            pair.split_once(':')?.1.to_owned()
        }
        _ => return None,
    };
    (!token.is_empty()).then_some(token)
}

fn open_path(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/livez")
}

/// The resource, API group and namespace a path addresses, for the
/// API server's Forbidden message.
fn describe(path: &str) -> (&str, &str, Option<&str>) {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let namespace = segs.iter().position(|s| *s == "namespaces").and_then(|i| segs.get(i + 1).copied());
    if segs.contains(&"ingest") {
        ("ingest", "kevdb.io", namespace)
    } else if segs.contains(&"events.k8s.io") {
        ("events", "events.k8s.io", namespace)
    } else {
        ("events", "", namespace)
    }
}

fn verb(method: &Method, path: &str) -> &'static str {
    if *method == Method::POST || *method == Method::PUT {
        "create"
    } else if *method == Method::DELETE {
        "deletecollection"
    } else if path.split('/').filter(|s| !s.is_empty()).rev().nth(1) == Some("events") {
        "get"
    } else {
        "list"
    }
}

/// `res`, marked as answered to `name` for the request log.
fn answered_to(mut res: Response, name: &str) -> Response {
    res.extensions_mut().insert(Principal(name.to_owned()));
    res
}

/// Middleware: authenticates and authorises every request when a token
/// file is configured, and marks each response with who it answered (see
/// `access_log::Principal`).
pub(crate) async fn check(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let Some(auth) = state.auth.as_ref() else { return answered_to(next.run(req).await, "anonymous") };
    let path = req.uri().path().to_owned();
    if open_path(&path) {
        return next.run(req).await;
    }
    let token = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(presented_token);
    let Some(user) = token.and_then(|t| auth.user(&t)) else {
        return ApiError::unauthorized("Unauthorized").into_response();
    };
    let needed = match *req.method() {
        Method::POST | Method::PUT => Scope::Write,
        Method::DELETE => Scope::Admin,
        _ => Scope::Read,
    };
    if user.scope < needed {
        let (resource, group, namespace) = describe(&path);
        let v = verb(req.method(), &path);
        let scope = match namespace {
            Some(ns) => format!(" in the namespace \"{ns}\""),
            None => " at the cluster scope".to_owned(),
        };
        let denied = ApiError::forbidden(format!(
            "{resource} is forbidden: User \"{}\" cannot {v} resource \"{resource}\" in API group \"{group}\"{scope}",
            user.name
        ));
        return answered_to(denied.into_response(), &user.name);
    }
    let name = user.name.clone();
    answered_to(next.run(req).await, &name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_api_server_format() {
        let a = TokenAuth::parse("# comment\nt1,alice,u1,\"kevdb:write,dev\"\nt2,bob,u2\n\nt3,carol,u3,kevdb:admin\n")
            .expect("parse");
        let alice = a.user("t1").expect("alice");
        assert_eq!(alice.name, "alice");
        assert_eq!(alice.groups, vec!["kevdb:write", "dev"]);
        assert_eq!(alice.scope, Scope::Write);
        assert_eq!(a.user("t2").map(|u| u.scope), Some(Scope::Read));
        assert_eq!(a.user("t3").map(|u| u.scope), Some(Scope::Admin));
        assert!(a.user("t").is_none());
        assert!(a.user("").is_none());
        assert!(TokenAuth::parse("t1,alice").is_err());
        assert!(TokenAuth::parse("t1,alice,u1,\"unterminated").is_err());
        assert!(TokenAuth::parse("t1,a,u\nt1,b,u").is_err());
        assert!(TokenAuth::parse("").is_err());
    }

    #[test]
    fn tokens_come_in_three_schemes() {
        assert_eq!(presented_token("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(presented_token("bearer  abc ").as_deref(), Some("abc"));
        assert_eq!(presented_token("ApiKey abc").as_deref(), Some("abc"));
        // base64("elastic:abc")
        assert_eq!(presented_token("Basic ZWxhc3RpYzphYmM=").as_deref(), Some("abc"));
        assert_eq!(presented_token("Basic !!!"), None);
        assert_eq!(presented_token("Digest abc"), None);
        assert_eq!(presented_token("Bearer "), None);
    }

    #[test]
    fn describes_paths() {
        assert_eq!(describe("/api/v1/namespaces/ns/events"), ("events", "", Some("ns")));
        assert_eq!(
            describe("/clusters/c/apis/events.k8s.io/v1/namespaces/x/events"),
            ("events", "events.k8s.io", Some("x"))
        );
        assert_eq!(describe("/kevdb/v1/ingest"), ("ingest", "kevdb.io", None));
        assert_eq!(verb(&Method::GET, "/api/v1/namespaces/ns/events/n"), "get");
        assert_eq!(verb(&Method::GET, "/api/v1/events"), "list");
    }
}
