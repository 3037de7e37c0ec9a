ALTER TABLE "policies" ADD COLUMN "authors" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
-- Versions drafted before authors were kept: their creator is their author.
UPDATE "policies" SET "authors" = jsonb_build_array("created_by") WHERE "created_by" IS NOT NULL;
