// The real demo program (agent/examples/demo) for tests: built once per test
// process with `go build`, started with HEAPTOP_DIR pointing at a directory
// of the test's own so that parallel tests never see each other's agents.
// Other Go programs the tests need (a build of the demo with other tags, the
// certificate maker) are built the same way by buildGo.
import {spawn, execFile, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {waitFor} from './wait.js';

export const root = path.resolve(import.meta.dirname, '../..');
const buildDir = path.join(root, '.build');

const builds = new Map<string, Promise<string>>();

/** The line of `// marker:name` in a planted program's Go source (a path from the repository's root). */
export function markerLine(file: string, name: string): number {
	const i = fs.readFileSync(path.join(root, file), 'utf8').split('\n').findIndex(l => l.endsWith(`// marker:${name}`));
	if (i < 0) throw new Error(`no marker ${name} in ${file}`);
	return i + 1;
}

/**
 * Builds a package of the agent module into .build/<name> (with Go build
 * tags, if any) and returns its path. Several test processes may build at
 * once: each writes its own file and renames it into place, which is
 * atomic. Go's build cache makes the repeats cheap.
 */
export function buildGo(pkg: string, name: string, tags: readonly string[] = []): Promise<string> {
	let built = builds.get(name);
	if (!built) {
		built = (async () => {
			fs.mkdirSync(buildDir, {recursive: true});
			const binary = path.join(buildDir, name);
			const tmp = `${binary}.${process.pid}.tmp`;
			const tagArgs = tags.length > 0 ? ['-tags', tags.join(',')] : [];
			await promisify(execFile)('go', ['build', ...tagArgs, '-o', tmp, pkg], {cwd: path.join(root, 'agent')});
			fs.renameSync(tmp, binary);
			return binary;
		})();
		builds.set(name, built);
	}
	return built;
}

/**
 * The demo's binary. `npm test` builds it once before ava and passes it in
 * HEAPTOP_DEMO.
 */
export function buildDemo(): Promise<string> {
	const prebuilt = process.env['HEAPTOP_DEMO'];
	return prebuilt ? Promise.resolve(prebuilt) : buildGo('./examples/demo', 'demo');
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
	/** The "host:port" its agent serves TCP on (from its discovery file), if it does. */
	readonly tcp: string | undefined;
	/** What it has written on stderr so far: the agent's log. */
	stderr(): string;
	/** SIGKILL (no agent cleanup, as a crash) or SIGTERM; resolves when it has exited. */
	stop(signal?: NodeJS.Signals): Promise<void>;
};

export type DemoOptions = {
	/** Command-line arguments, e.g. ['-tcp', '127.0.0.1:0']. */
	readonly args?: readonly string[];
	/** More environment, e.g. {HEAPTOP_TOKEN: …}. */
	readonly env?: Record<string, string>;
	/** Another build of the demo (buildGo with tags), or another program; default buildDemo(). */
	readonly binary?: string;
	/** Keep stdin open (a pipe): agent/testdata/progs/hidden runs until its stdin closes. */
	readonly stdinOpen?: boolean;
};

/** Starts the demo with HEAPTOP_DIR=dir and waits for its discovery file. */
export async function startDemo(dir: string, {args = [], env = {}, binary, stdinOpen = false}: DemoOptions = {}): Promise<Demo> {
	const program = binary ?? (await buildDemo());
	const child = spawn(program, [...args], {env: {...process.env, ...env, HEAPTOP_DIR: dir}, stdio: [stdinOpen ? 'pipe' : 'ignore', 'ignore', 'pipe']});
	let stderr = '';
	child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
	const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
	const pid = child.pid!;
	const file = path.join(dir, `${pid}.json`);
	await waitFor(`the demo's discovery file ${pid}.json (demo stderr: ${stderr})`, () => {
		if (child.exitCode !== null) throw new Error(`demo exited with ${child.exitCode}: ${stderr}`);
		return fs.existsSync(file);
	});
	const {tcp} = JSON.parse(fs.readFileSync(file, 'utf8')) as {tcp?: string};
	return {
		pid,
		dir,
		child,
		tcp,
		stderr: () => stderr,
		async stop(signal: NodeJS.Signals = 'SIGTERM') {
			if (child.exitCode === null && child.signalCode === null) child.kill(signal);
			await exited;
		},
	};
}
