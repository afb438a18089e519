/**
 * `--profile DIR`: a V8 CPU profile of the measured builder invocations only (the same profiler as `node
 * --cpu-prof`, started and stopped around them through node:inspector), written as DIR/builder-<label>.cpuprofile
 * for Chrome DevTools or `npx speedscope`. Sampling costs some CPU: profiled runs are not for the figures.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';

let session: Session | undefined;

export async function startProfile(): Promise<void> {
  session ??= new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
}

export async function stopProfile(dir: string, label: string): Promise<string> {
  if (!session) throw new Error('stopProfile without startProfile');
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `builder-${label}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  return file;
}
