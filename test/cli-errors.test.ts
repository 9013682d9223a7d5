// Bad input on the command line: exactly one line on stderr, exit code 2,
// nothing on stdout, never a stack trace.
import test from 'ava';
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {tempDir} from './helpers/demo.js';
import {runHeaptop} from './helpers/heaptop.js';
import {waitFor} from './helpers/wait.js';

const recording = path.resolve(import.meta.dirname, '../snapshots/demo.jsonl');

async function failsWithOneLine(t: import('ava').ExecutionContext, args: string[], line: string, env: Record<string, string> = {}) {
	const run = await runHeaptop(args, {HEAPTOP_DIR: tempDir(), ...env});
	t.is(run.code, 2, `exit code of heaptop ${args.join(' ')}`);
	t.is(run.stderr, `heaptop: ${line}\n`);
	t.is(run.stdout, '');
}

/** A pid that existed and has exited. */
function deadPid(): number {
	return spawnSync('true').pid;
}

test.serial('cli - a bad flag exits 2 with one line', async t => {
	await failsWithOneLine(t, ['--frobnicate'], 'unknown option --frobnicate (see heaptop --help)');
});

test.serial('cli - a pid without a process exits 2 with one line', async t => {
	const pid = deadPid();
	await failsWithOneLine(t, [String(pid)], `no process with pid ${pid}`);
});

test.serial('cli - a process without an agent exits 2 with one line', async t => {
	const dir = tempDir();
	await failsWithOneLine(t, [String(process.pid)], `process ${process.pid} runs no heaptop agent (no ${process.pid}.json in ${dir})`, {HEAPTOP_DIR: dir});
});

test.serial('cli - no agent running exits 2 with one line', async t => {
	const dir = tempDir();
	await failsWithOneLine(t, [], `no heaptop agent is running (none in ${dir}); start a program with the agent, or name a target`, {HEAPTOP_DIR: dir});
});

test.serial('cli - a dead socket (its process was killed) exits 2 with one line', async t => {
	const socket = path.join(tempDir(), 'dead.sock');
	// A process that listens, then dies without closing: the socket file stays, nobody answers.
	const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))`, socket]);
	await new Promise(resolve => child.once('exit', resolve));
	t.true(fs.statSync(socket).isSocket());
	await failsWithOneLine(t, [socket], `cannot connect to ${socket}: connection refused`);
});

test.serial('cli - a missing socket path exits 2 with one line', async t => {
	const socket = path.join(tempDir(), 'missing.sock');
	await failsWithOneLine(t, [socket], `no such socket: ${socket}`);
});

test.serial('cli - a refused host:port exits 2 with one line', async t => {
	const server = net.createServer().listen(0, '127.0.0.1');
	await waitFor('a free port', () => server.listening);
	const {port} = server.address() as net.AddressInfo;
	await new Promise(resolve => server.close(resolve));
	await failsWithOneLine(t, [`127.0.0.1:${port}`], `cannot connect to 127.0.0.1:${port}: connection refused`);
});

test.serial('cli - a peer that accepts but never answers exits 2 with one line after the Hello deadline', async t => {
	// A TCP listener that takes connections and says nothing, not even HTTP/2.
	const silent = net.createServer(() => {}).listen(0, '127.0.0.1');
	t.teardown(() => silent.close());
	await waitFor('the silent listener', () => silent.listening);
	const {port} = silent.address() as net.AddressInfo;
	await failsWithOneLine(t, [`127.0.0.1:${port}`, '--once'], `no answer from 127.0.0.1:${port} within 10 s`);
});

test.serial('cli - something that is no target exits 2 with one line', async t => {
	await failsWithOneLine(t, ['not-a-target'], 'not a target: "not-a-target" (want a pid, a socket path or host:port)');
});

/** Writes a damaged copy of the committed recording and returns its path. */
function damaged(name: string, edit: (lines: string[]) => string[]): string {
	const lines = fs.readFileSync(recording, 'utf8').trimEnd().split('\n');
	const file = path.join(tempDir(), name);
	fs.writeFileSync(file, edit(lines).join('\n') + '\n');
	return file;
}

test.serial('cli - a truncated recording exits 2 with one line', async t => {
	const lines = fs.readFileSync(recording, 'utf8').trimEnd().split('\n');
	const file = damaged('truncated.jsonl', l => l.slice(0, 6));
	t.true(lines.length > 6);
	await failsWithOneLine(t, ['--replay', file], `recording ${file} is truncated: no end line after 5 events`);
});

test.serial('cli - a corrupt recording exits 2 with one line naming the line', async t => {
	const file = damaged('corrupt.jsonl', l => [...l.slice(0, 3), `{"t":${(JSON.parse(l[2]!) as {t: number}).t},"event":"%%%"}`, ...l.slice(3)]);
	await failsWithOneLine(t, ['--replay', file], `recording ${file} line 4: missing or non-base64 "event"`);
});

test.serial('cli - a recording of another format version exits 2 with one line', async t => {
	const file = damaged('v9.jsonl', l => [l[0]!.replace(/"version":\d+/, '"version":9'), ...l.slice(1)]);
	await failsWithOneLine(t, ['--replay', file], `recording ${file} line 1: recording format version 9, this heaptop reads versions 1 and 2`);
});

test.serial('cli - a recording of another schema version exits 2 with one line naming both', async t => {
	const file = damaged('schema7.jsonl', l => [l[0]!.replace('"schemaVersion":1', '"schemaVersion":7'), ...l.slice(1)]);
	await failsWithOneLine(t, ['--replay', file], `recording ${file} line 1: recorded with heaptop schema version 7, this heaptop speaks version 1`);
});

test.serial('cli - a file that is not a recording exits 2 with one line', async t => {
	await failsWithOneLine(t, ['--replay', '/etc/hostname'], 'recording /etc/hostname line 1: not a JSON object (corrupt file?)');
});
