-- dbplatform: database=orders tier=tier-1
-- An unsafe migration: every statement below is something DBP-MIG rules catch.

CREATE INDEX orders_customer_idx ON orders (customer_id);

ALTER TABLE orders ADD COLUMN status text NOT NULL;

ALTER TABLE orders
    ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
