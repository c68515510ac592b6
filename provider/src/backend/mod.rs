//! Database backends (AWS RDS, local PostgreSQL) behind one trait.
