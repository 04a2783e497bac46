-- Upstream's schema at alembic head b55109d5063a on MySQL/MariaDB.
-- Interim version for the backend's own tests; statements end with ";" at
-- the end of a line.
CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE nodes (
    uuid VARCHAR(36) NOT NULL,
    started_at DATETIME,
    finished_at DATETIME,
    error TEXT,
    version_id VARCHAR(36),
    state ENUM('starting', 'waiting', 'processing', 'finished', 'error',
        'reapplying', 'enrolling', 'aborting') NOT NULL DEFAULT 'finished',
    manage_boot BOOL,
    PRIMARY KEY (uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
CREATE TABLE attributes (
    name VARCHAR(255) NOT NULL,
    value VARCHAR(255),
    uuid VARCHAR(36) NOT NULL,
    node_uuid VARCHAR(36),
    CONSTRAINT pk_attributes PRIMARY KEY (uuid),
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
    disabled BOOL,
    scope VARCHAR(255),
    PRIMARY KEY (uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
CREATE TABLE rule_conditions (
    id INTEGER NOT NULL AUTO_INCREMENT,
    rule VARCHAR(36),
    op VARCHAR(255) NOT NULL,
    multiple VARCHAR(255) NOT NULL,
    invert BOOL,
    field TEXT,
    params TEXT,
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
    processed BOOL NOT NULL,
    data LONGTEXT,
    PRIMARY KEY (uuid, processed),
    FOREIGN KEY (uuid) REFERENCES nodes (uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
