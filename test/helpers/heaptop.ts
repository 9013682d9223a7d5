// Runs the heaptop CLI from source (tsx), as a user would, and collects what it printed.
import {spawn} from 'node:child_process';
import path from 'node:path';
import {root} from './demo.js';

export const heaptopCommand = ['node', '--import', 'tsx', path.join(root, 'source/bin/heaptop.ts')] as const;

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
