#!/usr/bin/env python3
"""Print a database's schema as normalized JSON, to compare two databases.

    schema_dump.py [--upstream-only] URL

URL is a SQLAlchemy-style database URL, as in `[database] connection`:
postgresql[+driver]://USER:PASS@HOST:PORT/DB (`?host=/dir` for a Unix
socket), mysql[+driver]://USER:PASS@HOST:PORT/DB (`?unix_socket=/path`),
or sqlite:///PATH. Run it with venv-ironic's python: PostgreSQL is read
through psycopg2, MySQL/MariaDB through PyMySQL, SQLite through the
standard library.

What is printed, per table: columns in order (type, length or precision,
nullability, default, and on MySQL the character set, collation and
extra such as auto_increment), the primary key, foreign keys (columns,
target, ON DELETE/UPDATE), unique and check constraints and indexes
(columns, prefix lengths, uniqueness, partial predicate), and on MySQL the
engine, character set and collation of the table. On PostgreSQL also the
enum types with their labels in order. Constraint and index names are
included: upstream's migrations name them, so ours must match.

Tables and columns come from information_schema; what it lacks comes from
pg_catalog (indexes, predicates, enum labels, constraint column order) and
from information_schema.statistics on MySQL (its view of SHOW INDEX).

--upstream-only leaves out what is ours and not upstream's: the table
inspector_migrations, inspector_leases, inspector_history, inspector_rules_version and
the indexes named ix_* (upstream names none so).
"""

import argparse
import json
import re
import sqlite3
import sys
import urllib.parse

OUR_TABLES = {
    "inspector_migrations", "inspector_leases", "inspector_history", "inspector_rules_version",
}
OUR_INDEX_PREFIX = "ix_"


def parse_url(url):
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    query = dict(urllib.parse.parse_qsl(parts.query))
    return {
        "dialect": scheme,
        "user": urllib.parse.unquote(parts.username) if parts.username else None,
        "password": urllib.parse.unquote(parts.password) if parts.password else None,
        "host": parts.hostname,
        "port": parts.port,
        "database": urllib.parse.unquote(parts.path.lstrip("/")),
        "path": parts.path,
        "query": query,
    }


def rows(cursor, sql, params=()):
    cursor.execute(sql, params)
    names = [d[0].lower() for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


# --- PostgreSQL ------------------------------------------------------------

def connect_postgresql(u):
    import psycopg2

    kwargs = {"dbname": u["database"], "user": u["user"], "password": u["password"]}
    host = u["query"].get("host") or u["host"]
    if host:
        kwargs["host"] = host
    if u["port"]:
        kwargs["port"] = u["port"]
    return psycopg2.connect(**kwargs)


def dump_postgresql(conn, u):
    cur = conn.cursor()
    schema = rows(cur, "SELECT current_schema() AS s")[0]["s"]
    tables = {}
    for t in rows(cur, """
            SELECT table_name FROM information_schema.tables
            WHERE table_schema = %s AND table_type = 'BASE TABLE'""", (schema,)):
        tables[t["table_name"]] = {"columns": [], "primary_key": None, "foreign_keys": [],
                                   "unique": [], "checks": [], "indexes": []}
    for c in rows(cur, """
            SELECT table_name, column_name, data_type, udt_name, character_maximum_length,
                   numeric_precision, numeric_scale, datetime_precision, is_nullable,
                   column_default, is_identity
            FROM information_schema.columns WHERE table_schema = %s
            ORDER BY table_name, ordinal_position""", (schema,)):
        if c["table_name"] not in tables:
            continue
        tables[c["table_name"]]["columns"].append({
            "name": c["column_name"],
            "type": c["udt_name"] if c["data_type"] == "USER-DEFINED" else c["data_type"],
            "length": c["character_maximum_length"],
            "precision": c["numeric_precision"],
            "scale": c["numeric_scale"],
            "datetime_precision": c["datetime_precision"],
            "nullable": c["is_nullable"] == "YES",
            "default": c["column_default"],
            "identity": c["is_identity"] == "YES",
        })
    # pg_constraint keeps the column order of composite keys.
    actions = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL",
               "d": "SET DEFAULT"}
    for k in rows(cur, """
            SELECT rel.relname AS table_name, con.conname AS name, con.contype AS kind,
                   ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(n, i)
                         JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n
                         ORDER BY k.i) AS columns,
                   ref.relname AS ref_table,
                   ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(n, i)
                         JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n
                         ORDER BY k.i) AS ref_columns,
                   con.confdeltype AS on_delete, con.confupdtype AS on_update,
                   pg_get_constraintdef(con.oid) AS definition
            FROM pg_constraint con
            JOIN pg_class rel ON rel.oid = con.conrelid
            JOIN pg_namespace ns ON ns.oid = rel.relnamespace
            LEFT JOIN pg_class ref ON ref.oid = con.confrelid
            WHERE ns.nspname = %s
            ORDER BY rel.relname, con.conname""", (schema,)):
        table = tables.get(k["table_name"])
        if table is None:
            continue
        if k["kind"] == "p":
            table["primary_key"] = {"name": k["name"], "columns": k["columns"]}
        elif k["kind"] == "f":
            table["foreign_keys"].append({
                "name": k["name"], "columns": k["columns"], "ref_table": k["ref_table"],
                "ref_columns": k["ref_columns"], "on_delete": actions[k["on_delete"]],
                "on_update": actions[k["on_update"]]})
        elif k["kind"] == "u":
            table["unique"].append({"name": k["name"], "columns": k["columns"]})
        elif k["kind"] == "c":
            table["checks"].append({"name": k["name"], "definition": k["definition"]})
    for i in rows(cur, """
            SELECT t.relname AS table_name, ic.relname AS name, ix.indisunique AS is_unique,
                   ix.indisprimary AS is_primary,
                   ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k.i::int + 1, true)
                         FROM generate_subscripts(ix.indkey, 1) AS k(i)
                         ORDER BY k.i) AS columns,
                   am.amname AS method,
                   pg_get_expr(ix.indpred, ix.indrelid) AS predicate
            FROM pg_index ix
            JOIN pg_class t ON t.oid = ix.indrelid
            JOIN pg_class ic ON ic.oid = ix.indexrelid
            JOIN pg_am am ON am.oid = ic.relam
            JOIN pg_namespace ns ON ns.oid = t.relnamespace
            WHERE ns.nspname = %s
            ORDER BY t.relname, ic.relname""", (schema,)):
        table = tables.get(i["table_name"])
        if table is None:
            continue
        table["indexes"].append({
            "name": i["name"], "columns": i["columns"], "unique": i["is_unique"],
            "primary": i["is_primary"], "method": i["method"], "predicate": i["predicate"]})
    enums = {}
    for e in rows(cur, """
            SELECT t.typname AS name,
                   ARRAY(SELECT enumlabel::text FROM pg_enum WHERE enumtypid = t.oid
                         ORDER BY enumsortorder) AS labels
            FROM pg_type t JOIN pg_namespace ns ON ns.oid = t.typnamespace
            WHERE t.typtype = 'e' AND ns.nspname = %s
            ORDER BY t.typname""", (schema,)):
        enums[e["name"]] = e["labels"]
    sequences = {}
    for s in rows(cur, """
            SELECT sequence_name, data_type, start_value, increment
            FROM information_schema.sequences WHERE sequence_schema = %s""", (schema,)):
        sequences[s["sequence_name"]] = {"type": s["data_type"], "start": s["start_value"],
                                         "increment": s["increment"]}
    return {"dialect": "postgresql", "tables": tables, "enums": enums,
            "sequences": sequences}


# --- MySQL / MariaDB -------------------------------------------------------

def connect_mysql(u):
    import pymysql

    kwargs = {"user": u["user"], "password": u["password"] or "", "database": u["database"],
              "charset": u["query"].get("charset", "utf8mb4")}
    if u["query"].get("unix_socket"):
        kwargs["unix_socket"] = u["query"]["unix_socket"]
    else:
        kwargs["host"] = u["host"] or "localhost"
        kwargs["port"] = u["port"] or 3306
    return pymysql.connect(**kwargs)


def dump_mysql(conn, u):
    cur = conn.cursor()
    db = u["database"]
    tables = {}
    for t in rows(cur, """
            SELECT t.table_name, t.engine, t.table_collation, c.character_set_name
            FROM information_schema.tables t
            LEFT JOIN information_schema.collation_character_set_applicability c
              ON c.collation_name = t.table_collation
            WHERE t.table_schema = %s AND t.table_type = 'BASE TABLE'""", (db,)):
        tables[t["table_name"]] = {
            "engine": t["engine"], "charset": t["character_set_name"],
            "collation": t["table_collation"], "columns": [], "primary_key": None,
            "foreign_keys": [], "unique": [], "checks": [], "indexes": []}
    for c in rows(cur, """
            SELECT table_name, column_name, data_type, column_type, character_maximum_length,
                   numeric_precision, numeric_scale, datetime_precision, is_nullable,
                   column_default, character_set_name, collation_name, extra
            FROM information_schema.columns WHERE table_schema = %s
            ORDER BY table_name, ordinal_position""", (db,)):
        if c["table_name"] not in tables:
            continue
        tables[c["table_name"]]["columns"].append({
            "name": c["column_name"],
            "type": c["data_type"],
            "column_type": c["column_type"],
            "length": c["character_maximum_length"],
            "precision": c["numeric_precision"],
            "scale": c["numeric_scale"],
            "datetime_precision": c["datetime_precision"],
            "nullable": c["is_nullable"] == "YES",
            # MariaDB spells "no default" as the string NULL.
            "default": None if c["column_default"] in (None, "NULL") else c["column_default"],
            "charset": c["character_set_name"],
            "collation": c["collation_name"],
            "extra": c["extra"] or None,
        })
    keys = {}
    for k in rows(cur, """
            SELECT tc.table_name, tc.constraint_name, tc.constraint_type
            FROM information_schema.table_constraints tc
            WHERE tc.table_schema = %s
            ORDER BY tc.table_name, tc.constraint_name""", (db,)):
        keys[(k["table_name"], k["constraint_name"])] = k["constraint_type"]
    columns_of = {}
    for k in rows(cur, """
            SELECT table_name, constraint_name, column_name, referenced_table_name,
                   referenced_column_name
            FROM information_schema.key_column_usage WHERE table_schema = %s
            ORDER BY table_name, constraint_name, ordinal_position""", (db,)):
        columns_of.setdefault((k["table_name"], k["constraint_name"]), []).append(k)
    rules = {}
    for r in rows(cur, """
            SELECT table_name, constraint_name, delete_rule, update_rule
            FROM information_schema.referential_constraints
            WHERE constraint_schema = %s""", (db,)):
        rules[(r["table_name"], r["constraint_name"])] = r
    checks = {}
    try:
        for r in rows(cur, """
                SELECT table_name, constraint_name, check_clause
                FROM information_schema.check_constraints
                WHERE constraint_schema = %s""", (db,)):
            checks[(r["table_name"], r["constraint_name"])] = r["check_clause"]
    except conn.OperationalError:
        pass  # servers before MySQL 8.0.16 / MariaDB 10.2 keep no checks
    for (table_name, name), kind in sorted(keys.items()):
        table = tables.get(table_name)
        if table is None:
            continue
        cols = columns_of.get((table_name, name), [])
        if kind == "PRIMARY KEY":
            table["primary_key"] = {"name": name, "columns": [c["column_name"] for c in cols]}
        elif kind == "FOREIGN KEY":
            rule = rules[(table_name, name)]
            table["foreign_keys"].append({
                "name": name, "columns": [c["column_name"] for c in cols],
                "ref_table": cols[0]["referenced_table_name"],
                "ref_columns": [c["referenced_column_name"] for c in cols],
                "on_delete": rule["delete_rule"], "on_update": rule["update_rule"]})
        elif kind == "UNIQUE":
            table["unique"].append({"name": name, "columns": [c["column_name"] for c in cols]})
        elif kind == "CHECK":
            table["checks"].append({"name": name,
                                    "definition": checks.get((table_name, name))})
    indexes = {}
    for i in rows(cur, """
            SELECT table_name, index_name, non_unique, column_name, sub_part, index_type
            FROM information_schema.statistics WHERE table_schema = %s
            ORDER BY table_name, index_name, seq_in_index""", (db,)):
        index = indexes.setdefault((i["table_name"], i["index_name"]), {
            "name": i["index_name"], "columns": [], "prefix_lengths": [],
            "unique": not int(i["non_unique"]), "primary": i["index_name"] == "PRIMARY",
            "method": i["index_type"], "predicate": None})
        index["columns"].append(i["column_name"])
        index["prefix_lengths"].append(i["sub_part"])
    for (table_name, _), index in sorted(indexes.items()):
        if table_name in tables:
            tables[table_name]["indexes"].append(index)
    return {"dialect": "mysql", "tables": tables, "enums": {}, "sequences": {}}


# --- SQLite ----------------------------------------------------------------

def connect_sqlite(u):
    # sqlite:///relative and sqlite:////absolute, as SQLAlchemy reads them.
    path = u["path"][1:] if u["path"].startswith("/") else u["path"]
    return sqlite3.connect(f"file:{urllib.parse.quote(path)}?mode=ro", uri=True)


def dump_sqlite(conn, u):
    tables = {}
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    for name in names:
        q = name.replace('"', '""')
        columns, pk = [], []
        for cid, cname, ctype, notnull, default, pkpos in conn.execute(
                f'PRAGMA table_info("{q}")'):
            columns.append({"name": cname, "type": ctype.upper(), "nullable": not notnull,
                            "default": default})
            if pkpos:
                pk.append((pkpos, cname))
        fks = {}
        for fid, _seq, ref, frm, to, on_update, on_delete, _match in conn.execute(
                f'PRAGMA foreign_key_list("{q}")'):
            fk = fks.setdefault(fid, {"columns": [], "ref_table": ref, "ref_columns": [],
                                      "on_delete": on_delete, "on_update": on_update})
            fk["columns"].append(frm)
            fk["ref_columns"].append(to)
        indexes, unique = [], []
        for _seq, iname, is_unique, origin, partial in conn.execute(
                f'PRAGMA index_list("{q}")'):
            cols = [r[2] for r in conn.execute(
                f'PRAGMA index_info("{iname.replace(chr(34), chr(34) * 2)}")')]
            if origin == "pk":
                continue  # the primary key, listed as such
            if origin == "u":
                unique.append({"columns": cols})
                continue
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
                               (iname,)).fetchone()[0]
            predicate = None
            if partial:
                m = re.search(r"\bWHERE\b(.*)$", sql, re.IGNORECASE | re.DOTALL)
                predicate = " ".join(m.group(1).split()) if m else sql
            indexes.append({"name": iname, "columns": cols, "unique": bool(is_unique),
                            "primary": False, "predicate": predicate})
        indexes.sort(key=lambda i: i["name"])
        # PRAGMAs give no constraint names, the table's SQL does.
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                           (name,)).fetchone()[0]
        tables[name] = {
            "constraint_names": sorted(
                m.group(2) for m in re.finditer(r'\bCONSTRAINT\s+("?)(\w+)\1', sql, re.I)),
            "columns": columns,
            # SQLite keeps no primary key constraint's name in a pragma.
            "primary_key": {"name": None, "columns": [c for _, c in sorted(pk)]} if pk else None,
            "foreign_keys": sorted(fks.values(), key=lambda f: (f["columns"], f["ref_table"])),
            "unique": sorted(unique, key=lambda x: x["columns"]),
            "checks": [],
            "indexes": indexes,
        }
    return {"dialect": "sqlite", "tables": tables, "enums": {}, "sequences": {}}


CONNECTORS = {"postgresql": connect_postgresql, "mysql": connect_mysql,
              "sqlite": connect_sqlite}
DUMPERS = {"postgresql": dump_postgresql, "mysql": dump_mysql, "sqlite": dump_sqlite}


def connect(url):
    """A DB-API connection to the database at a SQLAlchemy-style URL."""
    u = parse_url(url)
    if u["dialect"] not in CONNECTORS:
        sys.exit(f"unsupported database URL scheme {u['dialect']!r} in {url!r}")
    return CONNECTORS[u["dialect"]](u)


def upstream_only(schema):
    for name in OUR_TABLES:
        schema["tables"].pop(name, None)
    for table in schema["tables"].values():
        table["indexes"] = [i for i in table["indexes"]
                            if not i["name"].startswith(OUR_INDEX_PREFIX)]
    return schema


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("url", help="SQLAlchemy-style database URL")
    ap.add_argument("--upstream-only", action="store_true",
                    help="leave out our tables (inspector_*) and our ix_* indexes")
    args = ap.parse_args()
    u = parse_url(args.url)
    conn = connect(args.url)
    dumper = DUMPERS[u["dialect"]]
    try:
        schema = dumper(conn, u)
    finally:
        conn.close()
    if args.upstream_only:
        schema = upstream_only(schema)
    json.dump(schema, sys.stdout, indent=1, sort_keys=True, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
