CREATE TABLE "device_bindings" (
	"id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"device_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"method" text NOT NULL,
	"bound_by" uuid,
	"bound_at" timestamp (3) with time zone NOT NULL,
	"ended_at" timestamp (3) with time zone,
	"ended_by" uuid
);
--> statement-breakpoint
CREATE TABLE "pairing_codes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"code_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"used_by_device" uuid,
	CONSTRAINT "pairing_codes_code_hash_unique" UNIQUE("code_hash")
);
--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "binding_id" uuid;--> statement-breakpoint
ALTER TABLE "enrollment_tokens" ADD COLUMN "user_id" uuid;--> statement-breakpoint
ALTER TABLE "consent_records" ADD COLUMN "binding_id" uuid;--> statement-breakpoint
CREATE INDEX "device_bindings_device" ON "device_bindings" USING btree ("device_id","bound_at");--> statement-breakpoint
CREATE INDEX "device_bindings_user" ON "device_bindings" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "pairing_codes_user" ON "pairing_codes" USING btree ("user_id");