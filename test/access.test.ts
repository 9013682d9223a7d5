// Access to a TCP agent, against the real demo serving TCP: the token from
// $HEAPTOP_TOKEN or --token-file on every call, refusals in one line (exit
// 2, no reconnect loop) and counted by the agent, TLS with a certificate
// made in the test, and the token kept from places it must not go.
import test from 'ava';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import type {AddressInfo} from 'node:net';
import path from 'node:path';
import {buildGo, startDemo, tempDir, type Demo} from './helpers/demo.js';
import {runHeaptop} from './helpers/heaptop.js';
import {waitFor} from './helpers/wait.js';

const token = '0123456789abcdef0123456789abcdef';

/** A certificate for localhost, 127.0.0.1 and ::1 and its key, made now by agent/testdata/progs/selfsigned. */
async function selfSigned(): Promise<{cert: string; key: string}> {
	const dir = tempDir('heaptop-cert-');
	execFileSync(await buildGo('./testdata/progs/selfsigned', 'selfsigned'), [dir]);
	return {cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem')};
}

/** Starts the demo serving loopback TCP (plus args) with the test's token. */
async function tcpDemo(t: import('ava').ExecutionContext, args: readonly string[] = []): Promise<Demo & {tcp: string}> {
	const demo = await startDemo(tempDir(), {args: ['-tcp', '127.0.0.1:0', ...args], env: {HEAPTOP_TOKEN: token}});
	t.teardown(() => demo.stop());
	if (!demo.tcp) throw new Error(`the demo's discovery file names no TCP address`);
	return {...demo, tcp: demo.tcp};
}

async function failsWithOneLine(t: import('ava').ExecutionContext, args: string[], line: string, env: Record<string, string> = {}) {
	const run = await runHeaptop(args, {HEAPTOP_DIR: tempDir(), ...env});
	t.is(run.stderr, `heaptop: ${line}\n`, `stderr of heaptop ${args.join(' ')}`);
	t.is(run.code, 2);
	t.is(run.stdout, '');
}

/** The --once report's first line, for a run that must have connected. */
function header(run: {code: number | null; stdout: string; stderr: string}): string {
	return `${run.code} ${run.stderr}${run.stdout.split('\n')[0]}`;
}

test.serial('access - a TCP agent asked without a token: one line saying how to give one, exit 2', async t => {
	const demo = await tcpDemo(t);
	await failsWithOneLine(t, [demo.tcp, '--once'], `${demo.tcp} requires a token: set $HEAPTOP_TOKEN or pass --token-file FILE`);
});

test.serial('access - a wrong token: one line naming its source, exit 2 at once; the agent counts it and logs it without the token', async t => {
	const demo = await tcpDemo(t);
	const wrong = 'fedcba9876543210fedcba9876543210';
	const started = Date.now();
	await failsWithOneLine(t, [demo.tcp], `${demo.tcp} refused the token from $HEAPTOP_TOKEN: wrong token`, {HEAPTOP_TOKEN: wrong});
	// A refusal is final, not a reconnect loop: heaptop ends well before
	// the 10 s Hello deadline.
	t.true(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
	const log = await waitFor('the refusal in the agent log', () => /WARN heaptop agent: refused requests over TCP.*$/m.exec(demo.stderr())?.[0]);
	t.regex(log, /refused=1 latest_from=127\.0\.0\.1:\d+ latest_reason="wrong token"$/);
	t.false(demo.stderr().includes(wrong), 'the log never holds the token presented');
	t.false(demo.stderr().includes(token), 'nor the right one');
});

test.serial('access - the token from $HEAPTOP_TOKEN or from --token-file opens the agent', async t => {
	const demo = await tcpDemo(t);
	const env = await runHeaptop([demo.tcp, '--once', '--no-capture'], {HEAPTOP_DIR: tempDir(), HEAPTOP_TOKEN: token});
	t.regex(header(env), new RegExp(`^0 heaptop  pid ${demo.pid}  `));
	const file = path.join(tempDir(), 'token');
	fs.writeFileSync(file, `${token}\n`, {mode: 0o600});
	// The file wins over the environment.
	const fromFile = await runHeaptop([demo.tcp, '--once', '--no-capture', '--token-file', file], {HEAPTOP_DIR: tempDir(), HEAPTOP_TOKEN: 'not-the-token-at-all'});
	t.regex(header(fromFile), new RegExp(`^0 heaptop  pid ${demo.pid}  `));
	t.false(demo.stderr().includes('refused'), demo.stderr());
});

test.serial('access - TLS with a certificate made in the test: --ca connects; without it, without --tls, or TLS to a plaintext agent, one line', async t => {
	const {cert, key} = await selfSigned();
	const demo = await tcpDemo(t, ['-tls-cert', cert, '-tls-key', key]);
	const env = {HEAPTOP_DIR: tempDir(), HEAPTOP_TOKEN: token};
	const port = demo.tcp.split(':').at(-1)!;
	for (const host of ['127.0.0.1', 'localhost']) {
		const run = await runHeaptop([`${host}:${port}`, '--once', '--no-capture', '--ca', cert], env);
		t.regex(header(run), new RegExp(`^0 heaptop  pid ${demo.pid}  `), `by ${host}`);
	}
	await failsWithOneLine(t, [demo.tcp, '--tls'], `cannot connect to ${demo.tcp}: TLS: self-signed certificate (trust the agent's CA with --ca FILE)`, env);
	await failsWithOneLine(t, [demo.tcp], `cannot connect to ${demo.tcp}: the agent closed the connection before HTTP/2 began; if it serves TLS, use --tls`, env);

	const plain = await tcpDemo(t);
	await failsWithOneLine(t, [plain.tcp, '--ca', cert], `cannot connect to ${plain.tcp}: the TLS handshake failed (wrong version number); does the agent serve TLS there?`, env);
});

/**
 * An HTTP/2 server listening at `where` (a socket path, or port 0 on
 * loopback) that records the headers of each request and answers it as
 * gRPC's UNIMPLEMENTED: it stands where an agent would, to see what heaptop
 * sends. Resolves with the records and the target to give heaptop.
 */
async function recordingServer(t: import('ava').ExecutionContext, where: string | 0): Promise<{seen: http2.IncomingHttpHeaders[]; target: string}> {
	const seen: http2.IncomingHttpHeaders[] = [];
	const server = http2.createServer();
	server.on('stream', (stream, headers) => {
		seen.push(headers);
		stream.respond({':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'recording'}, {endStream: true});
	});
	t.teardown(() => server.close());
	await new Promise<void>(resolve => (where === 0 ? server.listen(0, '127.0.0.1', resolve) : server.listen(where, resolve)));
	return {seen, target: where === 0 ? `127.0.0.1:${(server.address() as AddressInfo).port}` : where};
}

test.serial('access - the token goes on every call over TCP, and never to a unix socket', async t => {
	const env = {HEAPTOP_DIR: tempDir(), HEAPTOP_TOKEN: token};
	const socket = await recordingServer(t, path.join(tempDir(), 'agent.sock'));
	await failsWithOneLine(t, [socket.target, '--once'], `${socket.target} does not serve heaptop (no heaptop.v1.Heaptop/Watch)`, env);
	t.is(socket.seen.length, 1);
	t.is(socket.seen[0]![':path'], '/heaptop.v1.Heaptop/Watch');
	t.is(socket.seen[0]!['authorization'], undefined, 'no token to a unix socket');

	const tcp = await recordingServer(t, 0);
	await failsWithOneLine(t, [tcp.target, '--once'], `${tcp.target} does not serve heaptop (no heaptop.v1.Heaptop/Watch)`, env);
	t.is(tcp.seen.length, 1);
	t.is(tcp.seen[0]!['authorization'], `Bearer ${token}`);
});

test.serial('access - no token in clear text off loopback, and TLS and token flags only for HOST:PORT', async t => {
	const env = {HEAPTOP_TOKEN: token};
	await failsWithOneLine(t, ['10.1.2.3:7070', '--once'], 'refusing to send the token in clear text to 10.1.2.3:7070, which is not loopback; use --tls', env);
	await failsWithOneLine(t, ['agent.example:7070', '--once'], 'refusing to send the token in clear text to agent.example:7070, which is not loopback; use --tls', env);
	await failsWithOneLine(t, ['4242', '--tls'], '--tls applies to a HOST:PORT target only; unix sockets need neither TLS nor a token');
	await failsWithOneLine(t, ['--token-file', '/etc/hostname'], '--token-file applies to a HOST:PORT target only; unix sockets need neither TLS nor a token');
	await failsWithOneLine(t, ['--replay', 'x.jsonl', '--ca', 'ca.pem'], '--replay reads a file; --tls, --ca and --token-file are for a live agent');
});

test.serial('access - unusable token and CA files: one line each, exit 2', async t => {
	const dir = tempDir();
	const empty = path.join(dir, 'empty');
	fs.writeFileSync(empty, '\n');
	const twoLines = path.join(dir, 'two-lines');
	fs.writeFileSync(twoLines, `${token}\nsecond line\n`);
	const cases: Array<[string[], string]> = [
		[['--token-file', path.join(dir, 'missing')], `cannot read token file ${path.join(dir, 'missing')}: no such file`],
		[['--token-file', dir], `cannot read token file ${dir}: a directory`],
		[['--token-file', empty], `token file ${empty} is empty`],
		[['--token-file', twoLines], `the token in ${twoLines} is not one line of printable ASCII`],
		[['--token-file', '/dev/zero'], 'token file /dev/zero is larger than 4 KiB; is it the right file?'],
		[['--ca', '/etc/hostname'], 'CA file /etc/hostname holds no PEM certificate (-----BEGIN CERTIFICATE-----)'],
	];
	for (const [args, line] of cases) await failsWithOneLine(t, ['127.0.0.1:7070', '--once', ...args], line);
	await failsWithOneLine(t, ['127.0.0.1:7070', '--once'], '$HEAPTOP_TOKEN is not one line of printable ASCII', {HEAPTOP_TOKEN: 'tab\there'});
});
