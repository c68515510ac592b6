-- dbplatform: database=quickstart tier=tier-3
-- A change whose cost a linter can only guess: `make demo` dry-runs it on a scratch copy of the quickstart
-- database restored from its latest backup (dbpolicy migration dry-run --scratch-copy quickstart), which
-- measures the rewrite and the lock it takes, builds the index for real, and removes the copy afterwards.

SET lock_timeout = '2s';

ALTER TABLE orders ALTER COLUMN id TYPE bigint;

CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_item_idx ON orders (item);
