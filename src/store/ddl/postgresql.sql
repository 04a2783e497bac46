-- Base schema on PostgreSQL: exactly what ironic-inspector 12.5.0's alembic
-- migrations create there at head b55109d5063a (`ironic-inspector-dbsync
-- upgrade`), so either service can open a database the other made.
-- The constraint names are the ones PostgreSQL or the migrations give:
-- <table>_pkey, <table>_<column>_fkey, alembic_version_pkc and
-- fk_node_attribute. SERIAL is what SQLAlchemy emits for an integer primary
-- key (an integer column owning the sequence <table>_id_seq).
-- The backend inserts the alembic_version row itself.
-- Format: plain SQL, one statement ends with a semicolon at the end of a line.

CREATE TYPE node_state AS ENUM (
    'starting', 'waiting', 'processing', 'finished', 'error', 'reapplying',
    'enrolling', 'aborting');

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));

CREATE TABLE nodes (
    uuid VARCHAR(36) NOT NULL,
    error TEXT,
    version_id VARCHAR(36) DEFAULT '',
    state node_state DEFAULT 'finished' NOT NULL,
    started_at TIMESTAMP WITHOUT TIME ZONE,
    finished_at TIMESTAMP WITHOUT TIME ZONE,
    manage_boot BOOLEAN,
    PRIMARY KEY (uuid));

CREATE TABLE attributes (
    name VARCHAR(255) NOT NULL,
    value VARCHAR(255),
    uuid VARCHAR(36) NOT NULL,
    node_uuid VARCHAR(36),
    PRIMARY KEY (uuid),
    CONSTRAINT fk_node_attribute FOREIGN KEY (node_uuid) REFERENCES nodes (uuid));

CREATE TABLE options (
    uuid VARCHAR(36) NOT NULL,
    name VARCHAR(255) NOT NULL,
    value TEXT,
    PRIMARY KEY (uuid, name),
    FOREIGN KEY (uuid) REFERENCES nodes (uuid));

CREATE TABLE rules (
    uuid VARCHAR(36) NOT NULL,
    created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    description TEXT,
    disabled BOOLEAN,
    scope VARCHAR(255),
    PRIMARY KEY (uuid));

CREATE TABLE rule_conditions (
    id SERIAL NOT NULL,
    rule VARCHAR(36),
    op VARCHAR(255) NOT NULL,
    multiple VARCHAR(255) NOT NULL,
    field TEXT,
    params TEXT,
    invert BOOLEAN,
    PRIMARY KEY (id),
    FOREIGN KEY (rule) REFERENCES rules (uuid));

CREATE TABLE rule_actions (
    id SERIAL NOT NULL,
    rule VARCHAR(36),
    action VARCHAR(255) NOT NULL,
    params TEXT,
    PRIMARY KEY (id),
    FOREIGN KEY (rule) REFERENCES rules (uuid));

CREATE TABLE introspection_data (
    uuid VARCHAR(36) NOT NULL,
    processed BOOLEAN NOT NULL,
    data TEXT,
    PRIMARY KEY (uuid, processed),
    FOREIGN KEY (uuid) REFERENCES nodes (uuid));
