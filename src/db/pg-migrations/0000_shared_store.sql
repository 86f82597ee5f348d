CREATE TABLE "accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"parent_id" text,
	"concurrency" bigint,
	"budget_period" text,
	"budget_tokens" bigint,
	"budget_cost_micros" bigint,
	"credits_micros" bigint,
	"allowed_regions" jsonb,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"deleted_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"lookup" text NOT NULL,
	"key_hash" text NOT NULL,
	"models" jsonb,
	"allowed_ips" jsonb,
	"allowed_regions" jsonb,
	"concurrency" bigint,
	"rpm" bigint,
	"tpm" bigint,
	"budget_period" text,
	"budget_tokens" bigint,
	"budget_cost_micros" bigint,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"last_used_at" timestamp (3) with time zone,
	"expires_at" timestamp (3) with time zone,
	"revoked_at" timestamp (3) with time zone,
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "audit_checkpoints" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"hash" text NOT NULL,
	"at" timestamp (3) with time zone NOT NULL,
	"removed" bigint NOT NULL,
	"prev_digest" text NOT NULL,
	"digest" text NOT NULL,
	"signature" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"at" timestamp (3) with time zone NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"target" text NOT NULL,
	"details" text NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "consents" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"mode" text NOT NULL,
	"purposes" jsonb NOT NULL,
	"retention_days" bigint NOT NULL,
	"granted_by" text NOT NULL,
	"statement" text NOT NULL,
	"granted_at" timestamp (3) with time zone NOT NULL,
	"recorded_by" text NOT NULL,
	"recorded_at" timestamp (3) with time zone NOT NULL,
	"revoked_at" timestamp (3) with time zone,
	"revoked_by" text
);
--> statement-breakpoint
CREATE TABLE "instance" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "retained_payloads" (
	"id" text PRIMARY KEY NOT NULL,
	"request_id" text NOT NULL,
	"mode" text NOT NULL,
	"basis" text NOT NULL,
	"purposes" jsonb NOT NULL,
	"kind" text NOT NULL,
	"model" text NOT NULL,
	"account_id" text,
	"key_id" text,
	"consent_id" text,
	"created_at" timestamp (3) with time zone NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"key_fingerprint" text NOT NULL,
	"nonce" "bytea" NOT NULL,
	"ciphertext" "bytea" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "retention_overrides" (
	"subject" text PRIMARY KEY NOT NULL,
	"payloads" text NOT NULL,
	"set_by" text NOT NULL,
	"set_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_daily" (
	"day" text NOT NULL,
	"account_id" text NOT NULL,
	"key_id" text NOT NULL,
	"endpoint" text NOT NULL,
	"model" text NOT NULL,
	"requests" bigint NOT NULL,
	"errors" bigint NOT NULL,
	"prompt_tokens" bigint NOT NULL,
	"completion_tokens" bigint NOT NULL,
	"draft_tokens_accepted" bigint NOT NULL,
	"cost_micros" bigint NOT NULL,
	CONSTRAINT "usage_daily_day_account_id_key_id_endpoint_model_pk" PRIMARY KEY("day","account_id","key_id","endpoint","model")
);
--> statement-breakpoint
CREATE TABLE "usage_events" (
	"id" text PRIMARY KEY NOT NULL,
	"key_id" text NOT NULL,
	"account_id" text NOT NULL,
	"endpoint" text NOT NULL,
	"model" text,
	"started_at" timestamp (3) with time zone NOT NULL,
	"queue_ms" bigint NOT NULL,
	"ttft_ms" bigint,
	"duration_ms" bigint NOT NULL,
	"prompt_tokens" bigint NOT NULL,
	"cached_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint NOT NULL,
	"draft_tokens_accepted" bigint,
	"cost_micros" bigint NOT NULL,
	"status" bigint NOT NULL,
	"error_code" text,
	"client_ip" text
);
--> statement-breakpoint
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_parent_id_accounts_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "accounts_live_name" ON "accounts" USING btree ("name") WHERE "accounts"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "accounts_parent" ON "accounts" USING btree ("parent_id");--> statement-breakpoint
CREATE INDEX "api_keys_lookup" ON "api_keys" USING btree ("lookup");--> statement-breakpoint
CREATE INDEX "api_keys_account" ON "api_keys" USING btree ("account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_live_name" ON "api_keys" USING btree ("account_id","name") WHERE "api_keys"."revoked_at" is null;--> statement-breakpoint
CREATE INDEX "consents_account" ON "consents" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "retained_payloads_expires" ON "retained_payloads" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "retained_payloads_request" ON "retained_payloads" USING btree ("request_id");--> statement-breakpoint
CREATE INDEX "retained_payloads_account" ON "retained_payloads" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "usage_daily_key_day" ON "usage_daily" USING btree ("key_id","day");--> statement-breakpoint
CREATE INDEX "usage_daily_account_day" ON "usage_daily" USING btree ("account_id","day");--> statement-breakpoint
CREATE INDEX "usage_events_key_time" ON "usage_events" USING btree ("key_id","started_at");--> statement-breakpoint
CREATE INDEX "usage_events_account_time" ON "usage_events" USING btree ("account_id","started_at");--> statement-breakpoint
CREATE INDEX "usage_events_time" ON "usage_events" USING btree ("started_at");