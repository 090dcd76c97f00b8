import { closesAfterAnswer, endLingering, isLingering, lingerWhenClosed } from './lingering-close';
import { createServer, METHODS, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type Koa from 'koa';
import type { AdminErrorCode } from '@shared/errors';
import { SCIM_CONTENT_TYPE, SCIM_URN } from '@shared/scim/urns';
import { areaOf, type Area } from './areas';
import { latin1AsSent } from './bytes-as-text';
import { awaitContinue } from './expect-continue';
import { reachableUrls, urlHost, type ReachableUrls } from './reachable-address';

/**
 * Room for a request line and headers. Node's default (16 KiB) cut off filters the SCIM layer
 * accepts: 8,192 characters (DEFAULT_FILTER_LIMITS) can take three times that once percent-encoded.
 */
export const MAX_HEADER_BYTES = 64 * 1024;
/** Slow or idle clients must not hold the process open or pin memory. */
const HEADERS_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 120_000;
/**
 * How often Node looks for requests past those limits. Its default, 30 s, answered headers still
 * arriving after 30 s anywhere from 30 to 60 s in; a look each second costs a walk of the
 * connections, a few hundred at most here.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/**
 * How long an idle connection is kept for its next request: longer than the tunnels and proxies an
 * IdP reaches a workstation through keep theirs (cloudflared 90 s, many load balancers 60 s).
 * Node's 5 s closed connections such a proxy still held as open, and a POST it sent on one as it
 * closed was lost (a 502 to the IdP, which does not retry it): the proxy must close first.
 */
const KEEP_ALIVE_TIMEOUT_MS = 120_000;

export interface ListeningAddress {
  host: string;
  port: number;
  /** What it listens on (`http://0.0.0.0:8585` when bound to every interface). */
  url: string;
  /** Where it is reached from this machine and from others (see reachable-address.ts). */
  reachable: ReachableUrls;
}

/** A request the listener answered itself, which the app (and so the request log's capture) never saw. */
export interface ListenerRefusal {
  method: string;
  /** The request target as sent: origin form (`/scim/v2/Users?filter=…`) or absolute. */
  target: string;
  headers: Record<string, string | string[]>;
  status: number;
  answer: { type: string; body: string };
}

export interface HttpListenerOptions {
  /** Told of each refusal whose request line is known, so that the request log shows it too. */
  onRefused?: (refusal: ListenerRefusal) => void;
  /**
   * A count that grows as the server gets work done (the store's commits). During a shutdown a
   * long request that keeps it growing (a Bulk request of a thousand users) is not taken for stuck.
   */
  activity?: () => number;
  /** How long a request's head, and the whole request, may take to arrive (tests shorten them). */
  deadlines?: { headersMs: number; requestMs: number };
}

export interface ShutdownOptions {
  /**
   * How long nothing may move (no request finishes, no response is sent, `activity` stands still)
   * before what is left in flight is taken for stuck and its connections are cut.
   */
  stallMs?: number;
  /** Told how many requests are still being handled, every `progressEveryMs` while there are any. */
  onProgress?: (inFlight: number) => void;
  progressEveryMs?: number;
}

export interface ShutdownOutcome {
  /**
   * Requests given up on because nothing moved for `stallMs`: handlers still running, or answers
   * their clients were not taking (their connections are cut).
   */
  cut: number;
}

/** How often a shutdown looks whether its requests still move. */
const SHUTDOWN_TICK_MS = 100;

type ClientError = NodeJS.ErrnoException & { rawPacket?: Buffer; bytesParsed?: number };
type OnRefused = (refusal: ListenerRefusal) => void;

/** Starting and stopping the listener, kept apart from the app so that tests can use app.callback(). */
export class HttpListener {
  private readonly server: Server;
  private closing: Promise<ShutdownOutcome> | undefined;
  /** Per connection, its newest response not yet sent whole (pipelined requests queue behind it). */
  private readonly newest = new Map<Socket, ServerResponse>();
  /** Per connection being closed, how it was arranged that it ends after a given response. */
  private readonly lastOf = new Map<Socket, LastResponse>();
  /**
   * Handlers still running. Koa goes on with a request whose connection was cut, so the services
   * must not close under it: `close` waits for these, not only for the connections.
   */
  private running = 0;
  /** Per connection, the handler of its newest request, which the next pipelined one waits for. */
  private readonly handlerOf = new Map<Socket, Promise<void>>();
  private onHandlersDone: (() => void) | undefined;
  /** Handlers finished and responses sent whole, so far: a shutdown's sign that requests move. */
  private finished = 0;
  /**
   * Every open connection, for the bytes moving on them (a body uploaded slowly, an export read
   * slowly: no handler finishes meanwhile, yet they move) and for those a shutdown closes at once.
   */
  private readonly connections = new Set<Socket>();
  private readonly activity: () => number;
  private readonly deadlines: { headersMs: number; requestMs: number };
  private readonly onRefused: OnRefused;
  /** Per connection, `bytesRead` when the shutdown began: what came later is no request in flight. */
  private readonly readAtClose = new Map<Socket, number>();

  constructor(app: Koa, options: HttpListenerOptions = {}) {
    const refused = options.onRefused ?? (() => undefined);
    this.onRefused = refused;
    this.activity = options.activity ?? (() => 0);
    this.deadlines = options.deadlines ?? { headersMs: HEADERS_TIMEOUT_MS, requestMs: REQUEST_TIMEOUT_MS };
    const handle = app.callback();
    // Host is checked here rather than by Node (requireHostHeader), whose 400 has no body.
    const serverOptions = {
      maxHeaderSize: MAX_HEADER_BYTES,
      requireHostHeader: false,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      // A request without Host is refused in its turn: refused at once, the connection was marked
      // to end while requests ahead of it still waited to run, and they never ran nor answered.
      const hasHost = Boolean(req.headers.host) || hostSupplied(req);
      this.take(req, res, () => (hasHost ? handle(req, res) : answerMissingHost(req, res, refused)));
    };
    this.server = createServer(serverOptions, onRequest);
    // Left to Node, `Expect: 100-continue` is answered 100 before any code runs, and a body the
    // server then refuses (over its limit, unauthorized) is sent whole for nothing: the body
    // reader sends the 100 once it reads (expect-continue.ts).
    this.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      awaitContinue(req, res);
      onRequest(req, res);
    });
    this.server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) =>
      this.take(req, res, () => answerUnmetExpectation(req, res, refused)),
    );
    this.server.on('connection', (socket: Socket) => {
      this.connections.add(socket);
      quietSince.set(socket, Date.now());
      socket.once('close', () => {
        this.connections.delete(socket);
        this.readAtClose.delete(socket);
      });
    });
    this.server.on('clientError', (error: ClientError, socket: Socket) => this.refuse(error, socket));
    this.server.on('connect', (req: IncomingMessage, socket: Socket) => {
      // Answers go in the order the requests came (RFC 9112 §9.3): a CONNECT pipelined behind a
      // request still being answered waits for that answer, or its 501 was read as that answer.
      const ahead = this.newest.get(socket);
      if (!ahead || ahead.writableFinished) return answerConnect(req, socket, refused);
      ahead.once('finish', () => answerConnect(req, socket, refused));
      ahead.once('close', () => {
        if (!ahead.writableFinished) socket.destroy();
      });
    });
    // Node keeps the first 2,000 headers and silently drops the rest, an If-Match among them, which
    // made a conditional write unconditional. MAX_HEADER_BYTES already bounds what a head may cost.
    this.server.maxHeadersCount = 0;
    this.server.headersTimeout = this.deadlines.headersMs;
    this.server.requestTimeout = this.deadlines.requestMs;
    this.server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  }

  /** Answers a request Node's parser refused, or one past its deadline (see enforceDeadlines). */
  private refuse(error: ClientError, socket: Socket): void {
    const refused = this.onRefused;
    // Node's parser keeps its error and tells it again for every chunk that follows.
    if (refusedConnections.has(socket)) return;
    refusedConnections.add(socket);
    // The refused request is either one pipelined after the newest request the app took (read
    // whole), or that newest request itself, whose body the parser failed in. Answers go in the
    // order the requests came (RFC 9112 §9.3), so the 400 waits for the answers ahead of it:
    // sent at once, it was the only answer on the connection, and a client was told 400 for a
    // user that was made.
    const newest = this.newest.get(socket);
    const own = newest !== undefined && !newest.req.complete;
    const taken = own ? undefined : newest;
    const ahead = own ? answerAhead.get(newest) : newest;
    if (ahead && !ahead.writableFinished) {
      // Two more on an answer that may hold ten (an export's stream): Node's warning at eleven
      // told the server's owner of a leak that is not one.
      ahead.setMaxListeners(ahead.getMaxListeners() + 2);
      ahead.once('finish', () => answerClientError(error, socket, refused, taken));
      ahead.once('close', () => {
        if (!ahead.writableFinished) socket.destroy(error);
      });
      return;
    }
    answerClientError(error, socket, refused, taken);
  }

  /** Takes a parsed request, to be answered by `answer` in its connection's turn. */
  private take(req: IncomingMessage, res: ServerResponse, answer: () => Promise<void> | void): void {
    const socket = req.socket;
    const ahead = this.newest.get(socket);
    if (ahead) answerAhead.set(res, ahead);
    this.newest.set(socket, res);
    res.once('close', () => {
      if (this.newest.get(socket) === res) this.newest.delete(socket);
    });
    res.once('finish', () => {
      this.finished++;
      readWhenAnswered.set(socket, socket.bytesRead);
      quietSince.set(socket, Date.now());
    });
    takenAt.set(res, Date.now());
    const readAtPreviousTake = readAtTake.get(socket) ?? 0;
    readAtTake.set(socket, socket.bytesRead);
    // A request pipelined behind a response that already told the client the connection ends
    // is never answered: it is not run either (its client sends it again on a new connection).
    // Nor is one sent after a shutdown began: each let the connection's end move past its answer,
    // and a client pipelining a request whenever one was answered kept a stopping server up.
    if (this.closing && (!this.beganBeforeClose(socket, readAtPreviousTake) || !this.endAfter(socket, res))) return;
    // Counted from now, queued or not: a shutdown must not see none running between two of them.
    this.running++;
    // Pipelined requests run one after another, in the order they came (RFC 9112 §9.3.2 allows
    // parallel work only when all are safe): run at once, a PUT pipelined after another
    // overtook it and the write the client sent last was lost; a DELETE overtook a PUT before it.
    const previous = this.handlerOf.get(socket);
    // Looked at when its turn comes: the request ahead may be the one that ends the connection.
    const run = async () => (closesAfterAnswer(socket) ? notRun(req) : answer());
    const current: Promise<void> = (previous ? previous.then(run, run) : run()).finally(() => {
      if (this.handlerOf.get(socket) === current) this.handlerOf.delete(socket);
      this.finished++;
      if (--this.running === 0) this.onHandlersDone?.();
    });
    this.handlerOf.set(socket, current);
  }

  listen(host: string, port: number): Promise<ListeningAddress> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const address = this.server.address() as AddressInfo;
        resolve({
          host,
          port: address.port,
          url: `http://${urlHost(host)}:${address.port}`,
          reachable: reachableUrls(host, address.port),
        });
      });
    });
  }

  /**
   * Stops accepting and lets in-flight requests finish, however long they take while they move.
   * Node's `server.close()` closes only the connections idle at that moment: a kept-alive
   * connection in use would go on taking requests. So each connection ends after the newest
   * response it has to send, which says `Connection: close`. A fixed grace would cut requests that
   * were merely queued (200 password writes take half a minute on two cores, and were cut at 10 s
   * with everything saved but no client told): only when nothing has moved for `stallMs` (a hung
   * disk, a client that stopped reading) are the remaining connections cut. Resolves once no
   * handler runs any more (or a second `stallMs` has passed after the cut).
   */
  close(options: ShutdownOptions = {}): Promise<ShutdownOutcome> {
    this.closing ??= this.shutdown(options);
    return this.closing;
  }

  private async shutdown({
    stallMs = 10_000,
    onProgress,
    progressEveryMs = 5_000,
  }: ShutdownOptions): Promise<ShutdownOutcome> {
    if (!this.server.listening) return { cut: 0 };
    const closedAt = Date.now();
    for (const socket of this.connections) this.readAtClose.set(socket, socket.bytesRead);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const [socket, res] of this.newest) this.endAfter(socket, res);
    this.server.closeIdleConnections();
    // A connection with nothing to answer and nothing sent since its last answer ends now (Node's
    // closeIdleConnections leaves one that never sent a byte open, and the close waited 10 s for
    // the stall cut). One part-way through a request's head goes on: the request is in flight.
    for (const socket of this.connections) {
      if (isLingering(socket)) socket.destroy();
      else if (!this.newest.has(socket) && !receiving(socket)) socket.destroySoon();
    }
    let settled = false;
    const done = Promise.all([closed, this.handlersDone()]).then(() => (settled = true));
    const motion = () => this.finished + this.activity() + this.bytesMoved();
    let seen = motion();
    let movedAt = Date.now();
    let toldAt = movedAt;
    for (;;) {
      await within(done, SHUTDOWN_TICK_MS);
      if (settled) return { cut: 0 };
      const now = Date.now();
      this.enforceDeadlines(closedAt, now);
      const current = motion();
      if (current !== seen) {
        seen = current;
        movedAt = now;
      } else if (now - movedAt >= stallMs) break;
      if (now - toldAt >= progressEveryMs && this.inFlight() > 0) {
        toldAt = now;
        onProgress?.(this.inFlight());
      }
    }
    // Handlers still at work (some for clients that went away) or answers not yet taken.
    const cut = this.inFlight();
    this.server.closeAllConnections();
    // A handler stuck for good must not hold the process: past a second stallMs the services
    // close under it, and it fails rather than waits.
    await within(done, stallMs);
    return { cut };
  }

  /**
   * Requests not yet answered whole: handlers at work, answers still being sent (an export's
   * handler returns once its stream is handed over), and heads still coming in.
   */
  private inFlight(): number {
    let heads = 0;
    for (const socket of this.connections) {
      if (!this.newest.has(socket) && receiving(socket) && !isLingering(socket)) heads++;
    }
    return Math.max(this.running, this.newest.size) + heads;
  }

  /** Bytes read and written on the open connections (it only has to change while they move). */
  private bytesMoved(): number {
    let bytes = 0;
    // Not what a lingering close drains: nothing is in flight there, and a client trickling into
    // one would look like a request that moves.
    for (const socket of this.connections) if (!isLingering(socket)) bytes += socket.bytesRead + socket.bytesWritten;
    return bytes;
  }

  /**
   * Makes `res` the last response of its connection, in place of an earlier one (the responses
   * before it must still be sent). False when the earlier one has already said `Connection: close`.
   */
  private endAfter(socket: Socket, res: ServerResponse): boolean {
    const earlier = this.lastOf.get(socket);
    if (earlier && !earlier.revoke()) return false;
    this.lastOf.set(socket, lastResponse(res, socket));
    return true;
  }

  /**
   * Whether the request just taken on `socket` began before the shutdown: bytes came after the
   * previous request's head (or after the connection opened) and before the shutdown. A request
   * whose body was still arriving then may let one more through; the next one is refused.
   */
  private beganBeforeClose(socket: Socket, readAtPreviousTake: number): boolean {
    const readAtClose = this.readAtClose.get(socket);
    return readAtClose === undefined || readAtPreviousTake < readAtClose;
  }

  /**
   * Node's deadlines for a request to arrive, kept during a shutdown: `server.close()` stops the
   * timer that enforces them (connectionsCheckingInterval), and a client trickling a byte every few
   * seconds moved enough never to look stalled, holding the stop for as long as it liked. A head
   * counts from its connection's last answer or the shutdown, whichever is later; a request from
   * when its head was taken. Past either it is answered 408, as Node would have.
   */
  private enforceDeadlines(closedAt: number, now: number): void {
    for (const socket of this.connections) {
      if (refusedConnections.has(socket) || isLingering(socket)) continue;
      const res = this.newest.get(socket);
      const late = res
        ? !res.req.complete && now - (takenAt.get(res) ?? now) >= this.deadlines.requestMs
        : receiving(socket) && now - Math.max(closedAt, quietSince.get(socket) ?? closedAt) >= this.deadlines.headersMs;
      if (late) this.refuse(Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket);
    }
  }

  private handlersDone(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => (this.onHandlersDone = resolve));
  }
}

/**
 * A request on a connection that ends after the answer ahead of it: never run nor answered, and its
 * body read and dropped until the connection goes.
 */
function notRun(req: IncomingMessage): Promise<void> {
  req.resume();
  return Promise.resolve();
}

/** Whether a request's head is coming in on a connection the app has no request of. */
function receiving(socket: Socket): boolean {
  return socket.bytesRead > (readWhenAnswered.get(socket) ?? 0);
}

/** Waits for `done` but at most `ms`, leaving no timer behind to hold the process. */
function within(done: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([done, timeUp]).then(() => clearTimeout(timer));
}

interface LastResponse {
  /** Lets the connection go on after this response; false once that can no longer be undone. */
  revoke(): boolean;
}

/** Ends the connection once `res` is sent: by its header if not yet written, else by hand. */
function lastResponse(res: ServerResponse, socket: Socket): LastResponse {
  // Sent whole already, its `close` not yet told: nothing is left to wait for.
  if (res.writableFinished) {
    socket.end();
    return { revoke: () => false };
  }
  if (!res.headersSent) {
    // Node then writes `Connection: close` and ends the connection after the response. (A header
    // set by hand would not do: Koa removes every header when it answers an error.)
    res.shouldKeepAlive = false;
    return {
      revoke: () => {
        if (res.headersSent) return false;
        res.shouldKeepAlive = true;
        return true;
      },
    };
  }
  let ended = false;
  const end = () => {
    ended = true;
    socket.end();
  };
  res.once('finish', end);
  return {
    revoke: () => {
      res.off('finish', end);
      return !ended;
    },
  };
}

/** Connections whose parser refused a request: it is answered once. */
const refusedConnections = new WeakSet<Socket>();
/** Per response, the one before it on its connection (pipelined requests are answered in turn). */
const answerAhead = new WeakMap<ServerResponse, ServerResponse>();
/** Per connection, the bytes read when its last answer was sent: more since is a request coming in. */
const readWhenAnswered = new WeakMap<Socket, number>();
/** Per connection, when it opened or last sent an answer whole: a head coming in began later. */
const quietSince = new WeakMap<Socket, number>();
/** Per connection, the bytes read when its newest request was taken (its head had arrived). */
const readAtTake = new WeakMap<Socket, number>();
/** Per response, when its request was taken. */
const takenAt = new WeakMap<ServerResponse, number>();

/**
 * Requests Node's HTTP parser refuses never reach the app. Node's own answers have no body; these
 * say what was wrong, in the error format of the path the request was for (RFC 7644 §3.12 on SCIM
 * paths), as every other failure does.
 */
function answerClientError(error: ClientError, socket: Socket, refused: OnRefused, taken?: ServerResponse): void {
  // As Node decides: an answer only while no response is half-written on this connection (an
  // earlier response on a kept-alive connection is complete and does not count).
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent: boolean } | null })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy(error);
    return;
  }
  const packet = taken ? refusedRequestIn(error, taken.req) : error.rawPacket;
  const area = areaOfPacket(packet);
  // A request the app is handling is logged by its capture (see listenerAnswerOn); any other only here.
  const tell = (status: number, [type, body]: [string, string]) => {
    if (!inFlight) reportPacket(packet, status, { type, body }, refused);
  };
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    const answer = errorBody(
      area,
      431,
      `The request line and headers are over ${MAX_HEADER_BYTES / 1024} KiB.` +
        // Only SCIM has a filter to move: the console's sign-in with a pasted 70 KB token was told to.
        // The chunk the parser failed in names the path only when the request came in one piece.
        (area !== 'scim'
          ? ''
          : pathInPacket(packet) === undefined
            ? ' If it is a SCIM list, send its filter in the body of POST .search (RFC 7644 §3.4.3) instead of the URL.'
            : ' Send a long filter in the body of POST .search (RFC 7644 §3.4.3) instead of the URL.'),
    );
    tell(431, answer);
    endLingering(socket, rawAnswer(431, 'Request Header Fields Too Large', ...answer));
    return;
  }
  const [status, reason, detail] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? ([
          408,
          'Request Timeout',
          `The request did not arrive in time: headers are read for at most ${HEADERS_TIMEOUT_MS / 1000} s ` +
            `and a whole request for at most ${REQUEST_TIMEOUT_MS / 1000} s.`,
        ] as const)
      : error.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
        ? ([413, 'Payload Too Large', 'The chunk extensions of the request body are over 16 KiB.'] as const)
        : error.code === 'HPE_INVALID_EOF_STATE'
          ? // The client stopped sending mid-request (Node's reason is "Invalid EOF state").
            ([400, 'Bad Request', 'The connection was closed before the whole request arrived.'] as const)
          : error.code === 'HPE_INVALID_METHOD'
            ? // A method token Node's parser does not know (FOO) is as unsupported as one it knows
              // but no route has (PROPFIND, answered 501 by the routers): RFC 9110 §9.1.
              ([501, 'Not Implemented', `The server does not support the ${methodIn(packet)} method.`] as const)
            : ([400, 'Bad Request', `The request is not valid HTTP/1.1: ${parserReason(error)}.`] as const);
  const [type, body] = errorBody(area, status, detail);
  tell(status, [type, body]);
  answeredHere.set(socket, { status, type, body });
  endLingering(socket, rawAnswer(status, reason, type, body));
}

/**
 * CONNECT asks for a tunnel, which Node hands over as a raw socket and, with no one to take it,
 * closed without a word. It is a method this server does not support: a 501 in the path's format,
 * filed in the request log like the listener's other refusals.
 */
function answerConnect(req: IncomingMessage, socket: Socket, refused: OnRefused): void {
  const head = [`${req.method ?? 'CONNECT'} ${req.url ?? ''} HTTP/1.1`];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) head.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  const packet = Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1');
  const [type, body] = errorBody(areaOfPacket(packet), 501, 'The server does not support the CONNECT method.');
  reportPacket(packet, 501, { type, body }, refused);
  socket.on('error', () => undefined);
  // Node's timers no longer watch a socket handed over for a tunnel, and a client that keeps its
  // side open held it, and a shutdown waited for it, until the stall cut: read and drop what it
  // sends, and close it after a moment, as the parser's refusals do.
  endLingering(socket, rawAnswer(501, 'Not Implemented', type, body));
}

/** What the listener answered itself on a connection, instead of the app. */
export interface ListenerAnswer {
  status: number;
  type: string;
  body: string;
}

const answeredHere = new WeakMap<Socket, ListenerAnswer>();

/**
 * The answer the listener sent on this connection, if it sent one. A request whose body was still
 * arriving when its time ran out reached the app, which then fails to read the body; the client
 * was told 408, and the request log must say so, not the app's answer that was never sent.
 */
export function listenerAnswerOn(socket: Socket): ListenerAnswer | undefined {
  return answeredHere.get(socket);
}

/**
 * Tells the request log of a request the parser refused, when the chunk it failed in starts with
 * the request line (a whole request usually comes in one): method, target and the header lines
 * that are complete. Without a request line there is nothing to file it under, and it is not told.
 */
function reportPacket(
  rawPacket: Buffer | undefined,
  status: number,
  answer: ListenerRefusal['answer'],
  refused: OnRefused,
): void {
  const text = rawPacket?.toString('latin1', 0, MAX_HEADER_BYTES + 1024) ?? '';
  const line = /^([A-Z]+) (\S+) HTTP\/\d\.\d\r?\n/.exec(text);
  if (!line) return;
  // The header lines up to the blank line: the body is not read.
  const head = text.slice(line[0].length).split(/\r?\n\r?\n/, 1)[0] ?? '';
  const headers: Record<string, string | string[]> = {};
  for (const [, name, value] of `${head}\n`.matchAll(/^([^\s:]+):[ \t]*(.*?)[ \t]*\r?\n/gm)) {
    const key = name!.toLowerCase();
    const known = headers[key];
    const shown = latin1AsSent(value!);
    headers[key] = known === undefined ? shown : [...(Array.isArray(known) ? known : [known]), shown];
  }
  try {
    refused({ method: line[1]!, target: latin1AsSent(line[2]!), headers, status, answer });
  } catch {
    // An event handler of the server must not throw: that would end the process.
  }
}

/** A request line anywhere in a chunk: a request pipelined behind a body follows its last byte. */
const REQUEST_LINE = new RegExp(`(?:${METHODS.join('|')}) \\S+ HTTP/\\d\\.\\d\\r?\\n`, 'g');

/**
 * The part of the chunk the parser failed in that holds the refused request, when requests the app
 * took came in the same chunk before it: from the last request line before where parsing stopped.
 * When that line is the one of the last request the app took (the refused request has no line it
 * can read: an unknown method, a malformed target), nothing: that request is logged already, with
 * the answer it got.
 */
function refusedRequestIn(error: ClientError, taken: IncomingMessage): Buffer | undefined {
  const { rawPacket, bytesParsed } = error;
  if (!rawPacket || bytesParsed === undefined) return undefined;
  const before = rawPacket.toString('latin1', 0, Math.min(bytesParsed + 1, rawPacket.length));
  let last: RegExpExecArray | undefined;
  for (const m of before.matchAll(REQUEST_LINE)) last = m;
  if (!last || last[0].startsWith(`${taken.method} ${taken.url} `)) return undefined;
  return rawPacket.subarray(last.index);
}

/**
 * The area of the path in `rawPacket`, the chunk the parser failed in, which holds the request
 * line only when it came in one piece. Without it the request is taken for SCIM: IdPs and scripts
 * send what the parser refuses (over-long filters, odd framing); the admin API and console do not.
 */
function areaOfPacket(rawPacket: Buffer | undefined): Area {
  const path = pathInPacket(rawPacket);
  return path === undefined ? 'scim' : areaOf(path);
}

function pathInPacket(rawPacket: Buffer | undefined): string | undefined {
  return /^[A-Z]+ ([^ ?\r\n]*)/.exec(rawPacket?.toString('latin1', 0, 2048) ?? '')?.[1];
}

/** The method a refused request line names, as far as it is a token (RFC 9110 §5.6.2). */
function methodIn(rawPacket: Buffer | undefined): string {
  const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}(?= )/.exec(rawPacket?.toString('latin1', 0, 64) ?? '')?.[0];
  return token ?? 'requested';
}

/** Node's reason ("Parse Error: Invalid header value char"), without its prefix. */
function parserReason(error: Error & { reason?: unknown }): string {
  const reason = typeof error.reason === 'string' ? error.reason : error.message.replace(/^Parse Error:\s*/, '');
  return reason.replace(/\.$/, '') || 'the parser refused it';
}

/** The admin API's `code` for what the listener answers itself (DESIGN.md §3: `{ detail, code }`). */
const ADMIN_CODES: Partial<Record<number, AdminErrorCode>> = {
  400: 'bad_request',
  408: 'request_timeout',
  413: 'payload_too_large',
  417: 'expectation_failed',
  431: 'payload_too_large',
  501: 'not_implemented',
};

/**
 * An `Expect` other than `100-continue` (RFC 9110 §10.1.1: 417). Node's own 417 has no body; this
 * one says what was wrong, in the path's error format.
 */
function answerUnmetExpectation(req: IncomingMessage, res: ServerResponse, refused: OnRefused): void {
  answerItself(
    req,
    res,
    417,
    `The server cannot meet "Expect: ${req.headers.expect ?? ''}"; only "Expect: 100-continue" is understood.`,
    refused,
  );
}

/**
 * Every URL the server hands out (`Location`, `meta.location`, `$ref`) is built from `Host`. HTTP/1.1
 * requires it (RFC 9112 §3.2); an HTTP/1.0 client may leave it out, and then reached the server at
 * the socket's own address, which is filled in. False when the request cannot go on without it.
 */
function hostSupplied(req: IncomingMessage): boolean {
  const { localAddress, localPort } = req.socket;
  if (req.httpVersion !== '1.0' || localAddress === undefined || localPort === undefined) return false;
  req.headers.host = `${urlHost(localAddress.replace(/^::ffff:/, ''))}:${localPort}`;
  return true;
}

function answerMissingHost(req: IncomingMessage, res: ServerResponse, refused: OnRefused): void {
  answerItself(
    req,
    res,
    400,
    'The request has no Host header, which HTTP/1.1 requires (RFC 9112 §3.2): the URLs in answers are built from it.',
    refused,
  );
}

/** Answers a parsed request the app never sees, in its path's error format, closing the connection. */
function answerItself(req: IncomingMessage, res: ServerResponse, status: number, detail: string, refused: OnRefused) {
  const [type, body] = errorBody(areaOf(pathOf(req.url ?? '/')), status, detail);
  reportRequest(req, status, { type, body }, refused);
  lingerWhenClosed(req.socket);
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'X-Content-Type-Options': 'nosniff',
    Connection: 'close',
  });
  res.end(body);
}

/** Tells the request log of a parsed request the listener answered itself. */
function reportRequest(req: IncomingMessage, status: number, answer: ListenerRefusal['answer'], refused: OnRefused) {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = value;
  try {
    refused({ method: req.method ?? 'GET', target: req.url ?? '/', headers, status, answer });
  } catch {
    // An event handler of the server must not throw: that would end the process.
  }
}

/** The path of a request target (origin or absolute form); a malformed one is read up to its `?`. */
function pathOf(target: string): string {
  try {
    return new URL(target, 'http://host').pathname;
  } catch {
    // An event handler of the server must not throw: that would end the process.
    return target.split('?')[0] ?? target;
  }
}

function rawAnswer(status: number, reason: string, type: string, body: string): string {
  return (
    `HTTP/1.1 ${status} ${reason}\r\n` +
    `Content-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`
  );
}

/** The Content-Type and body of an error in the area's format (RFC 7644 §3.12 on SCIM paths). */
function errorBody(area: Area, status: number, detail: string): [string, string] {
  const code = ADMIN_CODES[status];
  return area === 'scim'
    ? [
        `${SCIM_CONTENT_TYPE}; charset=utf-8`,
        JSON.stringify({ schemas: [SCIM_URN.error], status: String(status), detail }),
      ]
    : area === 'admin'
      ? ['application/json; charset=utf-8', JSON.stringify(code ? { detail, code } : { detail })]
      : ['text/plain; charset=utf-8', detail];
}

/** Host names are case-insensitive (RFC 4343): `--host LOCALHOST` is loopback too. */
export function isLoopback(host: string): boolean {
  const name = host.toLowerCase();
  return name === 'localhost' || name === '::1' || /^127\./.test(name);
}
