CREATE TABLE "rollup_org_daily" (
	"org_id" uuid NOT NULL,
	"day" date NOT NULL,
	"active_ms" bigint NOT NULL,
	"idle_ms" bigint NOT NULL,
	"productive_ms" bigint NOT NULL,
	"spans" integer NOT NULL,
	CONSTRAINT "rollup_org_daily_org_id_day_pk" PRIMARY KEY("org_id","day")
);
--> statement-breakpoint
CREATE TABLE "rollup_user_weeks" (
	"org_id" uuid NOT NULL,
	"week" date NOT NULL,
	"user_id" uuid NOT NULL,
	"days" smallint NOT NULL,
	CONSTRAINT "rollup_user_weeks_org_id_week_user_id_pk" PRIMARY KEY("org_id","week","user_id")
);
--> statement-breakpoint
ALTER TABLE "rollup_user_days" ADD COLUMN "active_ms" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "rollup_user_days" ADD COLUMN "idle_ms" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "rollup_user_days" ADD COLUMN "productive_ms" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "rollup_user_days_user" ON "rollup_user_days" USING btree ("org_id","user_id","day");--> statement-breakpoint
-- Backfill the new figures from the rollups that already exist, so reports stay right on a database seeded or fed before this migration.
UPDATE "rollup_user_days" p SET "active_ms" = s.a, "idle_ms" = s.i, "productive_ms" = s.p
FROM (
	SELECT "org_id", "user_id", "day", sum("active_ms") AS a, sum("idle_ms") AS i, coalesce(sum("active_ms") FILTER (WHERE "productivity" = 'productive'), 0) AS p
	FROM "rollup_user_daily" GROUP BY 1, 2, 3
) s
WHERE p."org_id" = s."org_id" AND p."user_id" = s."user_id" AND p."day" = s."day";--> statement-breakpoint
INSERT INTO "rollup_org_daily" ("org_id", "day", "active_ms", "idle_ms", "productive_ms", "spans")
SELECT "org_id", "day", sum("active_ms"), sum("idle_ms"), coalesce(sum("active_ms") FILTER (WHERE "productivity" = 'productive'), 0), sum("spans")
FROM "rollup_user_daily" GROUP BY 1, 2;--> statement-breakpoint
INSERT INTO "rollup_user_weeks" ("org_id", "week", "user_id", "days")
SELECT "org_id", date_trunc('week', "day")::date, "user_id", bit_or((1 << (extract(isodow FROM "day")::int - 1))::int)::smallint
FROM "rollup_user_days" GROUP BY 1, 2, 3;
