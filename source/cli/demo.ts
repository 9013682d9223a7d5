// `npm run demo`: builds the demo program (agent/examples/demo) with
// `go build`, starts it, opens heaptop on it in this terminal, and stops the
// demo when heaptop quits, whichever way it quits. Exits with heaptop's code.
// Needs the repository checkout (agent/) and Go; run `npm install` first,
// which builds dist/.
import {execFileSync, spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {discoveryDir} from '../client/discovery.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const binary = path.join(root, '.build', 'demo');
/** How long the demo may take to announce its agent. */
const startupMs = 15_000;

function fail(message: string): never {
	process.stderr.write(`npm run demo: ${message}\n`);
	process.exit(2);
}

fs.mkdirSync(path.dirname(binary), {recursive: true});
process.stderr.write('building agent/examples/demo ...\n');
try {
	execFileSync('go', ['build', '-o', binary, './examples/demo'], {cwd: path.join(root, 'agent'), stdio: 'inherit'});
} catch {
	fail('go build failed (is Go installed? see README)');
}

const demo = spawn(binary, [], {stdio: ['ignore', 'ignore', 'inherit'], detached: false});
const stopDemo = () => {
	if (demo.exitCode === null && demo.signalCode === null) demo.kill('SIGTERM');
};
process.on('exit', stopDemo);
// heaptop owns the terminal and handles ctrl-c itself; the runner only makes
// sure the demo goes when heaptop does.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});

const announced = path.join(discoveryDir(), `${demo.pid}.json`);
const deadline = Date.now() + startupMs;
while (!fs.existsSync(announced)) {
	if (demo.exitCode !== null) fail(`the demo exited with code ${demo.exitCode}`);
	if (Date.now() > deadline) fail(`the demo did not announce its agent in ${announced} within ${startupMs / 1000} s`);
	await new Promise(resolve => setTimeout(resolve, 50));
}

const heaptop = spawn(process.execPath, [path.join(root, 'dist/heaptop.js'), String(demo.pid), ...process.argv.slice(2)], {stdio: 'inherit'});
heaptop.on('exit', code => {
	stopDemo();
	process.exit(code ?? 1);
});
