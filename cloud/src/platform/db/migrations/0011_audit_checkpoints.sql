CREATE TABLE "audit_checkpoints" (
	"org_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"size" bigint NOT NULL,
	"hash" text NOT NULL,
	"signed_at" timestamp (3) with time zone NOT NULL,
	"key_id" text NOT NULL,
	"jws" text NOT NULL,
	CONSTRAINT "audit_checkpoints_org_id_seq_pk" PRIMARY KEY("org_id","seq")
);
--> statement-breakpoint
-- Written by hand: checkpoints are append-only like the log they sign.
CREATE FUNCTION audit_checkpoints_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_checkpoints is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON "audit_checkpoints"
  FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_refuse_change();--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON "audit_checkpoints"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_refuse_change();
