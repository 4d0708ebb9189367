CREATE TABLE "gateway_daily_spend" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"date" text NOT NULL,
	"api_key" text NOT NULL,
	"user" text DEFAULT '' NOT NULL,
	"team_id" text DEFAULT '' NOT NULL,
	"end_user" text DEFAULT '' NOT NULL,
	"model" text DEFAULT '' NOT NULL,
	"model_group" text,
	"custom_llm_provider" text DEFAULT '' NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"total_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_read_input_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_creation_input_tokens" bigint DEFAULT 0 NOT NULL,
	"spend" numeric DEFAULT '0' NOT NULL,
	"api_requests" bigint DEFAULT 0 NOT NULL,
	"successful_requests" bigint DEFAULT 0 NOT NULL,
	"failed_requests" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "gateway_daily_spend_day_key" UNIQUE("date","api_key","user","team_id","end_user","model","custom_llm_provider")
);
--> statement-breakpoint
-- Every spend row written so far, counted into the new aggregate as the writer counts new ones.
INSERT INTO "gateway_daily_spend" ("date", "api_key", "user", "team_id", "end_user", "model", "model_group",
  "custom_llm_provider", "prompt_tokens", "completion_tokens", "total_tokens", "cache_read_input_tokens",
  "cache_creation_input_tokens", "spend", "api_requests", "successful_requests", "failed_requests")
SELECT to_char(r."startTime" at time zone 'UTC', 'YYYY-MM-DD'), r.api_key, coalesce(r."user", ''),
  coalesce(r.team_id, ''), coalesce(r.end_user, ''), coalesce(r.model, ''), max(r.model_group),
  coalesce(r.custom_llm_provider, ''), coalesce(sum(r.prompt_tokens), 0), coalesce(sum(r.completion_tokens), 0),
  coalesce(sum(r.total_tokens), 0), coalesce(sum(r.cache_read_input_tokens), 0),
  coalesce(sum(r.cache_creation_input_tokens), 0), coalesce(sum(r.spend), 0), count(*),
  count(*) FILTER (WHERE r.status = 'success'), count(*) FILTER (WHERE r.status <> 'success')
FROM "LiteLLM_SpendLogs" r
GROUP BY 1, 2, 3, 4, 5, 6, 8;
