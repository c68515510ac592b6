-- dbplatform: database=orders tier=tier-1
SET lock_timeout = '2s';
BEGIN;
CREATE INDEX CONCURRENTLY orders_ref_idx ON orders (ref);
ALTER TABLE orders ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid();
COMMIT;
