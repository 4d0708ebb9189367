CREATE TABLE "LiteLLM_TagTable" (
	"tag_name" text PRIMARY KEY NOT NULL,
	"description" text,
	"models" text[] DEFAULT '{}'::text[] NOT NULL,
	"spend" numeric DEFAULT '0' NOT NULL,
	"budget_id" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_by" text,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
