-- The model metadata rows of one table source in the requests table ($prefix: `<location>#`).
SELECT * FROM requests WHERE starts_with(path, $prefix);
