ALTER TABLE "LiteLLM_EndUserTable" ADD COLUMN "lifetime_spend" numeric DEFAULT '0' NOT NULL;--> statement-breakpoint
ALTER TABLE "LiteLLM_TeamTable" ADD COLUMN "lifetime_spend" numeric DEFAULT '0' NOT NULL;--> statement-breakpoint
ALTER TABLE "LiteLLM_UserTable" ADD COLUMN "lifetime_spend" numeric DEFAULT '0' NOT NULL;--> statement-breakpoint
ALTER TABLE "LiteLLM_VerificationToken" ADD COLUMN "lifetime_spend" numeric DEFAULT '0' NOT NULL;--> statement-breakpoint
-- Until now spend was never reset, so it is the lifetime spend.
UPDATE "LiteLLM_EndUserTable" SET "lifetime_spend" = "spend";--> statement-breakpoint
UPDATE "LiteLLM_TeamTable" SET "lifetime_spend" = "spend";--> statement-breakpoint
UPDATE "LiteLLM_UserTable" SET "lifetime_spend" = "spend";--> statement-breakpoint
UPDATE "LiteLLM_VerificationToken" SET "lifetime_spend" = "spend";
