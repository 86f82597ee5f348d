-- Lists written before this release hold a JSON string of the list (the client encoded it twice); each becomes the array it names.
UPDATE "accounts" SET "allowed_regions" = ("allowed_regions" #>> '{}')::jsonb WHERE jsonb_typeof("allowed_regions") = 'string';
--> statement-breakpoint
UPDATE "api_keys" SET "models" = ("models" #>> '{}')::jsonb WHERE jsonb_typeof("models") = 'string';
--> statement-breakpoint
UPDATE "api_keys" SET "allowed_ips" = ("allowed_ips" #>> '{}')::jsonb WHERE jsonb_typeof("allowed_ips") = 'string';
--> statement-breakpoint
UPDATE "api_keys" SET "allowed_regions" = ("allowed_regions" #>> '{}')::jsonb WHERE jsonb_typeof("allowed_regions") = 'string';
--> statement-breakpoint
UPDATE "consents" SET "purposes" = ("purposes" #>> '{}')::jsonb WHERE jsonb_typeof("purposes") = 'string';
--> statement-breakpoint
UPDATE "retained_payloads" SET "purposes" = ("purposes" #>> '{}')::jsonb WHERE jsonb_typeof("purposes") = 'string';
