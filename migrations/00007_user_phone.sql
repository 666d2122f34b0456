-- +goose Up
-- The phone number WeChat verified for the user (getuserphonenumber, from
-- the mini-program's getPhoneNumber button): the country code and the
-- number without it, as the search and a sender of SMS need them, and the
-- number exactly as WeChat gave it. phone_app_id is the mini-program whose
-- access token exchanged the code (the watermark's AppID). The five are
-- set and cleared together.
--
-- Not unique: WeChat lets one number belong to several WeChat accounts,
-- and one person may hold a WeChat account and a password account here;
-- each account binds the number it is shown.
ALTER TABLE users
    ADD COLUMN phone_country_code text
        CONSTRAINT users_phone_country_code_check CHECK (phone_country_code ~ '^[0-9]{1,4}$'),
    ADD COLUMN phone_pure_number text
        CONSTRAINT users_phone_pure_number_check CHECK (phone_pure_number ~ '^[0-9]{1,20}$'),
    ADD COLUMN phone_number text
        CONSTRAINT users_phone_number_check CHECK (length(phone_number) BETWEEN 1 AND 32),
    ADD COLUMN phone_app_id text,
    ADD COLUMN phone_bound_at timestamptz,
    ADD CONSTRAINT users_phone_all_or_none CHECK (
        (phone_country_code IS NULL) = (phone_pure_number IS NULL)
        AND (phone_country_code IS NULL) = (phone_number IS NULL)
        AND (phone_country_code IS NULL) = (phone_app_id IS NULL)
        AND (phone_country_code IS NULL) = (phone_bound_at IS NULL));

-- The admin's search by phone (GET /v1/admin/users?q=…) compares whole
-- numbers, with or without the country code.
CREATE INDEX users_phone_pure_number_idx ON users (phone_pure_number)
    WHERE phone_pure_number IS NOT NULL;
CREATE INDEX users_phone_full_number_idx ON users ((phone_country_code || phone_pure_number))
    WHERE phone_pure_number IS NOT NULL;

-- +goose Down
DROP INDEX users_phone_full_number_idx;
DROP INDEX users_phone_pure_number_idx;
ALTER TABLE users
    DROP CONSTRAINT users_phone_all_or_none,
    DROP COLUMN phone_bound_at,
    DROP COLUMN phone_app_id,
    DROP COLUMN phone_number,
    DROP COLUMN phone_pure_number,
    DROP COLUMN phone_country_code;
