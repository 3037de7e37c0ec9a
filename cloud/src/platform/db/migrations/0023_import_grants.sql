CREATE TABLE "import_grants" (
	"id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"device_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"binding_id" uuid NOT NULL,
	"source" text NOT NULL,
	"policy_version" integer NOT NULL,
	"policy_hash" text NOT NULL,
	"scopes" jsonb NOT NULL,
	"from_at" timestamp (3) with time zone NOT NULL,
	"to_at" timestamp (3) with time zone NOT NULL,
	"preview" jsonb NOT NULL,
	"method" text NOT NULL,
	"decided_at" timestamp (3) with time zone NOT NULL,
	"receipt_jws" text NOT NULL,
	"withdrawn_at" timestamp (3) with time zone,
	"withdrawal_receipt_jws" text
);
--> statement-breakpoint
ALTER TABLE "spans" ADD COLUMN "import_grant_id" uuid;--> statement-breakpoint
CREATE INDEX "import_grants_device" ON "import_grants" USING btree ("device_id");--> statement-breakpoint
CREATE INDEX "import_grants_user" ON "import_grants" USING btree ("org_id","user_id");