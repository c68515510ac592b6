-- dbplatform: database=orders tier=tier-1
-- The same change done safely: bounded lock waits, an index built online, a nullable column.

SET lock_timeout = '2s';
SET statement_timeout = '15min';

CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_idx ON orders (customer_id);

ALTER TABLE orders ADD COLUMN IF NOT EXISTS status text;

ALTER TABLE orders
    ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;

ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
