//! `inspector db copy`: the whole database, table by table and page by page
//! through the raw bulk methods of [`StoreBackend`], into an upgraded
//! target, in one transaction of the target that is committed only when
//! every table holds as many rows as the source.

use std::time::{Duration, Instant};

use inspector_core::db_url::{mask_password, parse_server_url};

use super::bulk::{self, Cell, Table};
use super::{ALEMBIC_HEAD, StoreBackend, StoreError, TimestampPrecision};

/// Rows in one table on each side once the copy is done.
#[derive(Debug, Clone, PartialEq)]
pub struct TableCount {
    pub table: &'static str,
    pub source: u64,
    pub target: u64,
}

#[derive(Debug, Clone)]
pub struct CopyReport {
    pub tables: Vec<TableCount>,
    pub rows: u64,
    /// Roughly the bytes of the values copied.
    pub bytes: u64,
    pub elapsed: Duration,
    /// What the operator should know about the copy (lost precision).
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("--from: {0}")]
    Source(#[source] StoreError),
    #[error("--to: {0}")]
    Target(#[source] StoreError),
    #[error("--from and --to name the same database")]
    SameDatabase,
    #[error(
        "--from is at ironic-inspector schema revision {0}, not {ALEMBIC_HEAD}; run `inspector db upgrade` (or ironic-inspector-dbsync upgrade) on it first"
    )]
    SourceRevision(String),
    #[error("--to is not empty ({0}); use --force to empty it first")]
    NotEmpty(String),
    #[error(
        "table {table}: {in_source} row(s) in --from but {in_target} in --to after the copy; nothing was committed"
    )]
    Mismatch {
        table: &'static str,
        in_source: u64,
        in_target: u64,
    },
}

fn source_error(table: &Table) -> impl FnOnce(StoreError) -> CopyError + '_ {
    move |e| {
        CopyError::Source(StoreError::Other(
            format!("reading {}: {e}", table.name).into(),
        ))
    }
}

fn target_error(table: &Table) -> impl FnOnce(StoreError) -> CopyError + '_ {
    move |e| {
        CopyError::Target(StoreError::Other(
            format!("writing {}: {e}", table.name).into(),
        ))
    }
}

/// Copies every data table of `from` into `to` (whose schema is upgraded
/// first). A target holding any row is refused unless `force`, which
/// empties it in the copy's transaction. Neither side should be served
/// while it runs: the counts are compared at the end.
pub async fn copy(
    from: &dyn StoreBackend,
    to: &dyn StoreBackend,
    force: bool,
) -> Result<CopyReport, CopyError> {
    let started = Instant::now();
    let revisions = from
        .read_page(
            &bulk::ALEMBIC_VERSION,
            None,
            bulk::ALEMBIC_VERSION.page_rows,
        )
        .await
        .map_err(CopyError::Source)?;
    match revisions.as_slice() {
        [row] if row.first() == Some(&Cell::Text(ALEMBIC_HEAD.into())) => {}
        other => {
            let seen = other
                .iter()
                .map(|row| format!("{:?}", row.first().unwrap_or(&Cell::Null)))
                .collect::<Vec<_>>();
            return Err(CopyError::SourceRevision(if seen.is_empty() {
                "none".into()
            } else {
                seen.join(", ")
            }));
        }
    }
    to.upgrade().await.map_err(CopyError::Target)?;
    let mut notes = Vec::new();
    if to.timestamp_precision() == TimestampPrecision::Seconds
        && from.timestamp_precision() != TimestampPrecision::Seconds
    {
        notes.push(
            "--to keeps timestamps to the second (upstream's DATETIME columns on MySQL): \
             fractions of a second were dropped"
                .to_string(),
        );
    }
    let mut load = to.begin_load().await.map_err(CopyError::Target)?;
    let mut occupied = Vec::new();
    for table in bulk::TABLES {
        let rows = load.count_rows(table).await.map_err(target_error(table))?;
        if rows > 0 {
            occupied.push(format!("{} has {rows} row(s)", table.name));
        }
    }
    if !occupied.is_empty() {
        if !force {
            return Err(CopyError::NotEmpty(occupied.join(", ")));
        }
        load.clear().await.map_err(CopyError::Target)?;
    }

    // Our own tables may be missing from a database only upstream served:
    // the copy then has none of their rows.
    let mut in_source = Vec::new();
    for table in bulk::TABLES {
        if !table.ours || from.has_table(table).await.map_err(source_error(table))? {
            in_source.push(*table);
        }
    }

    let (mut rows, mut bytes) = (0u64, 0u64);
    for table in in_source.iter().copied() {
        let mut after: Option<Vec<Cell>> = None;
        loop {
            let page = from
                .read_page(table, after.as_deref(), table.page_rows)
                .await
                .map_err(source_error(table))?;
            let Some(last) = page.last() else { break };
            after = Some(last[..table.key].to_vec());
            rows += page.len() as u64;
            bytes += page.iter().flatten().map(Cell::size).sum::<usize>() as u64;
            load.write(table, &page)
                .await
                .map_err(target_error(table))?;
            if page.len() < table.page_rows as usize {
                break;
            }
        }
    }

    let mut tables = Vec::new();
    for table in bulk::TABLES {
        let source = if in_source.iter().any(|t| t.name == table.name) {
            from.count_rows(table).await.map_err(source_error(table))?
        } else {
            0
        };
        let target = load.count_rows(table).await.map_err(target_error(table))?;
        if source != target {
            return Err(CopyError::Mismatch {
                table: table.name,
                in_source: source,
                in_target: target,
            });
        }
        tables.push(TableCount {
            table: table.name,
            source,
            target,
        });
    }
    load.commit().await.map_err(CopyError::Target)?;
    Ok(CopyReport {
        tables,
        rows,
        bytes,
        elapsed: started.elapsed(),
        notes,
    })
}

/// `inspector db copy`: opens both databases with `open` (the service's
/// own way, so the `[database]` pool options apply), copies, and closes
/// them. The error names the side at fault and never shows a password.
pub async fn run<F, Fut>(
    from_url: &str,
    to_url: &str,
    force: bool,
    open: F,
) -> Result<CopyReport, String>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<super::Store>>,
{
    let hide = |message: String| hide_password(to_url, &hide_password(from_url, &message));
    if from_url == to_url {
        return Err(CopyError::SameDatabase.to_string());
    }
    let from = open(from_url.to_string())
        .await
        .map_err(|e| hide(format!("--from: {e:#}")))?;
    let to = match open(to_url.to_string()).await {
        Ok(to) => to,
        Err(e) => {
            from.close().await;
            return Err(hide(format!("--to: {e:#}")));
        }
    };
    let result = copy(&*from, &*to, force).await;
    from.close().await;
    to.close().await;
    result.map_err(|e| hide(format!("{e:#}")))
}

/// Every form of the URL's password (as written and URL-decoded) replaced
/// by `***` in a message, and the URL by its masked form.
pub fn hide_password(url: &str, message: &str) -> String {
    let mut out = message.replace(url, &mask_password(url));
    let written = url
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?']).next().unwrap_or(""))
        .and_then(|authority| authority.rsplit_once('@'))
        .and_then(|(credentials, _)| credentials.split_once(':'))
        .map(|(_, password)| password.to_string());
    let decoded = parse_server_url(url).ok().and_then(|u| u.password);
    for secret in [written, decoded].into_iter().flatten() {
        if !secret.is_empty() {
            out = out.replace(&secret, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_messages() {
        let url = "mysql+pymysql://inspector:s%40cret@db:3306/inspector?charset=utf8";
        let message = format!("cannot open the database {url}: access denied for s@cret");
        let hidden = hide_password(url, &message);
        assert!(
            !hidden.contains("s%40cret") && !hidden.contains("s@cret"),
            "{hidden}"
        );
        assert!(hidden.contains("inspector:***@db"), "{hidden}");
        let sqlite = "sqlite:////tmp/x.db";
        assert_eq!(
            hide_password(sqlite, "in sqlite:////tmp/x.db"),
            "in sqlite:////tmp/x.db"
        );
    }
}
