export * from './budget.ts';
export * from './daily-spend.ts';
export * from './end-user.ts';
export * from './spend-logs.ts';
export * from './team.ts';
export * from './user.ts';
export * from './verification-token.ts';
