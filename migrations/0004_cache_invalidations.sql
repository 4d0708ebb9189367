CREATE TABLE "gateway_cache_invalidations" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"entry" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "gateway_cache_invalidations_created_at_idx" ON "gateway_cache_invalidations" USING btree ("created_at");