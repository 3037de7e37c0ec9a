CREATE TABLE "notice_acknowledgments" (
	"org_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"policy_version" integer NOT NULL,
	"policy_hash" text NOT NULL,
	"acknowledged_at" timestamp with time zone NOT NULL,
	CONSTRAINT "notice_acknowledgments_user_id_policy_version_pk" PRIMARY KEY("user_id","policy_version")
);
--> statement-breakpoint
CREATE INDEX "notice_acknowledgments_org_version" ON "notice_acknowledgments" USING btree ("org_id","policy_version");