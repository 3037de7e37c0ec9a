CREATE TABLE "event_outbox" (
	"org_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"name" text NOT NULL,
	"subject" text NOT NULL,
	"time" timestamp (3) with time zone NOT NULL,
	"data" jsonb NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"sent_at" timestamp (3) with time zone,
	CONSTRAINT "event_outbox_org_id_id_pk" PRIMARY KEY("org_id","id")
);
--> statement-breakpoint
CREATE INDEX "event_outbox_due" ON "event_outbox" USING btree ("next_attempt_at") WHERE "event_outbox"."sent_at" is null;--> statement-breakpoint
CREATE INDEX "event_outbox_sent" ON "event_outbox" USING btree ("sent_at") WHERE "event_outbox"."sent_at" is not null;