//! HTTP basic authentication against an htpasswd file (upstream-behaviour §auth-basic).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use crate::api::error::ApiError;

fn unauthorized() -> Response {
    let mut err = ApiError::new(StatusCode::UNAUTHORIZED, "Authentication required");
    err.www_authenticate = Some(HeaderValue::from_static("Basic realm=\"Baremetal API\""));
    err.into_response()
}

/// Identifies a version of the htpasswd file, to notice edits.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
}

struct Loaded {
    stamp: FileStamp,
    /// user -> bcrypt hash
    users: HashMap<String, String>,
}

/// HTTP basic authentication against an Apache htpasswd file of bcrypt
/// hashes, as Ironic uses it. The file is re-read when it changes. bcrypt is
/// slow on purpose, so credentials that verified against the current hash are
/// remembered (in memory only) until the file changes.
pub struct BasicAuth {
    path: PathBuf,
    loaded: Mutex<Option<Loaded>>,
    verified: Mutex<HashMap<(String, String), String>>,
}

const MAX_REMEMBERED: usize = 1024;

/// The htpasswd file cannot be read (missing, unreadable): every request
/// is then refused as unavailable, never let through.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the htpasswd file {}: {error}", path.display())]
pub struct HtpasswdUnreadable {
    pub path: PathBuf,
    pub error: std::io::Error,
}

/// An htpasswd line that is skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HtpasswdProblem {
    #[error("line {line}: user {user:?} does not have a bcrypt hash")]
    NotBcrypt { line: usize, user: String },
    #[error("line {line}: expected user:hash")]
    Malformed { line: usize },
}

/// Parses htpasswd text; entries that are not bcrypt are reported and skipped.
pub fn parse_htpasswd(text: &str) -> (HashMap<String, String>, Vec<HtpasswdProblem>) {
    let mut users = HashMap::new();
    let mut problems = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(':') {
            Some((user, hash)) if ["$2y$", "$2a$", "$2b$"].iter().any(|p| hash.starts_with(p)) => {
                users.insert(user.to_string(), hash.to_string());
            }
            Some((user, _)) => problems.push(HtpasswdProblem::NotBcrypt {
                line: number + 1,
                user: user.to_string(),
            }),
            None => problems.push(HtpasswdProblem::Malformed { line: number + 1 }),
        }
    }
    (users, problems)
}

impl BasicAuth {
    /// Reads and validates the file once, so a broken setup fails at start.
    pub fn new(path: &Path) -> Result<Self, HtpasswdUnreadable> {
        let auth = Self {
            path: path.to_path_buf(),
            loaded: Mutex::new(None),
            verified: Mutex::new(HashMap::new()),
        };
        auth.current_users()?;
        Ok(auth)
    }

    fn unreadable(&self, error: std::io::Error) -> HtpasswdUnreadable {
        HtpasswdUnreadable {
            path: self.path.clone(),
            error,
        }
    }

    fn stamp(&self) -> Result<FileStamp, HtpasswdUnreadable> {
        let meta = std::fs::metadata(&self.path).map_err(|e| self.unreadable(e))?;
        Ok(FileStamp {
            modified: meta.modified().ok(),
            len: meta.len(),
        })
    }

    fn current_users(&self) -> Result<HashMap<String, String>, HtpasswdUnreadable> {
        let stamp = self.stamp()?;
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(l) = loaded.as_ref().filter(|l| l.stamp == stamp) {
            return Ok(l.users.clone());
        }
        let text = std::fs::read_to_string(&self.path).map_err(|e| self.unreadable(e))?;
        let (users, problems) = parse_htpasswd(&text);
        for problem in problems {
            tracing::warn!(file = %self.path.display(), "htpasswd {problem}; the entry is ignored");
        }
        *loaded = Some(Loaded {
            stamp,
            users: users.clone(),
        });
        self.verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        Ok(users)
    }

    /// The user name, or the response to send instead.
    pub(super) async fn authenticate(
        &self,
        header: Option<&HeaderValue>,
    ) -> Result<String, Response> {
        let Some((user, password)) = header.and_then(decode_basic) else {
            return Err(unauthorized());
        };
        let users = self.current_users().map_err(|e| {
            tracing::error!("{e}");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Authentication is not available",
            )
            .into_response()
        })?;
        let Some(hash) = users.get(&user).cloned() else {
            return Err(unauthorized());
        };
        let key = (user.clone(), password.clone());
        if self
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            == Some(&hash)
        {
            return Ok(user);
        }
        let check_hash = hash.clone();
        let ok = tokio::task::spawn_blocking(move || {
            bcrypt::verify(password, &check_hash).unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        if !ok {
            return Err(unauthorized());
        }
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.len() >= MAX_REMEMBERED {
            verified.clear();
        }
        verified.insert(key, hash);
        Ok(user)
    }
}

/// `Basic base64(user:password)`, scheme case-insensitive.
fn decode_basic(header: &HeaderValue) -> Option<(String, String)> {
    let text = header.to_str().ok()?;
    let (scheme, encoded) = text.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htpasswd_keeps_only_bcrypt_entries() {
        let (users, problems) =
            parse_htpasswd("admin:$2y$05$abc\n\nold:{SHA}xyz\nbroken\n# comment\n");
        assert_eq!(users.len(), 1);
        assert_eq!(users["admin"], "$2y$05$abc");
        assert_eq!(
            problems,
            [
                HtpasswdProblem::NotBcrypt {
                    line: 3,
                    user: "old".into()
                },
                HtpasswdProblem::Malformed { line: 4 },
            ]
        );
        assert_eq!(
            problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "line 3: user \"old\" does not have a bcrypt hash",
                "line 4: expected user:hash"
            ]
        );
    }

    #[test]
    fn basic_header_decoding() {
        let value = HeaderValue::from_static("bAsIc YWRtaW46czNjcjN0OndpdGg6Y29sb25z");
        assert_eq!(
            decode_basic(&value),
            Some(("admin".into(), "s3cr3t:with:colons".into()))
        );
        assert_eq!(decode_basic(&HeaderValue::from_static("Bearer abc")), None);
        assert_eq!(decode_basic(&HeaderValue::from_static("Basic !!!")), None);
        assert_eq!(
            decode_basic(&HeaderValue::from_static("Basic bm9jb2xvbg==")),
            None
        );
    }
}
