import { randomBytes, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * scrypt password hashing on a small pool of worker threads (DESIGN.md §4).
 *
 * Why not `crypto.scrypt` (async): it runs on libuv's threadpool, the same four threads that serve
 * fs work — so a burst of password writes would queue the journal's fsync behind 50 ms hashes and
 * stall every acknowledgement. Worker threads running `scryptSync` keep hashing off both the event
 * loop and the threadpool, and the pool size bounds how much CPU hashing may take.
 *
 * The worker's code is passed as a string (`eval: true`) so that the same module works from the
 * bundled build, from the TypeScript sources under vitest, and in the crash-test children.
 */

/** OWASP's scrypt minimum (N=2^17, r=8, p=1) costs ~128 MiB per hash; this is the interactive profile. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  keyLength: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1, keyLength: 32 };

export class PasswordHasherBusyError extends Error {
  override readonly name = 'PasswordHasherBusyError';
  constructor(
    message: string,
    /** About how long the hashes already waiting will take. */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export interface PasswordHasherOptions {
  /** Worker threads; default: one less than the cores, at least one, at most four. */
  workers?: number;
  /** Hashes waiting beyond this are refused at once rather than queued for minutes. */
  maxQueued?: number;
  /**
   * A hash that would wait longer than this (by the recent time per hash) is refused at once too:
   * on a two-core machine one worker takes ~90 ms a hash, so 1,000 waiting meant 90 s.
   */
  maxWaitMs?: number;
  params?: ScryptParams;
}

export interface HashOptions {
  /**
   * Wait in the queue however long it is, rather than be refused as busy: for a caller that adds
   * one hash at a time (a Bulk request's operations run in sequence), whose refusal would fail what
   * depends on it rather than be retried.
   */
  inTurn?: boolean;
}

export interface PasswordHasher {
  /** Encoded as `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (PHC string format, base64 without padding). */
  hash(password: string, options?: HashOptions): Promise<string>;
  verify(password: string, encoded: string, options?: HashOptions): Promise<boolean>;
  close(): Promise<void>;
}

/** The time per hash assumed until one is measured (this machine's two cores take ~100 ms). */
const ASSUMED_MS_PER_HASH = 100;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
parentPort.on('message', ({ id, password, salt, N, r, p, keyLength }) => {
  try {
    const maxmem = 256 * N * r + 1024 * 1024;
    const hash = scryptSync(password, Buffer.from(salt, 'base64'), keyLength, { N, r, p, maxmem });
    parentPort.postMessage({ id, hash: hash.toString('base64') });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});
`;

interface Job {
  id: number;
  password: string;
  salt: string;
  params: ScryptParams;
  resolve: (hash: Buffer) => void;
  reject: (error: Error) => void;
  /** When a worker took it (performance.now()), for the time per hash. */
  startedAt?: number;
}

interface WorkerReply {
  id: number;
  hash?: string;
  error?: string;
}

export function createPasswordHasher(options: PasswordHasherOptions = {}): PasswordHasher {
  const size = options.workers ?? Math.min(4, Math.max(1, availableParallelism() - 1));
  const maxQueued = options.maxQueued ?? 1000;
  const maxWaitMs = options.maxWaitMs ?? 10_000;
  /** Recent milliseconds per hash (a moving average); 0 until one has finished. */
  let msPerHash = 0;
  // Until a hash is measured, one is assumed to take ASSUMED_MS_PER_HASH: assumed free, the first
  // burst after a start (an IdP's first sync) was queued whole, 400 creates answered after 40 s.
  const expectedWaitMs = () => (queue.length * (msPerHash || ASSUMED_MS_PER_HASH)) / size;
  const params = options.params ?? DEFAULT_SCRYPT;
  const idle: Worker[] = [];
  const busy = new Map<Worker, Job>();
  const queue: Job[] = [];
  let nextId = 1;
  let closed = false;

  const spawnWorker = (): Worker => {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    // A job handed over before the thread ran is timed from when it could start: the thread's own
    // start made the first hash look a third slower.
    worker.once('online', () => {
      const job = busy.get(worker);
      if (job) job.startedAt = performance.now();
    });
    worker.on('message', (reply: WorkerReply) => {
      const job = busy.get(worker);
      busy.delete(worker);
      if (job?.startedAt !== undefined) {
        const took = performance.now() - job.startedAt;
        msPerHash = msPerHash === 0 ? took : msPerHash * 0.8 + took * 0.2;
      }
      if (job && job.id === reply.id) {
        if (reply.hash !== undefined) job.resolve(Buffer.from(reply.hash, 'base64'));
        else job.reject(new Error(`password hashing failed: ${reply.error ?? 'unknown error'}`));
      }
      idle.push(worker);
      pump();
    });
    worker.on('error', (error) => {
      // A crashed worker fails its job, not the pool: it is replaced.
      const job = busy.get(worker);
      busy.delete(worker);
      job?.reject(error);
      if (!closed) {
        idle.push(spawnWorker());
        pump();
      }
    });
    return worker;
  };
  for (let i = 0; i < size; i++) idle.push(spawnWorker());
  // One hash at the start measures this machine before the first burst comes.
  queue.push({
    id: nextId++,
    password: 'measuring',
    salt: randomBytes(16).toString('base64'),
    params,
    resolve: () => undefined,
    reject: () => undefined,
  });
  pump();

  function pump(): void {
    while (idle.length > 0 && queue.length > 0) {
      const worker = idle.pop() as Worker;
      const job = queue.shift() as Job;
      busy.set(worker, job);
      job.startedAt = performance.now();
      worker.ref();
      worker.postMessage({ id: job.id, password: job.password, salt: job.salt, ...job.params });
    }
    for (const worker of idle) worker.unref();
  }

  function derive(password: string, salt: Buffer, jobParams: ScryptParams, inTurn = false): Promise<Buffer> {
    if (closed) return Promise.reject(new Error('the password hasher is closed'));
    if (!inTurn && (queue.length >= maxQueued || expectedWaitMs() > maxWaitMs)) {
      const waitSeconds = Math.max(1, expectedWaitMs() / 1000);
      return Promise.reject(
        new PasswordHasherBusyError(`${queue.length} password hashes are already waiting`, waitSeconds),
      );
    }
    return new Promise((resolve, reject) => {
      queue.push({ id: nextId++, password, salt: salt.toString('base64'), params: jobParams, resolve, reject });
      pump();
    });
  }

  return {
    async hash(password, options = {}) {
      const salt = randomBytes(16);
      const hash = await derive(password, salt, params, options.inTurn);
      return encode(params, salt, hash);
    },
    async verify(password, encoded, options = {}) {
      const parsed = decode(encoded);
      if (!parsed) return false;
      const hash = await derive(password, parsed.salt, parsed.params, options.inTurn);
      return hash.length === parsed.hash.length && timingSafeEqual(hash, parsed.hash);
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(new Error('the password hasher is closed'));
      await Promise.all([...idle, ...busy.keys()].map((worker) => worker.terminate()));
    },
  };
}

function b64(buffer: Buffer): string {
  return buffer.toString('base64').replace(/=+$/, '');
}

function encode(params: ScryptParams, salt: Buffer, hash: Buffer): string {
  return `$scrypt$ln=${Math.log2(params.N)},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

const ENCODED = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function decode(encoded: string): { params: ScryptParams; salt: Buffer; hash: Buffer } | undefined {
  const match = ENCODED.exec(encoded);
  if (!match) return undefined;
  const [, ln, r, p, salt, hash] = match;
  // The pattern has five groups, none optional; this only tells the compiler so.
  if (ln === undefined || r === undefined || p === undefined || salt === undefined || hash === undefined) {
    return undefined;
  }
  const hashBytes = Buffer.from(hash, 'base64');
  // Bounds keep a tampered store from asking a worker for gigabytes of memory.
  if (Number(ln) < 10 || Number(ln) > 20 || Number(r) > 32 || Number(p) > 16) return undefined;
  return {
    params: { N: 2 ** Number(ln), r: Number(r), p: Number(p), keyLength: hashBytes.length },
    salt: Buffer.from(salt, 'base64'),
    hash: hashBytes,
  };
}
