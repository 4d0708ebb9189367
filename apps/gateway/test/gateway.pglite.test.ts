import { defineGatewaySuite } from './support/gateway-suite.ts';

// The embedded default: PGlite in memory, in-process caches, no Redis.
defineGatewaySuite('pglite');
