CREATE TABLE "gateway_pruned_spend" (
	"entity" text NOT NULL,
	"id" text NOT NULL,
	"spend" numeric DEFAULT '0' NOT NULL,
	CONSTRAINT "gateway_pruned_spend_entity_id_pk" PRIMARY KEY("entity","id")
);
