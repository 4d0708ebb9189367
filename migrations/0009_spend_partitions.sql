-- LiteLLM_SpendLogs becomes a table partitioned by UTC day of "startTime", so that retention
-- drops whole days instead of deleting rows (drizzle-kit does not model partitions: this file
-- is written by hand; the snapshot has the new primary key). The rows so far are not copied:
-- the old table becomes the first partition, holding everything before the day after the
-- migration (or after its latest row; before 2000 when it is empty); the gateway creates a
-- partition per day ahead of time
-- (packages/db/src/queries/spend-partitions.ts), and a default partition takes any row no day
-- partition covers yet.
ALTER TABLE "LiteLLM_SpendLogs" RENAME TO "LiteLLM_SpendLogs_legacy";--> statement-breakpoint
ALTER TABLE "LiteLLM_SpendLogs_legacy" RENAME CONSTRAINT "LiteLLM_SpendLogs_pkey" TO "LiteLLM_SpendLogs_legacy_pkey";--> statement-breakpoint
ALTER INDEX "LiteLLM_SpendLogs_startTime_idx" RENAME TO "LiteLLM_SpendLogs_legacy_startTime_idx";--> statement-breakpoint
ALTER INDEX "LiteLLM_SpendLogs_startTime_request_id_idx" RENAME TO "LiteLLM_SpendLogs_legacy_startTime_request_id_idx";--> statement-breakpoint
ALTER INDEX "LiteLLM_SpendLogs_end_user_idx" RENAME TO "LiteLLM_SpendLogs_legacy_end_user_idx";--> statement-breakpoint
ALTER INDEX "LiteLLM_SpendLogs_session_id_idx" RENAME TO "LiteLLM_SpendLogs_legacy_session_id_idx";--> statement-breakpoint
ALTER INDEX "LiteLLM_SpendLogs_api_key_startTime_idx" RENAME TO "LiteLLM_SpendLogs_legacy_api_key_startTime_idx";--> statement-breakpoint
ALTER INDEX "LiteLLM_SpendLogs_provider_response_id_idx" RENAME TO "LiteLLM_SpendLogs_legacy_provider_response_id_idx";--> statement-breakpoint
ALTER INDEX "LiteLLM_SpendLogs_team_id_startTime_idx" RENAME TO "LiteLLM_SpendLogs_legacy_team_id_startTime_idx";--> statement-breakpoint
CREATE TABLE "LiteLLM_SpendLogs" (LIKE "LiteLLM_SpendLogs_legacy" INCLUDING DEFAULTS) PARTITION BY RANGE ("startTime");--> statement-breakpoint
ALTER TABLE "LiteLLM_SpendLogs" ADD CONSTRAINT "LiteLLM_SpendLogs_request_id_startTime_pk" PRIMARY KEY("request_id","startTime");--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_startTime_idx" ON "LiteLLM_SpendLogs" USING btree ("startTime");--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_startTime_request_id_idx" ON "LiteLLM_SpendLogs" USING btree ("startTime","request_id");--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_end_user_idx" ON "LiteLLM_SpendLogs" USING btree ("end_user");--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_session_id_idx" ON "LiteLLM_SpendLogs" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_api_key_startTime_idx" ON "LiteLLM_SpendLogs" USING btree ("api_key","startTime");--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_provider_response_id_idx" ON "LiteLLM_SpendLogs" USING btree (("metadata"->>'provider_response_id'));--> statement-breakpoint
CREATE INDEX "LiteLLM_SpendLogs_team_id_startTime_idx" ON "LiteLLM_SpendLogs" USING btree ("team_id","startTime");--> statement-breakpoint
-- A partition has the table's key: the old one (request_id alone) gives way to it, built once
-- here rather than while attaching.
ALTER TABLE "LiteLLM_SpendLogs_legacy" DROP CONSTRAINT "LiteLLM_SpendLogs_legacy_pkey";--> statement-breakpoint
ALTER TABLE "LiteLLM_SpendLogs_legacy" ADD CONSTRAINT "LiteLLM_SpendLogs_legacy_request_id_startTime_pk" PRIMARY KEY("request_id","startTime");--> statement-breakpoint
DO $$
DECLARE
  latest timestamptz;
  boundary timestamptz;
BEGIN
  SELECT max("startTime") INTO latest FROM "LiteLLM_SpendLogs_legacy";
  -- A log with rows keeps them (and today's) in its first partition; an empty one leaves every
  -- day since 2000 to day partitions.
  boundary := CASE WHEN latest IS NULL THEN timestamptz '2000-01-01 00:00:00+00'
    ELSE date_trunc('day', greatest(now(), latest) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 day' END;
  EXECUTE format('ALTER TABLE "LiteLLM_SpendLogs" ATTACH PARTITION "LiteLLM_SpendLogs_legacy" FOR VALUES FROM (MINVALUE) TO (%L)', boundary);
END $$;--> statement-breakpoint
CREATE TABLE "LiteLLM_SpendLogs_default" PARTITION OF "LiteLLM_SpendLogs" DEFAULT;
