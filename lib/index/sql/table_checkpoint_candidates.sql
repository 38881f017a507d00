-- Table sources: the distinct (model, revision) pairs of evaluations without a step whose revision (or,
-- for a folder path, last part) may name a checkpoint; lib.core.revisions parses only these.
-- $maybe: what a revision that names a checkpoint must contain (a regex, RE2).
SELECT DISTINCT model, revision
FROM table_evals
WHERE step IS NULL
  AND (regexp_matches(revision, $maybe)
       OR ((regexp_matches(model, '^(/|\./|\.\./|~)') OR length(model) - length(replace(model, '/', '')) >= 2)
           AND regexp_matches(model, $maybe)));
