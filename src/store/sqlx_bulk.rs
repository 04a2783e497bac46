//! Raw bulk access (`bulk.rs`) over sqlx, compiled with `sqlx_backend.rs`
//! once per database. Timestamps are bound as the including module's
//! `db_time` makes them (SQLite: upstream's text form; MySQL: whole
//! seconds) and read back as text on SQLite. PostgreSQL's `nodes.state` is
//! cast to and from text, and its id sequences are moved past the copied
//! ids at commit; SQLite and MySQL follow explicit ids by themselves.

use std::any::TypeId;

use inspector_core::timestamp;
use sqlx::{AssertSqlSafe, Row};
use time::PrimitiveDateTime;

use super::super::{DIALECT, Db, db_time};
use super::{DbRow, SqlxStore, Tx};
use crate::store::bulk::{self, BulkLoad, Cell, Kind, SqlStyle, Table};
use crate::store::{Result, StoreError, StoreFuture};

type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>;

fn is<T: 'static>() -> bool {
    TypeId::of::<Db>() == TypeId::of::<T>()
}

fn style() -> SqlStyle {
    SqlStyle {
        numbered: !is::<sqlx::MySql>(),
        enum_type: is::<sqlx::Postgres>().then_some("node_state"),
    }
}

fn bind<'q>(query: Query<'q>, kind: Kind, cell: &Cell) -> Result<Query<'q>> {
    Ok(match (cell, kind) {
        (Cell::Null, Kind::Int) => query.bind(None::<i32>),
        (Cell::Null, Kind::BigInt) => query.bind(None::<i64>),
        (Cell::Null, Kind::Bool) => query.bind(None::<bool>),
        (Cell::Null, Kind::Time) => query.bind(None::<PrimitiveDateTime>.map(db_time)),
        (Cell::Null, Kind::Text) => query.bind(None::<String>),
        (Cell::Text(s), _) => query.bind(s.clone()),
        (Cell::Int(i), Kind::BigInt) => query.bind(*i),
        // Upstream's ids are INTEGER columns.
        (Cell::Int(i), _) => {
            query.bind(i32::try_from(*i).map_err(|_| {
                StoreError::Corrupt(format!("id {i} does not fit an INTEGER column"))
            })?)
        }
        (Cell::Bool(b), _) => query.bind(*b),
        (Cell::Time(t), _) => query.bind(db_time(*t)),
    })
}

fn read_time(table: &Table, column: usize, row: &DbRow) -> Result<Option<PrimitiveDateTime>> {
    if !is::<sqlx::Sqlite>() {
        return Ok(row.try_get(column)?);
    }
    match row.try_get::<Option<String>, _>(column)? {
        None => Ok(None),
        Some(text) => timestamp::from_db(&text).map(Some).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{}.{}: {text:?} is not a timestamp",
                table.name, table.columns[column].name
            ))
        }),
    }
}

fn read_row(table: &Table, row: &DbRow) -> Result<bulk::Row> {
    (0..table.columns.len())
        .map(|i| {
            let cell = match table.columns[i].kind {
                Kind::Text => row.try_get::<Option<String>, _>(i)?.map(Cell::Text),
                Kind::Int => row
                    .try_get::<Option<i32>, _>(i)?
                    .map(|v| Cell::Int(v.into())),
                Kind::BigInt => row.try_get::<Option<i64>, _>(i)?.map(Cell::Int),
                Kind::Bool => row.try_get::<Option<bool>, _>(i)?.map(Cell::Bool),
                Kind::Time => read_time(table, i, row)?.map(Cell::Time),
            };
            Ok(cell.unwrap_or(Cell::Null))
        })
        .collect()
}

async fn count(executor: impl sqlx::Executor<'_, Database = Db>, table: &Table) -> Result<u64> {
    let n: i64 = sqlx::query_scalar(AssertSqlSafe(table.count()))
        .fetch_one(executor)
        .await?;
    Ok(n as u64)
}

impl SqlxStore {
    pub(super) async fn read_bulk_page(
        &self,
        table: &'static Table,
        after: Option<&[Cell]>,
        limit: u32,
    ) -> Result<Vec<bulk::Row>> {
        let (sql, binds) = table.select_page(after.is_some(), limit, style());
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some(key) = after {
            for i in binds {
                query = bind(query, table.columns[i].kind, &key[i])?;
            }
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| read_row(table, row))
            .collect()
    }

    pub(super) async fn count_bulk_rows(&self, table: &'static Table) -> Result<u64> {
        count(&self.pool, table).await
    }

    pub(super) async fn has_bulk_table(&self, table: &'static Table) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(DIALECT.sql(DIALECT.count_tables)))
            .bind(table.name)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    pub(super) async fn begin_bulk_load(&self) -> Result<Box<dyn BulkLoad>> {
        Ok(Box::new(Load {
            tx: self.write_tx().await?,
        }))
    }
}

/// One write transaction (SQLite: `BEGIN IMMEDIATE`, so the copy holds the
/// write lock from the emptiness check to the commit).
struct Load {
    tx: Tx<'static>,
}

impl BulkLoad for Load {
    fn count_rows<'a>(&'a mut self, table: &'static Table) -> StoreFuture<'a, u64> {
        Box::pin(count(&mut *self.tx, table))
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
            for batch in bulk::insert_batches(rows) {
                let mut query = sqlx::query(AssertSqlSafe(table.insert(batch.len(), style())));
                for row in batch {
                    bulk::check_row(table, row)?;
                    for (column, cell) in table.columns.iter().zip(row) {
                        query = bind(query, column.kind, cell)?;
                    }
                }
                query.execute(&mut *self.tx).await?;
            }
            Ok(())
        })
    }

    fn commit(mut self: Box<Self>) -> StoreFuture<'static, ()> {
        Box::pin(async move {
            if is::<sqlx::Postgres>() {
                // The next id a rule gets comes after every copied one.
                for table in ["rule_conditions", "rule_actions"] {
                    sqlx::query(AssertSqlSafe(format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                         COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                    )))
                    .execute(&mut *self.tx)
                    .await?;
                }
            }
            Ok(self.tx.commit().await?)
        })
    }
}
