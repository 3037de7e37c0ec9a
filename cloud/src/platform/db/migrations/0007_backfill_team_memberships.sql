-- People recorded before membership history was kept: one period each, open since the start,
-- in their current team (the best record of the past there is).
INSERT INTO "team_memberships" ("id", "org_id", "user_id", "team_id", "valid_from", "valid_to")
SELECT gen_random_uuid(), u."org_id", u."id", u."team_id", NULL, NULL
FROM "users" u
WHERE NOT EXISTS (SELECT 1 FROM "team_memberships" m WHERE m."user_id" = u."id");
