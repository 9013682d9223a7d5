// The Watch stream: takes a target and gives WatchUpdates, owning the stream
// and reconnecting (channel.ts makes each client: keepalive, TLS, token).
//
// Lifecycle (k9s' model updater, in gRPC terms):
//   - The first attempt fails fast (no waitForReady): a wrong target must give
//     the user one line at once, not a spinner. start() rejects then, and
//     when the peer does not answer within helloDeadlineMs, or answers but
//     sends no Hello within firstMessageDeadlineMs (a slow link needs time).
//   - Once a Hello has arrived, a broken stream (agent killed, restarted,
//     closed) is re-issued with exponential backoff, re-resolving the target
//     each time (a restarted agent may have a new socket); every wait is
//     announced as `reconnecting` with its reason and the time of the next try.
//   - Some errors are final and end the watch with `failed`: a schema
//     mismatch, a refused token, a target that cannot come back (its pid has
//     exited).
//   - Each attempt gets a fresh grpc.Client, so grpc-js' own channel backoff
//     never delays a retry past the one announced.
//   - Capture, Expand, Path and Members (queries.ts) go to the client of the stream
//     that is up; while there is none they fail at once with a reason, and
//     a reconnect cancels those in flight.
import grpc from '@grpc/grpc-js';
import {HeaptopService, WatchEvent} from '../gen/heaptop/v1/heaptop.js';
import {ProtocolError, clientSchemaVersion, toUpdate, type Hello, type WatchUpdate} from './events.js';
import {TargetError, resolveTarget, type Endpoint, type TargetSpec} from './target.js';
import {discoveryDir} from './discovery.js';
import {localAccess, newClient, sendsToken, tokenVariable, type Access} from './channel.js';
import {shown} from './text.js';
import type {GroupsPage, HeapSnapshot, Hop, ListName, MembersPage, TreeNode} from './heap.js';
import {
	QueryError,
	captureRequest,
	decodeCapture,
	decodeExpand,
	decodeGroups,
	decodeMembers,
	decodePath,
	encodeRequest,
	expandRequest,
	groupsRequest,
	membersRequest,
	pathRequest,
	unary,
	type CallName,
	type CaptureOptions,
	type HeapQueries,
	type PathOf,
	type RecordedCall,
} from './queries.js';

/** How much of a peer's error message a line quotes. */
const maxPeerText = 200;

/**
 * How long start() waits for the first Hello. Our agent sends it as soon as
 * the stream opens (a few ms on a unix socket); this bounds a peer that
 * accepts the connection and never answers, or a TCP connect into a void.
 */
export const helloDeadlineMs = 10_000;

/**
 * How long the first Hello may take once the agent has answered (its
 * response headers arrived): the Hello carries the recent history, ~18 KB
 * for the default 300 ticks of the demo, which a slow link (an SSH hop over
 * a mobile network) needs far more than helloDeadlineMs for; 60 s is 300 B/s.
 */
export const firstMessageDeadlineMs = 60_000;

/** Reconnect backoff: 250 ms doubling to 5 s; reset by every Hello. */
export const backoff = {initialMs: 250, maxMs: 5_000, factor: 2} as const;

/** Anything that can drive the store and answer its queries: a live Watch or a Replay. */
export interface UpdateSource extends HeapQueries {
	/** Starts delivering updates; resolves with the first Hello, rejects with a one-line Error. */
	start(listener: (update: WatchUpdate) => void): Promise<Hello>;
	/** Stops; no update is delivered afterwards. Safe to call more than once. */
	close(): void;
}

export type WatchOptions = {
	readonly target: TargetSpec;
	/** Discovery directory; defaults to discoveryDir(). */
	readonly dir?: string;
	/** Called with the exact bytes of every WatchEvent received (for --record). */
	readonly onMessage?: (bytes: Uint8Array) => void;
	/** Called with every query and its answer, as exchanged (for --record). */
	readonly onCall?: (call: RecordedCall) => void;
	/** TLS and the token for a TCP target; defaults to localAccess (neither). */
	readonly access?: Access;
};

/** The stream could not be set up or was refused for good; the message is one line for the user. */
export class ConnectionError extends Error {}

/**
 * grpc-js' account of why a connection failed, without its wrapping ("No
 * connection established. Last error: Error: … Resolution note: "), its
 * timestamps and OpenSSL's source positions: the first line of the cause.
 */
function lastError(details: string): string {
	return details
		.replace(/^No connection established\. Last error: /, '')
		.replace(/\.? ?Resolution note: [^]*$/, '')
		.replace(/^Error: /, '')
		.replace(/^Failed to connect \([^)]*\)/, 'Failed to connect')
		.split('\n')[0]!
		.trim();
}

/** A connection failure or refusal, phrased for one line. */
function describe(error: grpc.ServiceError, endpoint: Endpoint, access: Access): string {
	const {label} = endpoint;
	// What the peer said is quoted, not trusted: one line, no control characters.
	const d = shown(error.details || error.message, maxPeerText);
	const tls = endpoint.transport === 'tcp' && access.tls;
	if (error.code === grpc.status.UNAUTHENTICATED) {
		if (!sendsToken(endpoint, access)) return `${label} requires a token: set $${tokenVariable} or pass --token-file FILE`;
		return `${label} refused the token from ${access.tokenSource}: ${d}`;
	}
	if (error.code === grpc.status.UNAVAILABLE) {
		const cause = lastError(error.details || error.message);
		if (/ECONNREFUSED/.test(cause)) return `cannot connect to ${label}: connection refused`;
		if (/ENOENT/.test(cause)) return `cannot connect to ${label}: no such socket`;
		if (/EACCES|EPERM/.test(cause)) return `cannot connect to ${label}: permission denied`;
		if (/ENOTFOUND|EAI_AGAIN/.test(cause)) return `cannot connect to ${label}: unknown host`;
		if (tls && /wrong version number|packet length too long|unexpected eof|ECONNRESET|socket disconnected/i.test(cause)) {
			return `cannot connect to ${label}: the TLS handshake failed (${cause.replace(/^.*SSL routines:[^:]*:/, '').replace(/:.*$/, '')}); does the agent serve TLS there?`;
		}
		if (tls && /certificate|altnames/i.test(cause)) return `cannot connect to ${label}: TLS: ${shown(cause, maxPeerText)} (trust the agent's CA with --ca FILE)`;
		if (endpoint.transport === 'tcp' && !tls && /^Failed to connect$/.test(cause)) {
			return `cannot connect to ${label}: the agent closed the connection before HTTP/2 began; if it serves TLS, use --tls`;
		}
		return `cannot connect to ${label}: ${shown(cause, maxPeerText)}`;
	}
	if (error.code === grpc.status.UNIMPLEMENTED) return `${label} does not serve heaptop (no heaptop.v1.Heaptop/Watch)`;
	// The agent's refusals (a schema mismatch names both versions) are already one line for the user.
	if (error.code === grpc.status.FAILED_PRECONDITION) return `${label}: ${d}`;
	return `${label}: ${grpc.status[error.code] ?? error.code}: ${d}`;
}

/** Errors that another attempt cannot fix. */
function isFinal(error: grpc.ServiceError): boolean {
	return error.code === grpc.status.FAILED_PRECONDITION || error.code === grpc.status.UNIMPLEMENTED || error.code === grpc.status.UNAUTHENTICATED;
}

export class Watch implements UpdateSource {
	private readonly options: WatchOptions;
	private listener: (update: WatchUpdate) => void = () => {};
	private client: grpc.Client | undefined;
	private call: grpc.ClientReadableStream<{bytes: Uint8Array; event: WatchEvent}> | undefined;
	private timer: NodeJS.Timeout | undefined;
	private closed = false;
	/** Failed attempts since the last Hello; sets the next backoff. */
	private failures = 0;
	private everConnected = false;
	private lastPid: number | undefined;
	/** The target error of the first attempt, handed to start()'s caller as is. */
	private firstError: TargetError | undefined;
	/** Called when a stream's response headers arrive; start() sets it until the first Hello. */
	private onAnswer: () => void = () => {};
	/** The client of the stream that has delivered its Hello and is still up: queries go there. */
	private connected: grpc.Client | undefined;

	constructor(options: WatchOptions) {
		this.options = options;
	}

	start(listener: (update: WatchUpdate) => void): Promise<Hello> {
		return new Promise((resolve, reject) => {
			let settled = false;
			let address = '';
			const giveUp = (ms: number, why: () => string) =>
				setTimeout(() => {
					settled = true;
					this.close();
					reject(new ConnectionError(why()));
				}, ms);
			let deadline = giveUp(helloDeadlineMs, () => `no answer from ${address || 'the agent'} within ${helloDeadlineMs / 1000} s`);
			this.onAnswer = () => {
				if (settled) return;
				this.onAnswer = () => {};
				clearTimeout(deadline);
				deadline = giveUp(firstMessageDeadlineMs, () => `${address} answered, but its first message did not arrive within ${firstMessageDeadlineMs / 1000} s (a slow link?)`);
			};
			this.listener = update => {
				if (this.closed) return;
				if (!settled) {
					if (update.kind === 'connecting') address = update.address;
					if (update.kind === 'hello') {
						settled = true;
						clearTimeout(deadline);
						resolve(update.hello);
					} else if (update.kind === 'failed') {
						settled = true;
						clearTimeout(deadline);
						this.close();
						reject(this.firstError ?? new ConnectionError(update.reason));
						return;
					}
				}
				listener(update);
			};
			this.attempt();
		});
	}

	close(): void {
		this.closed = true;
		clearTimeout(this.timer);
		this.call?.cancel();
		this.client?.close();
		this.call = undefined;
		this.client = undefined;
		this.connected = undefined;
	}

	capture(options: CaptureOptions): Promise<HeapSnapshot> {
		return this.query('Capture', encodeRequest('Capture', captureRequest(options))).then(decodeCapture);
	}

	expand(snapshotId: number, node: number, offset: number, limit?: number): Promise<readonly TreeNode[]> {
		return this.query('Expand', encodeRequest('Expand', expandRequest(snapshotId, node, offset, limit))).then(decodeExpand);
	}

	path(snapshotId: number, of: PathOf): Promise<readonly Hop[]> {
		return this.query('Path', encodeRequest('Path', pathRequest(snapshotId, of))).then(decodePath);
	}

	members(snapshotId: number, groupKey: string, offset: number, limit?: number): Promise<MembersPage> {
		return this.query('Members', encodeRequest('Members', membersRequest(snapshotId, groupKey, offset, limit))).then(decodeMembers);
	}

	groups(snapshotId: number, list: ListName, filter: string, offset: number, limit?: number): Promise<GroupsPage> {
		return this.query('Groups', encodeRequest('Groups', groupsRequest(snapshotId, list, filter, offset, limit))).then(decodeGroups);
	}

	private query(call: CallName, request: Uint8Array): Promise<Uint8Array> {
		if (!this.connected) return Promise.reject(new QueryError('unavailable', `${call}: not connected to the agent`));
		return unary(this.connected, call, request, this.options.onCall);
	}

	private attempt(): void {
		if (this.closed) return;
		let endpoint: Endpoint;
		try {
			endpoint = resolveTarget(this.options.target, this.options.dir ?? discoveryDir(), this.lastPid);
		} catch (error) {
			if (!(error instanceof TargetError)) throw error;
			if (!this.everConnected) this.firstError = error;
			this.broken(error.message, error.final);
			return;
		}
		this.listener({kind: 'connecting', address: endpoint.address});
		this.connected = undefined;
		this.client?.close();
		const access = this.options.access ?? localAccess;
		const client = newClient(endpoint, access);
		this.client = client;
		const method = HeaptopService.watch;
		const call = client.makeServerStreamRequest(
			method.path,
			method.requestSerialize,
			(bytes: Buffer) => ({bytes: new Uint8Array(bytes), event: WatchEvent.decode(bytes)}),
			{clientSchemaVersion},
		);
		this.call = call;
		let first = true;
		let done = false;
		const finish = (reason: string, final: boolean) => {
			if (done || this.call !== call) return;
			done = true;
			call.cancel();
			this.broken(reason, final);
		};
		call.on('metadata', () => this.onAnswer());
		call.on('data', (message: {bytes: Uint8Array; event: WatchEvent}) => {
			if (done || this.closed) return;
			let update: WatchUpdate;
			try {
				update = toUpdate(message.event, first);
			} catch (error) {
				if (error instanceof ProtocolError) return finish(error.message, true);
				throw error;
			}
			if (first) {
				first = false;
				this.everConnected = true;
				this.failures = 0;
				if (update.kind === 'hello') this.lastPid = update.hello.target.pid;
				this.connected = client;
			}
			this.options.onMessage?.(message.bytes);
			this.listener(update);
		});
		call.on('error', (error: grpc.ServiceError) => {
			if (error.code === grpc.status.CANCELLED && (done || this.closed)) return;
			finish(describe(error, endpoint, access), isFinal(error));
		});
		call.on('end', () => finish(`${endpoint.label} closed the stream`, false));
	}

	/** The stream is gone: fail for good, or announce and schedule the next attempt. */
	private broken(reason: string, final: boolean): void {
		if (this.closed) return;
		this.call = undefined;
		this.connected = undefined;
		if (final || !this.everConnected) {
			this.listener({kind: 'failed', reason});
			return;
		}
		const delay = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** this.failures);
		this.failures++;
		this.listener({kind: 'reconnecting', reason, nextAttemptMs: Date.now() + delay});
		this.timer = setTimeout(() => this.attempt(), delay);
	}
}
