-- +goose Up
-- Each user's mini-program codes that were not cached yet are counted in
-- the attempt counters, under their own scope ('wxacode', key 'user:<id>'),
-- so the limit holds across replicas.
ALTER TABLE login_attempts
    DROP CONSTRAINT login_attempts_scope_check,
    ADD CONSTRAINT login_attempts_scope_check CHECK (scope IN ('account', 'ip', 'wxacode'));

-- +goose Down
DELETE FROM login_attempts WHERE scope = 'wxacode';
ALTER TABLE login_attempts
    DROP CONSTRAINT login_attempts_scope_check,
    ADD CONSTRAINT login_attempts_scope_check CHECK (scope IN ('account', 'ip'));
