-- name: SetUserPhone :one
-- Binds (all five set) or clears (all NULL) the user's phone; the account
-- columns come along as in GetUser.
UPDATE users
SET phone_country_code = sqlc.narg(country_code),
    phone_pure_number = sqlc.narg(pure_number),
    phone_number = sqlc.narg(number),
    phone_app_id = sqlc.narg(app_id),
    phone_bound_at = sqlc.narg(bound_at),
    updated_at = now()
FROM (SELECT @id::uuid AS id) AS k
LEFT JOIN password_credentials pc ON pc.user_id = k.id
WHERE users.id = k.id
RETURNING sqlc.embed(users),
          COALESCE(pc.username, '')::text AS username,
          COALESCE(pc.email, '')::text AS email,
          (pc.user_id IS NOT NULL)::bool AS has_password;
