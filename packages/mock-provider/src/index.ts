export { type MockDirectives, readDirectives } from './directives.ts';
export {
  type MockProvider,
  type MockProviderOptions,
  type RecordedRequest,
  startMockProvider,
} from './server.ts';
