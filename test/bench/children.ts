import { readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Starts a server process and resolves with the URL from its first `listening on` line. */
export function startChild(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^listening on (http:\/\/\S+)$/.exec(line);
      if (match) resolve({ child, url: match[1]! });
    });
    child.once('exit', (code) => reject(new Error(`benchmark server exited with ${code}`)));
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

export interface CpuTimes {
  /** Every thread of the process, ms (user + system). */
  processMs: number;
  /** The event-loop thread alone, ms. */
  mainMs: number;
}

/**
 * CPU time used so far by a child, from /proc (Linux). Throughput on a shared two-core machine
 * moves with its neighbours; CPU per request moves much less, so the benchmarks print both.
 * Undefined where /proc is not there.
 */
export function cpuTimes(pid: number | undefined): CpuTimes | undefined {
  if (pid === undefined) return undefined;
  try {
    const ticks = (stat: string) => {
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(fields[11]) + Number(fields[12]);
    };
    const msPerTick = 1000 / 100; // USER_HZ is 100 on Linux
    return {
      processMs: ticks(readFileSync(`/proc/${pid}/stat`, 'utf8')) * msPerTick,
      mainMs: ticks(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8')) * msPerTick,
    };
  } catch {
    return undefined;
  }
}
