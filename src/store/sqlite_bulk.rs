//! The SQLite side of raw bulk access (`bulk.rs`). Timestamps are stored as
//! SQLAlchemy writes them on SQLite (text, six fraction digits) and
//! booleans as 0/1.

use inspector_core::timestamp;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{AssertSqlSafe, Row, Sqlite, Transaction};

use super::bulk::{self, BulkLoad, Cell, Kind, SqlStyle, Table};
use super::{Result, StoreError, StoreFuture};

type Query<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments>;

fn bind<'q>(query: Query<'q>, kind: Kind, cell: &Cell) -> Query<'q> {
    match (cell, kind) {
        (Cell::Null, Kind::Int) => query.bind(None::<i64>),
        (Cell::Null, Kind::Bool) => query.bind(None::<bool>),
        (Cell::Null, Kind::Text | Kind::Time) => query.bind(None::<String>),
        (Cell::Text(s), _) => query.bind(s.clone()),
        (Cell::Int(i), _) => query.bind(*i),
        (Cell::Bool(b), _) => query.bind(*b),
        (Cell::Time(t), _) => query.bind(timestamp::to_db(*t)),
    }
}

fn read_row(table: &Table, row: &SqliteRow) -> Result<bulk::Row> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let cell = match column.kind {
                Kind::Text => row.try_get::<Option<String>, _>(i)?.map(Cell::Text),
                Kind::Int => row.try_get::<Option<i64>, _>(i)?.map(Cell::Int),
                Kind::Bool => row
                    .try_get::<Option<i64>, _>(i)?
                    .map(|v| Cell::Bool(v != 0)),
                Kind::Time => match row.try_get::<Option<String>, _>(i)? {
                    None => None,
                    Some(text) => Some(Cell::Time(timestamp::from_db(&text).ok_or_else(|| {
                        StoreError::Corrupt(format!(
                            "{}.{}: {text:?} is not a timestamp",
                            table.name, column.name
                        ))
                    })?)),
                },
            };
            Ok(cell.unwrap_or(Cell::Null))
        })
        .collect()
}

pub(super) async fn read_page(
    pool: &sqlx::SqlitePool,
    table: &'static Table,
    after: Option<&[Cell]>,
    limit: u32,
) -> Result<Vec<bulk::Row>> {
    let (sql, binds) = table.select_page(after.is_some(), limit, SqlStyle::SQLITE);
    let mut query = sqlx::query(AssertSqlSafe(sql));
    if let Some(key) = after {
        for i in binds {
            query = bind(query, table.columns[i].kind, &key[i]);
        }
    }
    query
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| read_row(table, row))
        .collect()
}

pub(super) async fn count_rows(pool: &sqlx::SqlitePool, table: &'static Table) -> Result<u64> {
    let n: i64 = sqlx::query_scalar(AssertSqlSafe(table.count()))
        .fetch_one(pool)
        .await?;
    Ok(n as u64)
}

/// One `BEGIN IMMEDIATE` transaction: the copy holds the write lock from
/// the emptiness check to the commit.
pub(super) struct SqliteLoad {
    pub(super) tx: Transaction<'static, Sqlite>,
}

impl BulkLoad for SqliteLoad {
    fn count_rows<'a>(&'a mut self, table: &'static Table) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(table.count()))
                .fetch_one(&mut *self.tx)
                .await?;
            Ok(n as u64)
        })
    }

    fn clear(&mut self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            for table in bulk::TABLES.iter().rev() {
                sqlx::query(AssertSqlSafe(table.delete_all()))
                    .execute(&mut *self.tx)
                    .await?;
            }
            Ok(())
        })
    }

    fn write<'a>(
        &'a mut self,
        table: &'static Table,
        rows: &'a [bulk::Row],
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            for chunk in bulk::insert_batches(rows) {
                let mut query =
                    sqlx::query(AssertSqlSafe(table.insert(chunk.len(), SqlStyle::SQLITE)));
                for row in chunk {
                    bulk::check_row(table, row)?;
                    for (column, cell) in table.columns.iter().zip(row) {
                        query = bind(query, column.kind, cell);
                    }
                }
                query.execute(&mut *self.tx).await?;
            }
            Ok(())
        })
    }

    fn commit(self: Box<Self>) -> StoreFuture<'static, ()> {
        Box::pin(async move { Ok(self.tx.commit().await?) })
    }
}
