CREATE TABLE "concurrency_leases" (
	"id" text PRIMARY KEY NOT NULL,
	"arrival" bigint GENERATED ALWAYS AS IDENTITY (sequence name "concurrency_leases_arrival_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"node_id" text NOT NULL,
	"root_id" text NOT NULL,
	"key_id" text NOT NULL,
	"account_id" text NOT NULL,
	"chain" text[] NOT NULL,
	"key_limit" integer NOT NULL,
	"account_limit" integer NOT NULL,
	"chain_limits" integer[] NOT NULL,
	"granted" boolean NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rate_windows" (
	"key_id" text NOT NULL,
	"measure" text NOT NULL,
	"second" bigint NOT NULL,
	"amount" bigint NOT NULL,
	CONSTRAINT "rate_windows_key_id_measure_second_pk" PRIMARY KEY("key_id","measure","second")
);
--> statement-breakpoint
CREATE INDEX "concurrency_leases_root" ON "concurrency_leases" USING btree ("root_id");