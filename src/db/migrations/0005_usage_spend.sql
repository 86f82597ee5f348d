CREATE TABLE `usage_spend` (
	`key_id` text NOT NULL,
	`account_id` text NOT NULL,
	`day` text NOT NULL,
	`tokens` integer NOT NULL,
	`cost_micros` integer NOT NULL,
	PRIMARY KEY(`key_id`, `day`, `account_id`)
);
--> statement-breakpoint
CREATE INDEX `usage_spend_account_day` ON `usage_spend` (`account_id`,`day`);--> statement-breakpoint
-- What every key already spent, from request rows and roll-ups alike, so no budget restarts at the upgrade.
INSERT INTO `usage_spend` (`key_id`, `account_id`, `day`, `tokens`, `cost_micros`)
SELECT `key_id`, `account_id`, `day`, sum(`tokens`), sum(`cost_micros`) FROM (
  SELECT `key_id`, `account_id`, strftime('%Y-%m-%d', `started_at` / 1000, 'unixepoch') AS `day`, `prompt_tokens` + `completion_tokens` AS `tokens`, `cost_micros` FROM `usage_events`
  UNION ALL
  SELECT `key_id`, `account_id`, `day`, `prompt_tokens` + `completion_tokens`, `cost_micros` FROM `usage_daily`
) GROUP BY `key_id`, `account_id`, `day`;
