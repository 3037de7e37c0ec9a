-- Custom SQL migration file, put your code below! --
-- Devices matched to a person by their OS account name carry no proof of who they speak for:
-- they become unbound until the person pairs them or IT assigns them.
UPDATE "devices" SET "user_id" = NULL WHERE "binding_id" IS NULL;
