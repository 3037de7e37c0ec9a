ALTER TABLE "rollup_user_days" ADD COLUMN "focus_ms" bigint;--> statement-breakpoint
ALTER TABLE "rollup_user_days" ADD COLUMN "after_hours_ms" bigint;--> statement-breakpoint
ALTER TABLE "rollup_user_days" ADD COLUMN "focus_basis" text;--> statement-breakpoint
CREATE INDEX "rollup_user_days_focus_owed" ON "rollup_user_days" USING btree ("org_id","day") WHERE focus_basis is null;