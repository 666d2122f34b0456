-- name: CreateUpload :exec
INSERT INTO uploads (id, owner_id, purpose, status, object_key, content_type, size_bytes, file_name, created_at, expires_at)
VALUES (@id, @owner_id, @purpose, @status, @object_key, @content_type, @size_bytes, @file_name, @created_at, @expires_at);

-- name: GetUpload :one
SELECT id, owner_id, purpose, status, object_key, content_type, size_bytes, file_name, reject_reason, created_at, expires_at, completed_at, blocked
FROM uploads
WHERE id = $1;

-- name: GetUploadForUpdate :one
SELECT id, owner_id, purpose, status, object_key, content_type, size_bytes, file_name, reject_reason, created_at, expires_at, completed_at, blocked
FROM uploads
WHERE id = $1
FOR UPDATE;

-- name: UpdateUploadStatus :exec
UPDATE uploads
SET status = @status, reject_reason = @reject_reason, completed_at = sqlc.narg(completed_at)
WHERE id = @id;

-- name: ClaimExpiredUploads :many
-- Uploads past their deadline that never became ready, and every upload
-- of a deleted account. Rows another transaction holds (a concurrent cleaner, or a completion in
-- progress) are skipped, so replicas never process one upload twice.
SELECT id, owner_id, purpose, status, object_key, content_type, size_bytes, file_name, reject_reason, created_at, expires_at, completed_at, blocked
FROM uploads
WHERE (status <> 'ready' AND expires_at < @now) OR owner_id IS NULL
ORDER BY expires_at
LIMIT @max_rows
FOR UPDATE SKIP LOCKED;

-- name: DeleteUpload :exec
DELETE FROM uploads WHERE id = $1;

-- name: LockTodoForAttachments :one
-- The owner's task, locked so that concurrent attaches count one after
-- the other. NO KEY UPDATE leaves the foreign-key checks of others free.
SELECT id FROM todos
WHERE id = @todo_id AND user_id = @owner_id
FOR NO KEY UPDATE;

-- name: OwnsTodo :one
SELECT EXISTS (SELECT 1 FROM todos WHERE id = @todo_id AND user_id = @owner_id);

-- name: CountAttachments :one
SELECT count(*) FROM todo_attachments WHERE todo_id = $1;

-- name: InsertAttachment :one
-- No row when the upload is already attached to the task.
INSERT INTO todo_attachments (todo_id, upload_id, attached_at)
VALUES (@todo_id, @upload_id, @attached_at)
ON CONFLICT (todo_id, upload_id) DO NOTHING
RETURNING attached_at;

-- name: GetAttachment :one
SELECT attached_at FROM todo_attachments WHERE todo_id = @todo_id AND upload_id = @upload_id;

-- name: ListAttachments :many
SELECT sqlc.embed(u), a.attached_at
FROM todo_attachments a
JOIN uploads u ON u.id = a.upload_id
WHERE a.todo_id = $1
ORDER BY a.attached_at, a.upload_id;

-- name: DeleteAttachment :execrows
-- Scoped to the owner of the task.
DELETE FROM todo_attachments a
USING todos t
WHERE a.todo_id = @todo_id AND a.upload_id = @upload_id
  AND t.id = a.todo_id AND t.user_id = @owner_id;
