CREATE TABLE "LiteLLM_DeprecatedVerificationToken" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"token" text NOT NULL,
	"active_token_id" text NOT NULL,
	"revoke_at" timestamp (3) with time zone NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "LiteLLM_DeprecatedVerificationToken_token_unique" UNIQUE("token")
);
--> statement-breakpoint
CREATE TABLE "LiteLLM_TeamMembership" (
	"user_id" text NOT NULL,
	"team_id" text NOT NULL,
	"spend" numeric DEFAULT '0' NOT NULL,
	"budget_id" text,
	CONSTRAINT "LiteLLM_TeamMembership_user_id_team_id_pk" PRIMARY KEY("user_id","team_id")
);
--> statement-breakpoint
CREATE INDEX "LiteLLM_DeprecatedVerificationToken_active_token_id_idx" ON "LiteLLM_DeprecatedVerificationToken" USING btree ("active_token_id");