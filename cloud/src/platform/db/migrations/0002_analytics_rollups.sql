CREATE TABLE "category_rules" (
	"org_id" uuid PRIMARY KEY NOT NULL,
	"rules" jsonb NOT NULL,
	"version" integer NOT NULL,
	"updated_by" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rollup_team_daily" (
	"org_id" uuid NOT NULL,
	"team_id" uuid NOT NULL,
	"day" date NOT NULL,
	"category" text NOT NULL,
	"productivity" text NOT NULL,
	"active_ms" bigint NOT NULL,
	"idle_ms" bigint NOT NULL,
	"spans" integer NOT NULL,
	CONSTRAINT "rollup_team_daily_org_id_day_team_id_category_productivity_pk" PRIMARY KEY("org_id","day","team_id","category","productivity")
);
--> statement-breakpoint
CREATE TABLE "rollup_user_daily" (
	"org_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"day" date NOT NULL,
	"app" text NOT NULL,
	"category" text NOT NULL,
	"productivity" text NOT NULL,
	"active_ms" bigint NOT NULL,
	"idle_ms" bigint NOT NULL,
	"spans" integer NOT NULL,
	CONSTRAINT "rollup_user_daily_org_id_user_id_day_app_category_productivity_pk" PRIMARY KEY("org_id","user_id","day","app","category","productivity")
);
--> statement-breakpoint
CREATE TABLE "rollup_user_days" (
	"org_id" uuid NOT NULL,
	"day" date NOT NULL,
	"user_id" uuid NOT NULL,
	"team_id" uuid,
	CONSTRAINT "rollup_user_days_org_id_day_user_id_pk" PRIMARY KEY("org_id","day","user_id")
);
--> statement-breakpoint
CREATE INDEX "rollup_user_days_team" ON "rollup_user_days" USING btree ("org_id","team_id","day");