CREATE TABLE "policy_approvals" (
	"org_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"user_id" uuid NOT NULL,
	"as_admin" boolean NOT NULL,
	"as_works_council" boolean NOT NULL,
	"approved_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "policy_approvals_org_id_version_user_id_pk" PRIMARY KEY("org_id","version","user_id")
);
--> statement-breakpoint
CREATE INDEX "audit_log_org_actor" ON "audit_log" USING btree ("org_id","actor_id","seq");--> statement-breakpoint
CREATE INDEX "audit_log_subjects" ON "audit_log" USING gin ("subject_user_ids");