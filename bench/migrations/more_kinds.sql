-- Statements that cover the rest of the DBP-MIG rules (and squawk's rules for them).
VACUUM FULL orders;
CLUSTER orders;
ALTER TABLE orders RENAME TO purchases;
DROP TABLE old_orders;
DROP DATABASE scratch;
ALTER TABLE orders ALTER COLUMN status SET NOT NULL;
ALTER TABLE orders ADD PRIMARY KEY (id);
CREATE TABLE tags (id smallint PRIMARY KEY, name text);
ALTER TABLE orders ADD CONSTRAINT amount_positive CHECK (amount > 0);
CREATE INDEX orders_ref_idx ON orders (ref);
