ALTER TABLE "webhook_endpoints" ADD COLUMN "disabled_reason" text;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "disabled_detail" text;--> statement-breakpoint
-- Endpoints disabled before the reason was kept: those the audit log says answered 410 Gone, else removed by an admin.
UPDATE "webhook_endpoints" SET "disabled_reason" = CASE WHEN EXISTS (
  SELECT 1 FROM "audit_log" WHERE "audit_log"."action" = 'webhook.disabled' AND "audit_log"."details"->>'endpointId' = "webhook_endpoints"."id"::text
) THEN 'gone' ELSE 'removed' END, "disabled_detail" = CASE WHEN EXISTS (
  SELECT 1 FROM "audit_log" WHERE "audit_log"."action" = 'webhook.disabled' AND "audit_log"."details"->>'endpointId' = "webhook_endpoints"."id"::text
) THEN 'HTTP 410 Gone' END WHERE "disabled_at" IS NOT NULL;
