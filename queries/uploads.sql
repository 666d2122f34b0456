-- name: CreateUpload :exec
INSERT INTO uploads (id, owner_id, purpose, status, object_key, content_type, size_bytes, file_name, created_at, expires_at)
VALUES (@id, @owner_id, @purpose, @status, @object_key, @content_type, @size_bytes, @file_name, @created_at, @expires_at);

-- name: GetUpload :one
SELECT id, owner_id, purpose, status, object_key, content_type, size_bytes, file_name, reject_reason, created_at, expires_at, completed_at
FROM uploads
WHERE id = $1;

-- name: GetUploadForUpdate :one
SELECT id, owner_id, purpose, status, object_key, content_type, size_bytes, file_name, reject_reason, created_at, expires_at, completed_at
FROM uploads
WHERE id = $1
FOR UPDATE;

-- name: UpdateUploadStatus :exec
UPDATE uploads
SET status = @status, reject_reason = @reject_reason, completed_at = sqlc.narg(completed_at)
WHERE id = @id;

-- name: ClaimExpiredUploads :many
-- Rows another transaction holds (a concurrent cleaner, or a completion in
-- progress) are skipped, so replicas never process one upload twice.
SELECT id, owner_id, purpose, status, object_key, content_type, size_bytes, file_name, reject_reason, created_at, expires_at, completed_at
FROM uploads
WHERE status <> 'ready' AND expires_at < @now
ORDER BY expires_at
LIMIT @max_rows
FOR UPDATE SKIP LOCKED;

-- name: DeleteUpload :exec
DELETE FROM uploads WHERE id = $1;
