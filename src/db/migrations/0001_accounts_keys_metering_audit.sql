CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`parent_id` text,
	`concurrency` integer,
	`budget_period` text,
	`budget_tokens` integer,
	`budget_cost_micros` integer,
	`credits_micros` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`parent_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_live_name` ON `accounts` (`name`) WHERE "accounts"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX `accounts_parent` ON `accounts` (`parent_id`);--> statement-breakpoint
CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`lookup` text NOT NULL,
	`key_hash` text NOT NULL,
	`models` text,
	`allowed_ips` text,
	`concurrency` integer,
	`rpm` integer,
	`tpm` integer,
	`budget_period` text,
	`budget_tokens` integer,
	`budget_cost_micros` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`last_used_at` integer,
	`expires_at` integer,
	`revoked_at` integer,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash_unique` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_lookup` ON `api_keys` (`lookup`);--> statement-breakpoint
CREATE INDEX `api_keys_account` ON `api_keys` (`account_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_live_name` ON `api_keys` (`account_id`,`name`) WHERE "api_keys"."revoked_at" is null;--> statement-breakpoint
CREATE TABLE `audit_log` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`target` text NOT NULL,
	`details` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `usage_events` (
	`id` text PRIMARY KEY NOT NULL,
	`key_id` text NOT NULL,
	`account_id` text NOT NULL,
	`endpoint` text NOT NULL,
	`model` text,
	`started_at` integer NOT NULL,
	`queue_ms` integer NOT NULL,
	`ttft_ms` integer,
	`duration_ms` integer NOT NULL,
	`prompt_tokens` integer NOT NULL,
	`completion_tokens` integer NOT NULL,
	`draft_tokens_accepted` integer,
	`cost_micros` integer NOT NULL,
	`status` integer NOT NULL,
	`error_code` text,
	`client_ip` text
);
--> statement-breakpoint
CREATE INDEX `usage_events_key_time` ON `usage_events` (`key_id`,`started_at`);--> statement-breakpoint
CREATE INDEX `usage_events_account_time` ON `usage_events` (`account_id`,`started_at`);--> statement-breakpoint
CREATE INDEX `usage_events_time` ON `usage_events` (`started_at`);--> statement-breakpoint
-- Hand-added: the audit log is append-only at the storage layer too (drizzle-kit does not model triggers).
CREATE TRIGGER `audit_log_no_update` BEFORE UPDATE ON `audit_log` BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;--> statement-breakpoint
CREATE TRIGGER `audit_log_no_delete` BEFORE DELETE ON `audit_log` BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
