// `heaptop --once` against the real demo: the report's figures, coloured
// when forced, plain under NO_COLOR and when piped; with a snapshot of the
// demo's heap once (report.test.ts tests the snapshot's part in full, on a
// program with planted bugs), else --no-capture, which prints the figures only.
import test from 'ava';
import {stripVTControlCharacters} from 'node:util';
import {startDemo, tempDir, type Demo} from './helpers/demo.js';
import {runHeaptop} from './helpers/heaptop.js';

let demo: Demo;
let demoStartedMs: number;
test.before(async () => {
	demo = await startDemo(tempDir());
	demoStartedMs = Date.now();
});
test.after.always(async () => {
	await demo?.stop();
});

/** The report's figures, checked line by line: live figures vary, their shape does not. */
function assertReport(t: import('ava').ExecutionContext, text: string, {snapshot = false} = {}) {
	const printed = text.trimEnd().split('\n');
	for (const line of printed) t.true([...line].length <= 80, `line of ${[...line].length} columns: ${line}`);
	// In 80 columns the header's figures take two lines, the GC figure wrapping to the second.
	t.regex(printed[2]!, /^GC [\d,]+ cycles?, [\d.]+% CPU$/);
	const all = [printed[0]!, `${printed[1]}   ${printed[2]}`, ...printed.slice(3)];
	const lines = snapshot ? all.slice(0, 7) : all;
	if (snapshot) {
		t.is(all[7], '');
		t.regex(all[8]!, /^Snapshot #\d+  captured \d+ s ago$/);
		t.regex(all[9]!, /^heap [\d.]+ (B|KiB|MiB|GiB) in [\d,]+ objects {3}pause [\d.]+ (µs|ms|s) {3}analysis [\d.]+ (ms|s)$/);
		t.true(all.includes('States'), text);
		t.true(all.some(l => l.startsWith('Findings')), text);
	}
	const byte = String.raw`\d[\d.]* (B|KiB|MiB|GiB)`;
	const figures = (unit: string) => new RegExp(String.raw`min +${unit}  max +${unit}  last +${unit}$`);
	t.is(lines.length, 7, text);
	t.regex(lines[0]!, new RegExp(String.raw`^heaptop  pid ${demo.pid}  go1\.\d+(\.\d+)?  \S*demo +● connected$`));
	t.regex(lines[1]!, new RegExp(String.raw`^heap live ${byte} / goal ${byte}   objects [\d,]+   goroutines [\d,]+   GC [\d,]+ cycles?, [\d.]+% CPU$`));
	t.is(lines[2], '');
	t.regex(lines[3]!, /^GC pause {4}/);
	t.regex(lines[3]!, figures(String.raw`[\d.]+ (ns|µs|ms|s)`));
	t.regex(lines[4]!, /^heap live {3}[ ▁▂▃▄▅▆▇█]+ min/);
	t.regex(lines[4]!, figures(byte));
	t.regex(lines[5]!, /^alloc rate {2}[ ▁▂▃▄▅▆▇█]+ min/);
	t.regex(lines[5]!, figures(`${byte}/s`));
	t.regex(lines[6]!, /^last \d+ samples \(\d+ s\) and last [\d,]+ GC pauses?$/);
}

test.serial('once - prints the figures and a snapshot of the heap, in colour when FORCE_COLOR=1', async t => {
	t.timeout(270_000);
	const run = await runHeaptop([String(demo.pid), '--once'], {HEAPTOP_DIR: demo.dir, FORCE_COLOR: '1'}, {timeoutMs: 240_000});
	t.is(run.stderr, '');
	t.is(run.code, 0);
	t.true(run.stdout.includes('\u001B[32m● connected\u001B[39m'), 'connection state in green');
	t.true(run.stdout.includes('\u001B[1m\u001B[36mheaptop\u001B[39m\u001B[22m'), 'title in bold cyan');
	t.true(run.stdout.includes('\u001B[35m'), 'GC pause line in magenta');
	t.false(/\u001B\[\d*[ABCDGHJK]|\u001B\[\?/.test(run.stdout), 'no cursor movement or erase codes');
	assertReport(t, stripVTControlCharacters(run.stdout), {snapshot: true});
});

test.serial('once - the demo’s planted bugs: --fail-on exits 1 naming main.planted.evicted; the report shows both chains from main.planted', async t => {
	t.timeout(150_000);
	// The cache evicts, and the planted log keeps evicted statements' addresses, once it is full:
	// a few seconds after the demo starts. Those addresses are dangling once a GC has freed the
	// statements, dangling soon before: both fail the run.
	await new Promise(resolve => setTimeout(resolve, Math.max(0, demoStartedMs + 10_000 - Date.now())));
	const run = await runHeaptop([String(demo.pid), '--fail-on', 'dangling,dangling-soon', '--confirm-cost'], {HEAPTOP_DIR: demo.dir}, {timeoutMs: 120_000});
	t.is(run.code, 1, run.stderr);
	t.regex(run.stderr, /^heaptop: [\d,]+ findings? of --fail-on dangling,dangling-soon: main\.planted\.evicted\[\d+\] holds 0x[0-9a-f]+ as uintptr: .+\n$/);
	const lines = run.stdout.split('\n');
	/** A finding's summary (prose, wrapped to the width) and its chain's lines, from its title line. */
	const finding = (title: RegExp) => {
		const at = lines.findIndex(l => title.test(l));
		const chain = lines.findIndex((l, i) => i > at && l.startsWith('┌'));
		t.true(at > 0 && chain > at, run.stdout);
		return {summary: lines.slice(at + 1, chain).join(' '), chain: lines.slice(chain)};
	};
	const dangling = finding(/^dangling( soon)?( ×[\d,]+ same chain)?$/);
	t.regex(dangling.summary, /^main\.planted\.evicted\[\d+\] holds 0x[0-9a-f]+ as uintptr: /);
	t.regex(dangling.chain[0]!, /^┌ main\.planted {2}main\.bugs {2}[\d.]+ KiB$/);
	t.regex(dangling.chain[1]!, /^╎ main\.planted\.evicted\[\d+\] {2}uintptr {2}8 B$/);
	const leak = finding(/^leak( ×[\d,]+ same chain)?$/);
	t.regex(leak.summary, /^main\.planted\.closed\[\d+\] released [\d.]+m?s before the capture \(session closed\) is still reachable$/);
	t.regex(leak.chain.slice(0, 2).join('\n'), /^┌ main\.planted {2}main\.bugs {2}[\d.]+ KiB\n└ main\.planted\.closed\[\d+\] {2}main\.session {2}64 B$/);
});

test.serial('once - prints no escape code at all under NO_COLOR, even with --color absent from argv', async t => {
	const run = await runHeaptop([String(demo.pid), '--once', '--no-capture'], {HEAPTOP_DIR: demo.dir, NO_COLOR: '1'});
	t.is(run.code, 0);
	t.false(run.stdout.includes('\u001B'), run.stdout);
	assertReport(t, run.stdout);
});

test.serial('once - piped output without FORCE_COLOR has no colour; --ascii draws ASCII only', async t => {
	const run = await runHeaptop([String(demo.pid), '--once', '--no-capture', '--ascii'], {HEAPTOP_DIR: demo.dir});
	t.is(run.code, 0);
	t.false(run.stdout.includes('\u001B'));
	t.regex(run.stdout, /^[\x20-\x7E\n]*$/, 'ASCII only');
	t.regex(run.stdout, /^GC pause {4}[ _.\-~=+*#]+ min/m);
});

test.serial('once - with no target and one agent, a stdout that is not a terminal gets the report of that agent', async t => {
	const run = await runHeaptop(['--no-capture'], {HEAPTOP_DIR: demo.dir, NO_COLOR: '1'});
	t.is(run.code, 0);
	assertReport(t, run.stdout);
});

test.serial('cli - with no target and two agents, lists them and exits 2 with one line', async t => {
	const second = await startDemo(demo.dir);
	t.teardown(() => second.stop());
	const run = await runHeaptop([], {HEAPTOP_DIR: demo.dir, NO_COLOR: '1'});
	t.is(run.code, 2);
	t.is(run.stderr, `heaptop: 2 agents are running (in ${demo.dir}); name one: heaptop <pid>\n`);
	const listed = run.stdout.trimEnd().split('\n');
	t.is(listed.length, 2);
	const pids = [demo.pid, second.pid].sort((a, b) => a - b);
	for (const [i, line] of listed.entries()) {
		t.regex(line, new RegExp(String.raw`^ *${pids[i]}  go1\.\S+ +\S+/demo  unix://${demo.dir}/${pids[i]}\.sock$`));
	}
});
