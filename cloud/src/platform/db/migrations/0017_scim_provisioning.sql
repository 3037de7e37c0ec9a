CREATE TABLE "provisioning_settings" (
	"org_id" uuid PRIMARY KEY NOT NULL,
	"deprovisioned_data" text NOT NULL,
	"updated_by" uuid NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "scim_connections" (
	"id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"token_hint" text NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"last_used_at" timestamp (3) with time zone,
	"revoked_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "scim_groups" (
	"team_id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"external_id" text,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"deleted_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "scim_users" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"user_name" text NOT NULL,
	"external_id" text,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"deleted_at" timestamp (3) with time zone
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "sso_only" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "scim_connections_token" ON "scim_connections" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "scim_connections_org" ON "scim_connections" USING btree ("org_id");--> statement-breakpoint
CREATE INDEX "scim_groups_org_external" ON "scim_groups" USING btree ("org_id","external_id");--> statement-breakpoint
CREATE INDEX "scim_users_org_external" ON "scim_users" USING btree ("org_id","external_id");--> statement-breakpoint
CREATE INDEX "scim_users_org_user_name" ON "scim_users" USING btree ("org_id","user_name");