import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRODUCTION_NODE_FLAGS } from '../../scripts/build.ts';

/**
 * The production build (from `buildGatewayAside`) started as production starts it, in its own
 * process; resolves with its URL once it listens (and a reader of all it has printed), or
 * rejects with its output if it exits first.
 */
export async function startBuiltGateway(
  buildDir: string,
  options: { args?: string[]; env: NodeJS.ProcessEnv; cwd: string },
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(
    process.execPath,
    [...PRODUCTION_NODE_FLAGS, join(buildDir, 'main.js'), ...(options.args ?? [])],
    {
      cwd: options.cwd,
      env: { LOG_LEVEL: 'warn', ...options.env, PORT: '0', HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', () => {
      const match = /listening on (http:\/\/[\d.:]+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited early (${code}): ${output}`)));
  });
  return { child, url, output: () => output };
}

/**
 * Writes `config.yaml` into `dir` for a built gateway in front of the mock: one model,
 * `gpt-4o-mini`, on the mock's OpenAI API, this master key, and any further `general_settings`
 * lines. Returns the file's path.
 */
export function writeMockConfig(
  dir: string,
  options: { openaiBaseUrl: string; masterKey: string; generalSettings?: string[] },
): string {
  const path = join(dir, 'config.yaml');
  writeFileSync(
    path,
    [
      'model_list:',
      '  - model_name: gpt-4o-mini',
      '    litellm_params:',
      '      model: openai/gpt-4o-mini',
      `      api_base: ${options.openaiBaseUrl}`,
      '      api_key: sk-mock',
      'general_settings:',
      `  master_key: ${options.masterKey}`,
      ...(options.generalSettings ?? []).map((line) => `  ${line}`),
    ].join('\n'),
  );
  return path;
}
