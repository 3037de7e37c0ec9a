CREATE TABLE "span_inserts" (
	"seq" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "span_inserts_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"org_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"span_ids" uuid[] NOT NULL,
	"starts" timestamp (3) with time zone[] NOT NULL,
	"inserted_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "span_inserts_org_user" ON "span_inserts" USING btree ("org_id","user_id");