// Real Envoy for tests. Envoys started through testEnvoy() are stopped after the test
// file (afterAll), and their log tails are printed when a test fails. There is no skip:
// a missing binary makes the test fail with "run npm run install-envoy".
//
//   const envoy = await testEnvoy({ xdsPort, nodeId: 'gw-1' });
//   await envoy.waitReady();
//   const { port } = await envoy.waitForListener('http');
import { afterAll, afterEach } from 'vitest';
import { startEnvoy, waitForHttp, type RunningEnvoy, type StartEnvoyOptions } from '../../envoy/runner.js';

export { startEnvoy, waitForHttp, type RunningEnvoy, type StartEnvoyOptions };
export { validateWithEnvoy } from '../../envoy/validate.js';
export { envoyBinary, envoyVersion } from '../../envoy/binary.js';

const running = new Set<RunningEnvoy>();

afterEach((ctx) => {
  if (ctx.task.result?.state !== 'fail') return;
  for (const e of running) {
    process.stderr.write(`\n--- Envoy ${e.nodeId} (pid ${e.pid}) log tail, ${e.logFile} ---\n${e.logTail(60)}\n`);
  }
});

afterAll(async () => {
  await stopAllTestEnvoys();
});

/** startEnvoy(), stopped automatically after the test file. `nodeId` defaults to a unique name. */
export async function testEnvoy(opts: Omit<StartEnvoyOptions, 'nodeId'> & { nodeId?: string }): Promise<RunningEnvoy> {
  const e = await startEnvoy({ ...opts, nodeId: opts.nodeId ?? `test-${process.pid}-${running.size + 1}-${Date.now() % 100000}` });
  running.add(e);
  const stop = e.stop.bind(e);
  return Object.defineProperty(e, 'stop', {
    value: async (o?: { graceMs?: number }) => {
      await stop(o);
      running.delete(e);
    },
  });
}

export async function stopAllTestEnvoys(): Promise<void> {
  const all = [...running];
  running.clear();
  await Promise.all(all.map((e) => e.stop()));
}
