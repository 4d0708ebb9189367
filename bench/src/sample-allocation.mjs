// Bytes a process allocates, collected objects included (V8's sampling heap profiler), for the
// allocation-per-call figure in bench/RESULTS.md. Preload it into the production build:
//
//   node --heap-growing-percent=50 --import ./bench/src/sample-allocation.mjs \
//     apps/gateway/dist/main.js --config <config.yaml>      # a model on the mock provider
//   # warm up with some calls, then:
//   kill -USR2 <pid>      # start sampling
//   # make N calls (e.g. autocannon -c 16 -a 5000 ...), then:
//   kill -HUP <pid>       # stop; writes ALLOC_OUT (default /tmp/allocation.txt)
//
// The file holds the bytes sampled and the largest allocating functions; bytes / N is the
// allocation per call.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

const out = process.env.ALLOC_OUT ?? '/tmp/allocation.txt';
const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');

process.on('SIGUSR2', async () => {
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
});

process.on('SIGHUP', async () => {
  const { profile } = await session.post('HeapProfiler.stopSampling');
  let total = 0;
  const bySelf = new Map();
  const walk = (node) => {
    const frame = node.callFrame;
    const name = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').at(-1)}:${frame.lineNumber}`;
    total += node.selfSize;
    bySelf.set(name, (bySelf.get(name) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  const top = [...bySelf.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 30)
    .map(([name, bytes]) => `${((bytes / total) * 100).toFixed(1)}% ${name}`);
  writeFileSync(out, `${total} bytes sampled\n${top.join('\n')}\n`);
});
