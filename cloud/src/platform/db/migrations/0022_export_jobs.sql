CREATE TABLE "export_jobs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"requested_by" uuid NOT NULL,
	"requester" jsonb NOT NULL,
	"query" jsonb NOT NULL,
	"state" text DEFAULT 'queued' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_until" timestamp (3) with time zone,
	"bytes" integer DEFAULT 0 NOT NULL,
	"filename" text,
	"object_key" text,
	"requested_at" timestamp (3) with time zone NOT NULL,
	"completed_at" timestamp (3) with time zone,
	"expires_at" timestamp (3) with time zone,
	"last_error" text
);
--> statement-breakpoint
CREATE INDEX "export_jobs_due" ON "export_jobs" USING btree ("state","lease_until");--> statement-breakpoint
CREATE INDEX "export_jobs_requester" ON "export_jobs" USING btree ("org_id","requested_by","requested_at");