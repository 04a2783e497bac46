//! Raw access to every table of upstream's schema and of our own
//! (`inspector_history`), column for column, for
//! `inspector db copy` (see `copy.rs`): rows are read a page at a time in
//! primary-key order and written in batches, whatever the backend. The
//! columns the service never reads (`nodes.version_id`, the attributes'
//! `uuid`, `rules.disabled`, the conditions' and actions' `id`, `options`)
//! are carried like the rest, so a copy is the same database.
//!
//! The SQL here is plain enough for SQLite, PostgreSQL and MySQL; each
//! backend only supplies its placeholder style and binds [`Cell`]s.

use time::PrimitiveDateTime;

use super::{Result, StoreFuture};

/// How a column's values are typed, whatever the backend calls the type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Upstream's INTEGER ids.
    Int,
    /// Our BIGINT columns.
    BigInt,
    Bool,
    Time,
}

#[derive(Debug)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    /// Text limited to an enumerated type where the backend has one
    /// (`nodes.state`: PostgreSQL's `node_state`, MySQL's ENUM).
    pub enumerated: bool,
}

/// One table of upstream's schema. The primary-key columns come first in
/// `columns` (`key` of them), so a row's key is a prefix of the row.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    pub key: usize,
    /// Rows per page: smaller where one row may be megabytes, so that a
    /// page stays small in memory.
    pub page_rows: u32,
    /// Created by one of our migrations, so a database upstream left (and
    /// not yet served by us) does not have it.
    pub ours: bool,
}

/// One value as stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Int(i64),
    Bool(bool),
    Time(PrimitiveDateTime),
}

impl Cell {
    /// Roughly how many bytes the value takes (for throughput figures).
    pub fn size(&self) -> usize {
        match self {
            Cell::Null => 0,
            Cell::Text(s) => s.len(),
            Cell::Int(_) | Cell::Time(_) => 8,
            Cell::Bool(_) => 1,
        }
    }
}

/// A row: one cell per column of its [`Table`], in that order.
pub type Row = Vec<Cell>;

const fn col(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        enumerated: false,
    }
}

/// Which ironic-inspector schema revision the database holds.
pub const ALEMBIC_VERSION: Table = Table {
    name: "alembic_version",
    columns: &[col("version_num", Kind::Text)],
    key: 1,
    page_rows: 10,
    ours: false,
};

pub const NODES: Table = Table {
    name: "nodes",
    columns: &[
        col("uuid", Kind::Text),
        col("error", Kind::Text),
        col("version_id", Kind::Text),
        Column {
            name: "state",
            kind: Kind::Text,
            enumerated: true,
        },
        col("started_at", Kind::Time),
        col("finished_at", Kind::Time),
        col("manage_boot", Kind::Bool),
    ],
    key: 1,
    page_rows: 500,
    ours: false,
};

pub const ATTRIBUTES: Table = Table {
    name: "attributes",
    columns: &[
        col("uuid", Kind::Text),
        col("name", Kind::Text),
        col("value", Kind::Text),
        col("node_uuid", Kind::Text),
    ],
    key: 1,
    page_rows: 500,
    ours: false,
};

pub const OPTIONS: Table = Table {
    name: "options",
    columns: &[
        col("uuid", Kind::Text),
        col("name", Kind::Text),
        col("value", Kind::Text),
    ],
    key: 2,
    page_rows: 500,
    ours: false,
};

pub const INTROSPECTION_DATA: Table = Table {
    name: "introspection_data",
    columns: &[
        col("uuid", Kind::Text),
        col("processed", Kind::Bool),
        col("data", Kind::Text),
    ],
    key: 2,
    // A document is typically tens of kilobytes, rarely a few megabytes.
    page_rows: 20,
    ours: false,
};

pub const RULES: Table = Table {
    name: "rules",
    columns: &[
        col("uuid", Kind::Text),
        col("created_at", Kind::Time),
        col("description", Kind::Text),
        col("disabled", Kind::Bool),
        col("scope", Kind::Text),
    ],
    key: 1,
    page_rows: 500,
    ours: false,
};

pub const RULE_CONDITIONS: Table = Table {
    name: "rule_conditions",
    columns: &[
        col("id", Kind::Int),
        col("rule", Kind::Text),
        col("op", Kind::Text),
        col("multiple", Kind::Text),
        col("field", Kind::Text),
        col("params", Kind::Text),
        col("invert", Kind::Bool),
    ],
    key: 1,
    page_rows: 500,
    ours: false,
};

pub const RULE_ACTIONS: Table = Table {
    name: "rule_actions",
    columns: &[
        col("id", Kind::Int),
        col("rule", Kind::Text),
        col("action", Kind::Text),
        col("params", Kind::Text),
    ],
    key: 1,
    page_rows: 500,
    ours: false,
};

/// Each node's finished introspections (migration 4).
pub const INSPECTOR_HISTORY: Table = Table {
    name: "inspector_history",
    columns: &[
        col("id", Kind::Text),
        col("node_uuid", Kind::Text),
        col("run", Kind::BigInt),
        col("state", Kind::Text),
        col("error", Kind::Text),
        col("started_at", Kind::Time),
        col("finished_at", Kind::Time),
        col("data", Kind::Text),
    ],
    key: 1,
    // Each row may hold a run's processed data, like introspection_data.
    page_rows: 20,
    ours: true,
};

/// The data tables, parents before the tables whose foreign keys point at
/// them (the order to write in; delete in reverse).
pub const TABLES: &[&Table] = &[
    &NODES,
    &ATTRIBUTES,
    &OPTIONS,
    &INTROSPECTION_DATA,
    &RULES,
    &RULE_CONDITIONS,
    &RULE_ACTIONS,
    &INSPECTOR_HISTORY,
];

/// How a backend spells the SQL here.
#[derive(Debug, Clone, Copy)]
pub struct SqlStyle {
    /// `$n` placeholders (SQLite, PostgreSQL) rather than `?` (MySQL).
    pub numbered: bool,
    /// The type of enumerated columns where text must be cast to and from
    /// it (PostgreSQL's `node_state`).
    pub enum_type: Option<&'static str>,
}

impl SqlStyle {
    pub const SQLITE: SqlStyle = SqlStyle {
        numbered: true,
        enum_type: None,
    };

    fn nth(self, n: usize) -> String {
        if self.numbered {
            format!("${n}")
        } else {
            "?".into()
        }
    }

    /// The placeholder of the `n`th value, bound as text, for `column`.
    fn value(self, n: usize, column: &Column) -> String {
        match self.enum_type {
            Some(ty) if column.enumerated => format!("{}::{ty}", self.nth(n)),
            _ => self.nth(n),
        }
    }

    /// How `column` is selected so that it reads as its [`Kind`].
    fn select(self, column: &Column) -> String {
        match self.enum_type {
            Some(_) if column.enumerated => format!("{0}::text AS {0}", column.name),
            _ => column.name.to_string(),
        }
    }
}

impl Table {
    fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn select_list(&self, style: SqlStyle) -> String {
        self.columns
            .iter()
            .map(|c| style.select(c))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The query for one page and the indexes (into the previous page's
    /// last row) of the values to bind, in order. With `after`, it reads
    /// the rows whose key sorts after that row's key:
    /// `k1 > ? OR (k1 = ? AND k2 > ?)`, written out so that `?`
    /// placeholders (which cannot be reused) work too.
    pub fn select_page(&self, after: bool, limit: u32, style: SqlStyle) -> (String, Vec<usize>) {
        let order = self.columns[..self.key]
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(", ");
        let mut binds = Vec::new();
        let mut filter = String::new();
        if after {
            let mut alternatives = Vec::new();
            for last in 0..self.key {
                let mut terms = Vec::new();
                for (i, column) in self.columns[..=last].iter().enumerate() {
                    binds.push(i);
                    let op = if i == last { ">" } else { "=" };
                    terms.push(format!("{} {op} {}", column.name, style.nth(binds.len())));
                }
                alternatives.push(format!("({})", terms.join(" AND ")));
            }
            filter = format!(" WHERE {}", alternatives.join(" OR "));
        }
        let sql = format!(
            "SELECT {} FROM {}{filter} ORDER BY {order} LIMIT {limit}",
            self.select_list(style),
            self.name
        );
        (sql, binds)
    }

    /// A multi-row INSERT of `rows` rows, values bound row by row.
    pub fn insert(&self, rows: usize, style: SqlStyle) -> String {
        let width = self.columns.len();
        let values = (0..rows)
            .map(|r| {
                let row = (self.columns.iter().enumerate())
                    .map(|(c, column)| style.value(r * width + c + 1, column))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("({row})")
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "INSERT INTO {} ({}) VALUES {values}",
            self.name,
            self.column_list()
        )
    }

    pub fn count(&self) -> String {
        format!("SELECT COUNT(*) FROM {}", self.name)
    }

    pub fn delete_all(&self) -> String {
        format!("DELETE FROM {}", self.name)
    }
}

/// Rows per INSERT statement: well under every backend's limit on bound
/// parameters (SQLite's is the lowest, 32766) for the widest table.
pub const INSERT_ROWS: usize = 500;

/// Bytes of values per INSERT statement (a single larger row goes alone):
/// well under MySQL's smallest usual `max_allowed_packet` (16 MiB).
pub const INSERT_BYTES: usize = 4 << 20;

/// `rows` cut into INSERT statements of at most [`INSERT_ROWS`] rows and,
/// unless one row is larger on its own, [`INSERT_BYTES`] bytes.
pub fn insert_batches(rows: &[Row]) -> Vec<&[Row]> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, row) in rows.iter().enumerate() {
        let size: usize = row.iter().map(Cell::size).sum();
        if i > start && (i - start == INSERT_ROWS || bytes + size > INSERT_BYTES) {
            batches.push(&rows[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < rows.len() {
        batches.push(&rows[start..]);
    }
    batches
}

/// Writes into a database in one transaction: dropped without
/// [`BulkLoad::commit`], nothing it wrote stays.
pub trait BulkLoad: Send {
    fn count_rows<'a>(&'a mut self, table: &'static Table) -> StoreFuture<'a, u64>;

    /// Deletes every row of every data table ([`TABLES`]).
    fn clear(&mut self) -> StoreFuture<'_, ()>;

    /// Inserts the rows as they are, explicit keys and ids included.
    fn write<'a>(&'a mut self, table: &'static Table, rows: &'a [Row]) -> StoreFuture<'a, ()>;

    fn commit(self: Box<Self>) -> StoreFuture<'static, ()>;
}

/// Fails unless the row has one cell per column of the table and each
/// cell can be stored in its column.
pub fn check_row(table: &Table, row: &[Cell]) -> Result<()> {
    if row.len() != table.columns.len() {
        return Err(super::StoreError::Corrupt(format!(
            "{}: a row of {} values for {} columns",
            table.name,
            row.len(),
            table.columns.len()
        )));
    }
    for (column, cell) in table.columns.iter().zip(row) {
        let fits = matches!(
            (column.kind, cell),
            (_, Cell::Null)
                | (Kind::Text, Cell::Text(_))
                | (Kind::Int | Kind::BigInt, Cell::Int(_))
                | (Kind::Bool, Cell::Bool(_))
                | (Kind::Time, Cell::Time(_))
        );
        if !fits {
            return Err(super::StoreError::Corrupt(format!(
                "{}.{}: a {:?} column cannot hold {cell:?}",
                table.name, column.name, column.kind
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_after_a_composite_key_use_every_key_column() {
        let mysql = SqlStyle {
            numbered: false,
            enum_type: None,
        };
        let (sql, binds) = OPTIONS.select_page(true, 500, mysql);
        assert_eq!(
            sql,
            "SELECT uuid, name, value FROM options WHERE (uuid > ?) OR (uuid = ? AND name > ?) \
             ORDER BY uuid, name LIMIT 500"
        );
        assert_eq!(binds, vec![0, 0, 1]);
        let (sql, binds) = NODES.select_page(false, 10, SqlStyle::SQLITE);
        assert!(sql.ends_with("FROM nodes ORDER BY uuid LIMIT 10"), "{sql}");
        assert!(binds.is_empty());
        let postgres = SqlStyle {
            numbered: true,
            enum_type: Some("node_state"),
        };
        let (sql, _) = NODES.select_page(true, 10, postgres);
        assert!(sql.contains(", state::text AS state,"), "{sql}");
        assert!(sql.contains("WHERE (uuid > $1)"), "{sql}");
        let insert = NODES.insert(1, postgres);
        assert!(
            insert.ends_with("($1, $2, $3, $4::node_state, $5, $6, $7)"),
            "{insert}"
        );
    }

    #[test]
    fn inserts_number_placeholders_row_by_row() {
        assert_eq!(
            OPTIONS.insert(2, SqlStyle::SQLITE),
            "INSERT INTO options (uuid, name, value) VALUES ($1, $2, $3), ($4, $5, $6)"
        );
    }

    #[test]
    fn inserts_are_cut_by_rows_and_by_bytes() {
        let small = |n: usize| vec![vec![Cell::Text("x".into())]; n];
        let lengths = |rows: &[Row]| {
            insert_batches(rows)
                .iter()
                .map(|b| b.len())
                .collect::<Vec<_>>()
        };
        assert_eq!(lengths(&small(0)), Vec::<usize>::new());
        assert_eq!(lengths(&small(1201)), [500, 500, 201]);
        let big = vec![Cell::Text("y".repeat(INSERT_BYTES / 2 + 1))];
        let rows = vec![
            big.clone(),
            big.clone(),
            vec![Cell::Text("y".repeat(INSERT_BYTES * 2))],
            big,
        ];
        assert_eq!(lengths(&rows), [1, 1, 1, 1]);
    }

    #[test]
    fn the_widest_insert_stays_under_sqlites_parameter_limit() {
        let widest = TABLES.iter().map(|t| t.columns.len()).max().unwrap();
        assert!(widest * INSERT_ROWS < 32766);
    }
}
