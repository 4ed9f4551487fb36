-- write_probe is the one row /readyz overwrites to learn whether writes
-- commit (a full disk or a read-only database fails it while reads still
-- work). It never holds more than one row.

-- +goose Up
CREATE TABLE write_probe (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    at BIGINT  NOT NULL,
    n  BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE write_probe;
