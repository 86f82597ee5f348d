CREATE TABLE `audit_checkpoints` (
	`seq` integer PRIMARY KEY NOT NULL,
	`hash` text NOT NULL,
	`at` integer NOT NULL,
	`removed` integer NOT NULL,
	`prev_digest` text NOT NULL,
	`digest` text NOT NULL,
	`signature` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `consents` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`mode` text NOT NULL,
	`purposes` text NOT NULL,
	`retention_days` integer NOT NULL,
	`granted_by` text NOT NULL,
	`statement` text NOT NULL,
	`granted_at` integer NOT NULL,
	`recorded_by` text NOT NULL,
	`recorded_at` integer NOT NULL,
	`revoked_at` integer,
	`revoked_by` text
);
--> statement-breakpoint
CREATE INDEX `consents_account` ON `consents` (`account_id`);--> statement-breakpoint
CREATE TABLE `retained_payloads` (
	`id` text PRIMARY KEY NOT NULL,
	`request_id` text NOT NULL,
	`mode` text NOT NULL,
	`basis` text NOT NULL,
	`purposes` text NOT NULL,
	`kind` text NOT NULL,
	`model` text NOT NULL,
	`account_id` text,
	`key_id` text,
	`consent_id` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`key_fingerprint` text NOT NULL,
	`nonce` blob NOT NULL,
	`ciphertext` blob NOT NULL
);
--> statement-breakpoint
CREATE INDEX `retained_payloads_expires` ON `retained_payloads` (`expires_at`);--> statement-breakpoint
CREATE INDEX `retained_payloads_request` ON `retained_payloads` (`request_id`);--> statement-breakpoint
CREATE INDEX `retained_payloads_account` ON `retained_payloads` (`account_id`);--> statement-breakpoint
CREATE TABLE `retention_overrides` (
	`subject` text PRIMARY KEY NOT NULL,
	`payloads` text NOT NULL,
	`set_by` text NOT NULL,
	`set_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `usage_daily` (
	`day` text NOT NULL,
	`account_id` text NOT NULL,
	`key_id` text NOT NULL,
	`endpoint` text NOT NULL,
	`model` text NOT NULL,
	`requests` integer NOT NULL,
	`errors` integer NOT NULL,
	`prompt_tokens` integer NOT NULL,
	`completion_tokens` integer NOT NULL,
	`draft_tokens_accepted` integer NOT NULL,
	`cost_micros` integer NOT NULL,
	PRIMARY KEY(`day`, `account_id`, `key_id`, `endpoint`, `model`)
);
--> statement-breakpoint
-- Hand-added: retention may remove old audit entries, but only behind a checkpoint that anchors the chain.
DROP TRIGGER `audit_log_no_delete`;--> statement-breakpoint
CREATE TRIGGER `audit_log_no_delete` BEFORE DELETE ON `audit_log` WHEN NOT EXISTS (SELECT 1 FROM `audit_checkpoints` WHERE `seq` >= OLD.`seq`) BEGIN SELECT RAISE(ABORT, 'audit_log is append-only; only entries behind a retention checkpoint may be removed'); END;--> statement-breakpoint
CREATE TRIGGER `audit_checkpoints_no_update` BEFORE UPDATE ON `audit_checkpoints` BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;--> statement-breakpoint
CREATE TRIGGER `audit_checkpoints_no_delete` BEFORE DELETE ON `audit_checkpoints` BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
