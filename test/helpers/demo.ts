// The real demo program (agent/examples/demo) for tests: built once per test
// process with `go build`, started with HEAPTOP_DIR pointing at a directory
// of the test's own so that parallel tests never see each other's agents.
import {spawn, execFile, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {waitFor} from './wait.js';

export const root = path.resolve(import.meta.dirname, '../..');
const buildDir = path.join(root, '.build');

let built: Promise<string> | undefined;

/**
 * Builds the demo into .build/demo and returns its path. Several test
 * processes may build at once: each writes its own file and renames it into
 * place, which is atomic. Go's build cache makes the repeats cheap.
 * `npm test` builds it once before ava and passes it in HEAPTOP_DEMO.
 */
export function buildDemo(): Promise<string> {
	const prebuilt = process.env['HEAPTOP_DEMO'];
	if (prebuilt) return Promise.resolve(prebuilt);
	built ??= (async () => {
		fs.mkdirSync(buildDir, {recursive: true});
		const binary = path.join(buildDir, 'demo');
		const tmp = `${binary}.${process.pid}.tmp`;
		await promisify(execFile)('go', ['build', '-o', tmp, './examples/demo'], {cwd: path.join(root, 'agent')});
		fs.renameSync(tmp, binary);
		return binary;
	})();
	return built;
}

const tempDirs: string[] = [];
process.on('exit', () => {
	for (const dir of tempDirs) fs.rmSync(dir, {recursive: true, force: true});
});

/** A fresh discovery directory (mode 0700, as the agent wants it), removed when the test process exits. */
export function tempDir(prefix = 'heaptop-test-'): string {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	fs.chmodSync(dir, 0o700);
	tempDirs.push(dir);
	return dir;
}

export type Demo = {
	readonly pid: number;
	readonly dir: string;
	readonly child: ChildProcess;
	/** SIGKILL (no agent cleanup, as a crash) or SIGTERM; resolves when it has exited. */
	stop(signal?: NodeJS.Signals): Promise<void>;
};

/** Starts the demo with HEAPTOP_DIR=dir and waits for its discovery file. */
export async function startDemo(dir: string, args: readonly string[] = []): Promise<Demo> {
	const binary = await buildDemo();
	const child = spawn(binary, [...args], {env: {...process.env, HEAPTOP_DIR: dir}, stdio: ['ignore', 'ignore', 'pipe']});
	let stderr = '';
	child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
	const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
	const pid = child.pid!;
	await waitFor(`the demo's discovery file ${pid}.json (demo stderr: ${stderr})`, () => {
		if (child.exitCode !== null) throw new Error(`demo exited with ${child.exitCode}: ${stderr}`);
		return fs.existsSync(path.join(dir, `${pid}.json`));
	});
	return {
		pid,
		dir,
		child,
		async stop(signal: NodeJS.Signals = 'SIGTERM') {
			if (child.exitCode === null && child.signalCode === null) child.kill(signal);
			await exited;
		},
	};
}
