-- Rebuild the requests table: the request files' rows (registered `new_requests`), then the table sources'
-- model metadata rows (`new_table_requests`), which win over a request file of the same path.
DELETE FROM requests;
INSERT INTO requests BY NAME SELECT * FROM new_requests WHERE path NOT IN (SELECT path FROM new_table_requests);
INSERT INTO requests BY NAME SELECT * FROM new_table_requests;
