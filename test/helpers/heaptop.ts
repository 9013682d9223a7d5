// Runs the heaptop CLI, as a user would, and collects what it printed.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {root} from './demo.js';

/** heaptop from source, through tsx: always the code under test. */
export const heaptopCommand = ['node', '--import', 'tsx', path.join(root, 'source/bin/heaptop.ts')] as const;

/**
 * The shipped program, dist/heaptop.js (the package's bin, a bundle made by
 * `npm run build`, which `npm install` and `npm test` run). Throws when it is
 * missing or older than the source, so a stale build cannot pass.
 */
export function bundledCommand(): readonly string[] {
	const bundle = path.join(root, 'dist/heaptop.js');
	const built = fs.existsSync(bundle) ? fs.statSync(bundle).mtimeMs : 0;
	const newest = (dir: string): number =>
		Math.max(0, ...fs.readdirSync(dir, {withFileTypes: true}).map(e => (e.isDirectory() ? newest(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).mtimeMs)));
	if (built < newest(path.join(root, 'source'))) throw new Error('dist/heaptop.js is missing or older than source/: run npm run build');
	return ['node', bundle];
}

export type Run = {readonly code: number | null; readonly stdout: string; readonly stderr: string};

/**
 * Runs heaptop with `args` and the given environment (nothing inherited but
 * PATH and HOME, so FORCE_COLOR/NO_COLOR/CI are exactly what the test says).
 */
export function runHeaptop(args: readonly string[], env: Record<string, string> = {}, {timeoutMs = 30_000} = {}): Promise<Run> {
	return new Promise((resolve, reject) => {
		const [cmd, ...pre] = heaptopCommand;
		const child = spawn(cmd, [...pre, ...args], {
			cwd: root,
			env: {PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env},
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
		child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`heaptop ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
		}, timeoutMs);
		child.on('close', code => {
			clearTimeout(timer);
			resolve({code, stdout, stderr});
		});
	});
}
