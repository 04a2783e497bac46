-- Base schema on MySQL/MariaDB: exactly what ironic-inspector 12.5.0's
-- alembic migrations create there at head b55109d5063a (`ironic-inspector-
-- dbsync upgrade`), so either service can open a database the other made.
-- Like upstream, every table but alembic_version is InnoDB with DEFAULT
-- CHARSET=utf8 (utf8mb3, collation utf8mb3_general_ci) whatever the
-- database's default, while alembic_version takes the database's defaults.
-- Booleans are TINYINT(1), DATETIME has no fractional seconds, the node
-- state is an inline ENUM and introspection_data.data is LONGTEXT.
-- The unnamed foreign keys get the names InnoDB gives upstream's
-- (<table>_ibfk_1) and their implicit indexes (`rule`, `fk_node_attribute`).
-- The backend inserts the alembic_version row itself.
-- Format: plain SQL, one statement ends with a semicolon at the end of a line.

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));

CREATE TABLE nodes (
    uuid VARCHAR(36) NOT NULL,
    error TEXT,
    version_id VARCHAR(36) DEFAULT '',
    state ENUM('starting', 'waiting', 'processing', 'finished', 'error', 'reapplying',
        'enrolling', 'aborting') NOT NULL DEFAULT 'finished',
    started_at DATETIME,
    finished_at DATETIME,
    manage_boot TINYINT(1),
    PRIMARY KEY (uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;

CREATE TABLE attributes (
    name VARCHAR(255) NOT NULL,
    value VARCHAR(255),
    uuid VARCHAR(36) NOT NULL,
    node_uuid VARCHAR(36),
    PRIMARY KEY (uuid),
    CONSTRAINT fk_node_attribute FOREIGN KEY (node_uuid) REFERENCES nodes (uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;

CREATE TABLE options (
    uuid VARCHAR(36) NOT NULL,
    name VARCHAR(255) NOT NULL,
    value TEXT,
    PRIMARY KEY (uuid, name),
    FOREIGN KEY (uuid) REFERENCES nodes (uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;

CREATE TABLE rules (
    uuid VARCHAR(36) NOT NULL,
    created_at DATETIME NOT NULL,
    description TEXT,
    disabled TINYINT(1),
    scope VARCHAR(255),
    PRIMARY KEY (uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;

CREATE TABLE rule_conditions (
    id INTEGER NOT NULL AUTO_INCREMENT,
    rule VARCHAR(36),
    op VARCHAR(255) NOT NULL,
    multiple VARCHAR(255) NOT NULL,
    field TEXT,
    params TEXT,
    invert TINYINT(1),
    PRIMARY KEY (id),
    FOREIGN KEY (rule) REFERENCES rules (uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;

CREATE TABLE rule_actions (
    id INTEGER NOT NULL AUTO_INCREMENT,
    rule VARCHAR(36),
    action VARCHAR(255) NOT NULL,
    params TEXT,
    PRIMARY KEY (id),
    FOREIGN KEY (rule) REFERENCES rules (uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;

CREATE TABLE introspection_data (
    uuid VARCHAR(36) NOT NULL,
    processed TINYINT(1) NOT NULL,
    data LONGTEXT,
    PRIMARY KEY (uuid, processed),
    FOREIGN KEY (uuid) REFERENCES nodes (uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
