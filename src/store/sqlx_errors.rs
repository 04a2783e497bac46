//! Which sqlx errors mean "the database cannot serve now" (the request may
//! succeed later: 503) rather than a fault, for every backend.

use super::StoreError;

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if is_packet_too_large(&err) {
            // The server refuses the statement, whatever it holds, and
            // would refuse it again: the request is at fault, not the
            // database (which also closed this connection; the pool finds
            // that out and replaces it).
            StoreError::Unstorable {
                field: "The data".into(),
                reason: "it is larger than the database server takes in one \
                         statement (MySQL's max_allowed_packet)"
                    .into(),
            }
        } else if let Some(reason) = sqlite_storage_fault(&err) {
            StoreError::StorageFault {
                reason,
                source: err.into(),
            }
        } else if is_transient(&err) || sqlite_busy(&err) {
            StoreError::Unavailable(err.into())
        } else {
            StoreError::Other(err.into())
        }
    }
}

/// The database is out of reach, restarting, overloaded, or chose this
/// transaction as the victim of a deadlock or serialization conflict.
pub(super) fn is_transient(err: &sqlx::Error) -> bool {
    match err {
        // No connection could be had: every one was busy for longer than
        // the pool waits, or the server is not there.
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => {
            if let Some(mysql) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                return transient_mysql(mysql.number());
            }
            db.code().is_some_and(|code| transient_sqlstate(&code))
        }
        _ => false,
    }
}

/// SQLite's primary result code (the low byte of the extended code sqlx
/// reports), when `err` is SQLite's.
fn sqlite_primary_code(err: &sqlx::Error) -> Option<i32> {
    let sqlx::Error::Database(db) = err else {
        return None;
    };
    let sqlite = db.try_downcast_ref::<sqlx::sqlite::SqliteError>()?;
    let code: i32 = sqlx::error::DatabaseError::code(sqlite)?.parse().ok()?;
    Some(code & 0xff)
}

/// SQLite's lock stayed taken for longer than the busy timeout (another
/// process writing, such as `inspector db copy`): SQLITE_BUSY or
/// SQLITE_LOCKED.
fn sqlite_busy(err: &sqlx::Error) -> bool {
    matches!(sqlite_primary_code(err), Some(5 | 6))
}

/// Why SQLite could not write its file, when that is the failure: the
/// result code says the disk is full, the file is read-only, or the file
/// system failed.
fn sqlite_storage_fault(err: &sqlx::Error) -> Option<&'static str> {
    storage_fault_reason(sqlite_primary_code(err)?)
}

/// The words for SQLite's primary result codes of a storage fault.
pub(super) fn storage_fault_reason(primary_code: i32) -> Option<&'static str> {
    match primary_code {
        13 => Some("the disk holding it is full"), // SQLITE_FULL
        8 => Some("it is read-only"),              // SQLITE_READONLY
        10 => Some("an I/O error occurred on its file"), // SQLITE_IOERR
        14 => Some("its file cannot be opened"),   // SQLITE_CANTOPEN
        _ => None,
    }
}

/// MySQL's "got a packet bigger than 'max_allowed_packet' bytes" (its
/// SQLSTATE, 08S01, would otherwise read as a lost connection).
fn is_packet_too_large(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db)
        if db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
            .is_some_and(|e| e.number() == 1153))
}

/// MySQL's "duplicate key name": the index a `CREATE INDEX` makes exists.
pub(super) fn is_duplicate_index(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db)
        if db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
            .is_some_and(|e| e.number() == 1061))
}

/// Whether the same transaction, run again, may well succeed: a deadlock,
/// a serialization failure or a lost connection (not a full pool, whose
/// wait has already been served).
pub(super) fn worth_retrying(err: &StoreError) -> bool {
    match err {
        StoreError::Unavailable(source) => {
            if let Some(shared) = source.downcast_ref::<super::server::batch::SharedFailure>() {
                return shared.worth_retrying;
            }
            // SQLite's busy or locked came after its busy timeout: waiting
            // as long again would hold the request far beyond any client's
            // patience.
            source
                .downcast_ref::<sqlx::Error>()
                .is_some_and(|e| !matches!(e, sqlx::Error::PoolTimedOut) && !sqlite_busy(e))
        }
        _ => false,
    }
}

/// PostgreSQL SQLSTATEs (also what sqlx reports for SQLite, whose codes
/// never match these).
fn transient_sqlstate(code: &str) -> bool {
    matches!(
        code,
        "40001" // serialization_failure
            | "40P01" // deadlock_detected
            | "55P03" // lock_not_available
            | "53300" // too_many_connections
            | "57P01" // admin_shutdown: the server is stopping
            | "57P02" // crash_shutdown
            | "57P03" // cannot_connect_now: the server is starting
    ) || code.starts_with("08") // connection_exception
}

/// MySQL/MariaDB error numbers.
fn transient_mysql(number: u16) -> bool {
    matches!(
        number,
        1205 // lock wait timeout
            | 1213 // deadlock
            | 1040 // too many connections
            | 1047 // Galera: the node is not ready (WSREP)
            | 1053 // server shutdown in progress
            | 1927 // connection was killed
            | 2006 // server has gone away
            | 2013 // lost connection during query
            | 4031 // disconnected by the server (idle)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_and_lost_connections_are_transient() {
        for code in ["40001", "40P01", "57P01", "08006"] {
            assert!(transient_sqlstate(code), "{code}");
        }
        for code in ["23505", "42P01", "22001"] {
            assert!(!transient_sqlstate(code), "{code}");
        }
        assert!(transient_mysql(1213) && transient_mysql(1205));
        assert!(!transient_mysql(1062) && !transient_mysql(1146));
        let refused = sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into());
        let mapped = StoreError::from(refused);
        assert!(matches!(mapped, StoreError::Unavailable(_)));
        assert!(worth_retrying(&mapped));
        let full = StoreError::from(sqlx::Error::PoolTimedOut);
        assert!(matches!(full, StoreError::Unavailable(_)));
        assert!(!worth_retrying(&full));
        assert!(!worth_retrying(&StoreError::from(sqlx::Error::RowNotFound)));
    }

    /// A write that finds SQLite's lock held by another connection beyond
    /// its busy timeout: the database cannot serve now (503), and the
    /// store does not wait as long again.
    #[tokio::test]
    async fn sqlite_busy_is_unavailable_and_not_retried() {
        use sqlx::ConnectOptions;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("busy.sqlite");
        let holder = rusqlite::Connection::open(&path).unwrap();
        holder
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER); BEGIN IMMEDIATE")
            .unwrap();
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .busy_timeout(std::time::Duration::ZERO)
            .connect()
            .await
            .unwrap();
        let err = sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut conn)
            .await
            .unwrap_err();
        assert!(sqlite_busy(&err), "{err:?}");
        let mapped = StoreError::from(err);
        assert!(matches!(mapped, StoreError::Unavailable(_)), "{mapped:?}");
        assert!(!worth_retrying(&mapped));
        holder.execute_batch("COMMIT").unwrap();
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut conn)
            .await
            .unwrap();
    }
}
