// Makes snapshots/demo.jsonl, the recording the view tests render from:
// builds the real demo (agent/examples/demo) with `go build`, starts it with
// the real agent in a private discovery directory, and records its Watch
// stream with the same Watch and Recorder that `heaptop --record` uses. It
// connects after the agent has sampled for a few seconds, so the recorded
// Hello carries history, as a watcher joining a running service sees it.
//
//   node --import tsx snapshots/record.ts [seconds=20] [out=snapshots/demo.jsonl]
//
// Re-run it after a schema change (the tests' expected frames change with it).
import {execFileSync, spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {Recorder} from '../source/client/recording.js';
import {Watch} from '../source/client/watch.js';
import {version} from '../source/cli/args.js';

const root = path.resolve(import.meta.dirname, '..');
const seconds = Number(process.argv[2] ?? 20);
const out = path.resolve(process.argv[3] ?? path.join(root, 'snapshots/demo.jsonl'));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heaptop-record-'));
fs.chmodSync(dir, 0o700);
const binary = path.join(dir, 'demo');
execFileSync('go', ['build', '-o', binary, './examples/demo'], {cwd: path.join(root, 'agent'), stdio: 'inherit'});

const demo = spawn(binary, [], {env: {...process.env, HEAPTOP_DIR: dir}, stdio: ['ignore', 'inherit', 'inherit']});
const exited = new Promise(resolve => demo.once('exit', resolve));
process.on('exit', () => {
	demo.kill('SIGKILL');
	fs.rmSync(dir, {recursive: true, force: true});
});

const deadline = Date.now() + 15_000;
while (!fs.existsSync(path.join(dir, `${demo.pid}.json`))) {
	if (Date.now() > deadline || demo.exitCode !== null) throw new Error('the demo did not announce its agent');
	await new Promise(resolve => setTimeout(resolve, 50));
}

/** How long the agent samples before the recording starts: history for the Hello. */
const historySeconds = 5;
await new Promise(resolve => setTimeout(resolve, historySeconds * 1000));

const recorder = new Recorder(out, version());
const watch = new Watch({target: {kind: 'pid', pid: demo.pid!}, dir, onMessage: bytes => recorder.add(bytes)});
let events = 0;
await watch.start(update => {
	if (update.kind === 'hello' || update.kind === 'sample') events++;
	if (update.kind === 'failed' || update.kind === 'reconnecting') throw new Error(`recording broke: ${update.reason}`);
});
await new Promise(resolve => setTimeout(resolve, seconds * 1000));
watch.close();
recorder.close();
demo.kill('SIGTERM');
await exited;
console.log(`recorded ${events} events over ${seconds} s from the demo (pid ${demo.pid}) into ${path.relative(root, out)}`);
process.exit(0);
