-- Run through the proxy and on the reference server before the corpus (one statement per ';' at a line end).
CREATE TABLE users (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL, balance DECIMAL(12,2), score DOUBLE,
  born DATE, seen DATETIME(6), note TEXT, flags INT UNSIGNED, country CHAR(2)) ENGINE=InnoDB;
CREATE TABLE orders (user_id BIGINT NOT NULL, id BIGINT NOT NULL, total DECIMAL(10,2) NOT NULL,
  PRIMARY KEY (user_id, id)) ENGINE=InnoDB;
CREATE TABLE countries (code CHAR(2) NOT NULL PRIMARY KEY, name VARCHAR(64)) ENGINE=InnoDB;
-- generated ids: a sharded table keyed by tenant whose id is AUTO_INCREMENT, and one whose key itself is generated
CREATE TABLE items (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, tenant INT NOT NULL, label VARCHAR(32)) ENGINE=InnoDB;
CREATE TABLE accounts (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, owner VARCHAR(32)) ENGINE=InnoDB;
-- a string key under a case-insensitive collation: 'ada' and 'Ada' are the same key to the server
CREATE TABLE tags (tag VARCHAR(32) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, hits INT NOT NULL) ENGINE=InnoDB;
CREATE TABLE blobs (id INT NOT NULL PRIMARY KEY, b VARBINARY(64), l1 VARCHAR(32) CHARACTER SET latin1,
  u8 VARCHAR(32) CHARACTER SET utf8mb4) ENGINE=InnoDB;
CREATE TABLE hb_customer (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64), tier INT) ENGINE=InnoDB;
CREATE TABLE hb_order (id BIGINT NOT NULL PRIMARY KEY, customer_id BIGINT, total DECIMAL(10,2), placed DATETIME(6)) ENGINE=InnoDB;
-- Hibernate's MySQL dialect emulates the SEQUENCE of hb_order with this table (an undeclared table: the default shard)
CREATE TABLE hb_order_seq (next_val BIGINT) ENGINE=InnoDB;
INSERT INTO hb_order_seq VALUES (1);
INSERT INTO countries (code, name) VALUES ('FR', 'France'), ('DE', 'Germany'), ('JP', 'Japan'), ('BR', 'Brazil');
INSERT INTO users (id, name, balance, score, born, seen, note, flags, country) VALUES
  (1, 'ada', 10.50, 1.5, '1990-01-02', '2024-05-01 10:11:12.123456', 'first', 7, 'FR'),
  (2, 'bob', NULL, 2.25, '1985-12-31', '2024-05-02 00:00:00', NULL, 0, 'DE'),
  (3, 'Zoë-日本', 99.99, -0.5, NULL, NULL, 'unicode', 4294967295, 'JP'),
  (4, 'dan', 0.00, 0, '2000-02-29', '2024-05-03 23:59:59.999999', '', 1, NULL),
  (5, 'eve', 1234567.89, 1e10, '1970-01-01', '2024-05-04 12:00:00', 'tab\there', 2, 'BR'),
  (6, 'fay', 5.00, 3.75, '1999-09-09', '2024-05-05 01:02:03', 'x', 3, 'FR'),
  (7, 'gus', 7.77, 7, '1977-07-07', '2024-05-06 07:07:07', 'seven', 7, 'DE'),
  (8, 'hal', 8.00, 8.5, '1988-08-08', '2024-05-07 08:08:08', NULL, 8, 'JP'),
  (9, 'ivy', 9.90, 9.25, '1991-09-19', '2024-05-08 09:09:09', 'nine', 9, 'FR'),
  (10, 'jon', 10.00, 10, '2001-10-10', '2024-05-09 10:10:10', 'ten', 10, NULL);
INSERT INTO orders (user_id, id, total) VALUES (1, 1, 5.50), (1, 2, 7.25), (2, 1, 3.00), (3, 1, 100.00), (5, 1, 1.10),
  (5, 2, 2.20), (5, 3, 3.30), (7, 1, 70.00), (9, 1, 9.00), (10, 1, 0.01);
