CREATE TABLE "scheduler_runs" (
	"job" text NOT NULL,
	"tick" timestamp with time zone NOT NULL,
	"claimed_by" text NOT NULL,
	"claimed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "scheduler_runs_job_tick_pk" PRIMARY KEY("job","tick")
);
