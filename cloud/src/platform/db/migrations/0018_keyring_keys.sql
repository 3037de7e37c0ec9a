CREATE TABLE "keyring_keys" (
	"ring" text NOT NULL,
	"key_id" text NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone,
	"public_jwk" jsonb,
	CONSTRAINT "keyring_keys_ring_key_id_pk" PRIMARY KEY("ring","key_id")
);
