// Channels: takes a resolved endpoint and the user's access settings (TLS,
// a CA, the token) and gives a grpc-js Client for it, with keepalive, TLS
// and the token on every call. Every RPC heaptop makes — Watch now, Capture,
// Expand and Path later — goes through a client made here, so none can
// forget the token.
//
// The agent's rules (agent.Options.TCP) and ours, which keep the token safe:
//   - The unix socket needs no token; its directory (mode 0700) admits only
//     the user. The token is sent over TCP only: never to a socket path,
//     which another user could have put in our way.
//   - TCP always needs the token. Off loopback the agent needs TLS too, and
//     heaptop refuses to send a token in clear text to a host that is not
//     loopback (127.0.0.0/8, ::1, localhost).
//   - The token comes from --token-file FILE or $HEAPTOP_TOKEN, never from
//     the command line, where every user of the machine can read it (ps).
import fs from 'node:fs';
import {X509Certificate} from 'node:crypto';
import grpc from '@grpc/grpc-js';
import type {Endpoint, TargetSpec} from './target.js';
import {shownPath} from './text.js';

/**
 * Channel keepalive. The agent's enforcement policy must allow pings at this
 * period: grpc-go's default MinTime is 5 min and answers faster pings with
 * GOAWAY too_many_pings; the agent permits one every 5 s (keepaliveMinTime in
 * agent/server). 30 s finds a dead TCP peer within ~40 s; on a unix socket a
 * dead agent is reported at once anyway.
 */
const keepalive = {
	'grpc.keepalive_time_ms': 30_000,
	'grpc.keepalive_timeout_ms': 10_000,
	'grpc.keepalive_permit_without_calls': 0,
} as const;

/** The environment variable heaptop reads the token from. */
export const tokenVariable = 'HEAPTOP_TOKEN';

/** How heaptop reaches a TCP agent. */
export type Access = {
	/** Speak TLS on TCP. */
	readonly tls: boolean;
	/** PEM certificates to trust instead of Node's built-in CA list. */
	readonly ca: Buffer | undefined;
	/** The agent's token, sent on every call over TCP. */
	readonly token: string | undefined;
	/** Where the token came from, for messages: "$HEAPTOP_TOKEN" or "token file F". */
	readonly tokenSource: string | undefined;
};

/** Plaintext, no token: the unix socket, and replays. */
export const localAccess: Access = {tls: false, ca: undefined, token: undefined, tokenSource: undefined};

/** A token, CA or TLS setting that cannot be used; the message is one line for the user. */
export class AccessError extends Error {}

/** What the command line says about access (source/cli/args.ts). */
export type AccessOptions = {readonly tls: boolean; readonly ca: string | undefined; readonly tokenFile: string | undefined};

/** The token must fit a gRPC header value: printable ASCII (the agent checks the same). */
const printableAscii = /^[\x20-\x7E]+$/;

/** Token files are a line; a bigger file is a mistake (or /dev/zero), not a token. */
const maxTokenFileBytes = 4 << 10;

/** CA bundles run to a few hundred KiB (Mozilla's is ~220 KiB). */
const maxCaFileBytes = 4 << 20;

/**
 * Reads a small file whole, refusing one over `limit` bytes without reading
 * it all. Throws AccessError naming `what` and the file.
 */
function readSmallFile(file: string, limit: number, what: string): Buffer {
	let fd: number | undefined;
	try {
		fd = fs.openSync(file, 'r');
		const buffer = Buffer.alloc(limit + 1);
		let length = 0;
		for (let n; length <= limit && (n = fs.readSync(fd, buffer, length, buffer.length - length, null)) > 0; ) length += n;
		if (length > limit) throw new AccessError(`${what} ${shownPath(file)} is larger than ${limit >> 10} KiB; is it the right file?`);
		return buffer.subarray(0, length);
	} catch (error) {
		if (error instanceof AccessError) throw error;
		const code = (error as NodeJS.ErrnoException).code;
		throw new AccessError(`cannot read ${what} ${shownPath(file)}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : code ?? String(error)}`);
	} finally {
		if (fd !== undefined) fs.closeSync(fd);
	}
}

function readToken(file: string): string {
	const token = readSmallFile(file, maxTokenFileBytes, 'token file').toString('latin1').replace(/\r?\n$/, '');
	if (token === '') throw new AccessError(`token file ${shownPath(file)} is empty`);
	if (!printableAscii.test(token)) throw new AccessError(`the token in ${shownPath(file)} is not one line of printable ASCII`);
	return token;
}

function readCa(file: string): Buffer {
	const pem = readSmallFile(file, maxCaFileBytes, 'CA file');
	const first = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(pem.toString('latin1'));
	if (!first) throw new AccessError(`CA file ${shownPath(file)} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
	try {
		new X509Certificate(first[0]);
	} catch {
		throw new AccessError(`CA file ${shownPath(file)}: its first certificate does not parse`);
	}
	return pem;
}

/** Whether a host, as typed, is the loopback interface. Names other than localhost are not trusted to be. */
export function isLoopbackHost(host: string): boolean {
	return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Settles access for a target from the command line and the environment:
 * reads the token and the CA, and enforces the rules above. Throws
 * AccessError with one line.
 */
export function accessFor(spec: TargetSpec, options: AccessOptions, env: NodeJS.ProcessEnv = process.env): Access {
	if (spec.kind !== 'tcp') {
		const flag = options.tokenFile !== undefined ? '--token-file' : options.ca !== undefined ? '--ca' : options.tls ? '--tls' : undefined;
		if (flag) throw new AccessError(`${flag} applies to a HOST:PORT target only; unix sockets need neither TLS nor a token`);
		return localAccess; // $HEAPTOP_TOKEN is not sent to a socket
	}
	let token: string | undefined;
	let tokenSource: string | undefined;
	if (options.tokenFile !== undefined) {
		token = readToken(options.tokenFile);
		tokenSource = `token file ${shownPath(options.tokenFile)}`;
	} else if (env[tokenVariable]) {
		token = env[tokenVariable];
		tokenSource = `$${tokenVariable}`;
		if (!printableAscii.test(token)) throw new AccessError(`$${tokenVariable} is not one line of printable ASCII`);
	}
	const tls = options.tls || options.ca !== undefined;
	const ca = options.ca !== undefined ? readCa(options.ca) : undefined;
	if (token !== undefined && !tls && !isLoopbackHost(spec.host)) {
		throw new AccessError(`refusing to send the token in clear text to ${spec.host}:${spec.port}, which is not loopback; use --tls`);
	}
	return {tls, ca, token, tokenSource};
}

/** Puts `authorization: Bearer <token>` on every call of the client it is given to. */
function tokenInterceptor(token: string): grpc.Interceptor {
	return (options, nextCall) =>
		new grpc.InterceptingCall(nextCall(options), {
			start(metadata, listener, next) {
				metadata.set('authorization', `Bearer ${token}`);
				next(metadata, listener);
			},
		});
}

/**
 * A new client for one endpoint. TLS and the token apply to TCP endpoints
 * only. The token travels as an interceptor rather than call credentials:
 * grpc-js refuses to compose call credentials with a plaintext channel, and
 * loopback TCP may be plaintext.
 */
export function newClient(endpoint: Endpoint, access: Access): grpc.Client {
	const tcp = endpoint.transport === 'tcp';
	const credentials = tcp && access.tls ? grpc.credentials.createSsl(access.ca ?? null) : grpc.credentials.createInsecure();
	const interceptors = tcp && access.token !== undefined ? [tokenInterceptor(access.token)] : [];
	return new grpc.Client(endpoint.address, credentials, {...keepalive, interceptors});
}

/** Whether the client for this endpoint sends a token. */
export function sendsToken(endpoint: Endpoint, access: Access): boolean {
	return endpoint.transport === 'tcp' && access.token !== undefined;
}
