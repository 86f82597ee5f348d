ALTER TABLE `accounts` ADD `allowed_regions` text;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `allowed_regions` text;--> statement-breakpoint
CREATE INDEX `usage_daily_key_day` ON `usage_daily` (`key_id`,`day`);--> statement-breakpoint
CREATE INDEX `usage_daily_account_day` ON `usage_daily` (`account_id`,`day`);