-- name: GetWeChatSessionKey :one
-- The session_key of the user's identity in the app: the one WeChat gave
-- at the latest login (or binding) there. A user has at most one identity
-- per app (wechat_identities_app_user_key), so this is one row or none.
SELECT session_key
FROM wechat_identities
WHERE app_id = @app_id AND user_id = @user_id;
