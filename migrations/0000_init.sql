CREATE TABLE "LiteLLM_BudgetTable" (
	"budget_id" text PRIMARY KEY NOT NULL,
	"max_budget" numeric,
	"soft_budget" numeric,
	"max_parallel_requests" integer,
	"tpm_limit" bigint,
	"rpm_limit" bigint,
	"model_max_budget" jsonb,
	"budget_duration" text,
	"budget_reset_at" timestamp (3) with time zone,
	"allowed_models" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_DailyEndUserSpend" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"end_user_id" text,
	"date" text NOT NULL,
	"api_key" text NOT NULL,
	"model" text,
	"model_group" text,
	"custom_llm_provider" text,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_read_input_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_creation_input_tokens" bigint DEFAULT 0 NOT NULL,
	"spend" numeric DEFAULT '0' NOT NULL,
	"api_requests" bigint DEFAULT 0 NOT NULL,
	"successful_requests" bigint DEFAULT 0 NOT NULL,
	"failed_requests" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "LiteLLM_DailyEndUserSpend_entity_date_key_model_provider_key" UNIQUE NULLS NOT DISTINCT("end_user_id","date","api_key","model","custom_llm_provider")
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_DailyTagSpend" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tag" text,
	"date" text NOT NULL,
	"api_key" text NOT NULL,
	"model" text,
	"model_group" text,
	"custom_llm_provider" text,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_read_input_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_creation_input_tokens" bigint DEFAULT 0 NOT NULL,
	"spend" numeric DEFAULT '0' NOT NULL,
	"api_requests" bigint DEFAULT 0 NOT NULL,
	"successful_requests" bigint DEFAULT 0 NOT NULL,
	"failed_requests" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "LiteLLM_DailyTagSpend_entity_date_key_model_provider_key" UNIQUE NULLS NOT DISTINCT("tag","date","api_key","model","custom_llm_provider")
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_DailyTeamSpend" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"team_id" text,
	"date" text NOT NULL,
	"api_key" text NOT NULL,
	"model" text,
	"model_group" text,
	"custom_llm_provider" text,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_read_input_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_creation_input_tokens" bigint DEFAULT 0 NOT NULL,
	"spend" numeric DEFAULT '0' NOT NULL,
	"api_requests" bigint DEFAULT 0 NOT NULL,
	"successful_requests" bigint DEFAULT 0 NOT NULL,
	"failed_requests" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "LiteLLM_DailyTeamSpend_entity_date_key_model_provider_key" UNIQUE NULLS NOT DISTINCT("team_id","date","api_key","model","custom_llm_provider")
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_DailyUserSpend" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" text,
	"date" text NOT NULL,
	"api_key" text NOT NULL,
	"model" text,
	"model_group" text,
	"custom_llm_provider" text,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_read_input_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_creation_input_tokens" bigint DEFAULT 0 NOT NULL,
	"spend" numeric DEFAULT '0' NOT NULL,
	"api_requests" bigint DEFAULT 0 NOT NULL,
	"successful_requests" bigint DEFAULT 0 NOT NULL,
	"failed_requests" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "LiteLLM_DailyUserSpend_entity_date_key_model_provider_key" UNIQUE NULLS NOT DISTINCT("user_id","date","api_key","model","custom_llm_provider")
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_EndUserTable" (
	"user_id" text PRIMARY KEY NOT NULL,
	"alias" text,
	"spend" numeric DEFAULT '0' NOT NULL,
	"allowed_model_region" text,
	"default_model" text,
	"budget_id" text,
	"blocked" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_SpendLogs" (
	"request_id" text PRIMARY KEY NOT NULL,
	"call_type" text NOT NULL,
	"api_key" text DEFAULT '' NOT NULL,
	"spend" numeric,
	"total_tokens" integer,
	"prompt_tokens" integer,
	"completion_tokens" integer,
	"cache_read_input_tokens" integer,
	"cache_creation_input_tokens" integer,
	"cache_creation_1h_input_tokens" integer,
	"reasoning_tokens" integer,
	"startTime" timestamp (3) with time zone NOT NULL,
	"endTime" timestamp (3) with time zone NOT NULL,
	"completionStartTime" timestamp (3) with time zone,
	"request_duration_ms" integer,
	"model" text DEFAULT '' NOT NULL,
	"model_id" text DEFAULT '',
	"model_group" text DEFAULT '',
	"custom_llm_provider" text DEFAULT '',
	"api_base" text DEFAULT '',
	"user" text DEFAULT '',
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"pricing" jsonb,
	"cache_hit" text DEFAULT 'False',
	"request_tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"team_id" text,
	"organization_id" text,
	"end_user" text,
	"session_id" text,
	"status" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_TeamTable" (
	"team_id" text PRIMARY KEY NOT NULL,
	"team_alias" text,
	"organization_id" text,
	"admins" text[] DEFAULT '{}'::text[] NOT NULL,
	"members" text[] DEFAULT '{}'::text[] NOT NULL,
	"members_with_roles" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"max_budget" numeric,
	"soft_budget" numeric,
	"spend" numeric DEFAULT '0' NOT NULL,
	"models" text[] DEFAULT '{}'::text[] NOT NULL,
	"max_parallel_requests" integer,
	"tpm_limit" bigint,
	"rpm_limit" bigint,
	"budget_duration" text,
	"budget_reset_at" timestamp (3) with time zone,
	"blocked" boolean DEFAULT false NOT NULL,
	"model_spend" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"model_max_budget" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_UserTable" (
	"user_id" text PRIMARY KEY NOT NULL,
	"user_alias" text,
	"team_id" text,
	"organization_id" text,
	"teams" text[] DEFAULT '{}'::text[] NOT NULL,
	"user_role" text,
	"max_budget" numeric,
	"soft_budget" numeric,
	"spend" numeric DEFAULT '0' NOT NULL,
	"user_email" text,
	"models" text[] DEFAULT '{}'::text[] NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"max_parallel_requests" integer,
	"tpm_limit" bigint,
	"rpm_limit" bigint,
	"budget_duration" text,
	"budget_reset_at" timestamp (3) with time zone,
	"model_spend" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"model_max_budget" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_VerificationToken" (
	"token" text PRIMARY KEY NOT NULL,
	"key_name" text,
	"key_alias" text,
	"soft_budget_cooldown" boolean DEFAULT false NOT NULL,
	"spend" numeric DEFAULT '0' NOT NULL,
	"expires" timestamp (3) with time zone,
	"models" text[] DEFAULT '{}'::text[] NOT NULL,
	"aliases" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"user_id" text,
	"team_id" text,
	"organization_id" text,
	"budget_id" text,
	"permissions" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"max_parallel_requests" integer,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"blocked" boolean,
	"tpm_limit" bigint,
	"rpm_limit" bigint,
	"max_budget" numeric,
	"soft_budget" numeric,
	"budget_duration" text,
	"budget_reset_at" timestamp (3) with time zone,
	"allowed_cache_controls" text[] DEFAULT '{}'::text[] NOT NULL,
	"allowed_routes" text[] DEFAULT '{}'::text[] NOT NULL,
	"model_spend" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"model_max_budget" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_by" text,
	"updated_by" text,
	"last_active" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_startTime_idx" ON "LiteLLM_SpendLogs" USING btree ("startTime");--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_startTime_request_id_idx" ON "LiteLLM_SpendLogs" USING btree ("startTime","request_id");--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_end_user_idx" ON "LiteLLM_SpendLogs" USING btree ("end_user");--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_session_id_idx" ON "LiteLLM_SpendLogs" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_api_key_startTime_idx" ON "LiteLLM_SpendLogs" USING btree ("api_key","startTime");--> statement-breakpoint
CREATE INDEX "LiteLLM_TeamTable_organization_id_idx" ON "LiteLLM_TeamTable" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "LiteLLM_TeamTable_team_alias_idx" ON "LiteLLM_TeamTable" USING btree ("team_alias");--> statement-breakpoint
CREATE INDEX "LiteLLM_TeamTable_created_at_idx" ON "LiteLLM_TeamTable" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "LiteLLM_VerificationToken_user_id_team_id_idx" ON "LiteLLM_VerificationToken" USING btree ("user_id","team_id");--> statement-breakpoint
CREATE INDEX "LiteLLM_VerificationToken_team_id_idx" ON "LiteLLM_VerificationToken" USING btree ("team_id");--> statement-breakpoint
CREATE INDEX "LiteLLM_VerificationToken_budget_reset_at_expires_idx" ON "LiteLLM_VerificationToken" USING btree ("budget_reset_at","expires");--> statement-breakpoint
CREATE UNIQUE INDEX "LiteLLM_VerificationToken_key_alias_key" ON "LiteLLM_VerificationToken" USING btree ("key_alias");