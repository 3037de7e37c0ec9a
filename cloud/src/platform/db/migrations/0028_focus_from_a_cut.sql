DROP INDEX "rollup_user_days_focus_owed";--> statement-breakpoint
ALTER TABLE "rollup_user_days" ADD COLUMN "focus_owed_from" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "rollup_user_days" ADD COLUMN "focus_cut" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "rollup_user_days" ADD COLUMN "cut_focus_ms" bigint;--> statement-breakpoint
ALTER TABLE "rollup_user_days" ADD COLUMN "cut_after_hours_ms" bigint;--> statement-breakpoint
CREATE INDEX "rollup_user_days_focus_owed" ON "rollup_user_days" USING btree ("org_id","day") WHERE focus_basis is null or focus_owed_from is not null;