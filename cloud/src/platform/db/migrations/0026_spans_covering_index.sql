DROP INDEX "spans_org_user_start";--> statement-breakpoint
CREATE INDEX "spans_org_user_start" ON "spans" USING btree ("org_id","user_id","start","duration_ms","idle","app");