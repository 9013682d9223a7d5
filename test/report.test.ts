// The non-interactive outputs against a real program with planted bugs
// (agent/testdata/progs/planted): uintptrs to three freed connections in
// main.connHandles (dangling, folded into one finding of count 3) and a session logout declared released but kept
// in main.sessions (leak); and the same program with -clean.
//
// A capture of a real heap takes seconds to tens of seconds on a loaded
// 2-core machine, so each program is captured once: the first run captures,
// the others take that snapshot through --max-age — which is what it is for.
import test from 'ava';
import {execFile} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {promisify} from 'node:util';
import {Ajv} from 'ajv';
import {buildGo, markerLine, root, startDemo, tempDir, type Demo} from './helpers/demo.js';
import {runHeaptop, type Run} from './helpers/heaptop.js';
import type {Report, ReportFinding, ReportHop} from '../source/report/document.js';

const schema = JSON.parse(fs.readFileSync(path.join(root, 'source/report/report.schema.json'), 'utf8')) as object;
const validate = new Ajv({allErrors: true, strict: true}).compile(schema);

/** The line of `// marker:name` in the planted program. */
const marker = (name: string): number => markerLine('agent/testdata/progs/planted/main.go', name);

/** A capture may take long on a loaded machine; a run that reuses one is quicker, but starts Node all the same. */
const captureRun = {timeoutMs: 240_000};
const reuseRun = {timeoutMs: 120_000};
const reuse = ['--max-age', '1h'];

let buggy: Demo;
let clean: Demo;
let out: string;
/** The first run's report: the snapshot every other run of the buggy program reuses. */
let first: Report;
let firstRun: Run;

test.before(async () => {
	const binary = await buildGo('./testdata/progs/planted', 'planted');
	[buggy, clean] = await Promise.all([startDemo(tempDir(), {binary}), startDemo(tempDir(), {binary, args: ['-clean']})]);
	out = tempDir('heaptop-exports-');
});
test.after.always(async () => {
	await Promise.all([buggy?.stop(), clean?.stop()]);
});

const env = (demo: Demo, more: Record<string, string> = {}) => ({HEAPTOP_DIR: demo.dir, ...more});

function finding(report: Report, kind: string): ReportFinding {
	const found = report.findings.filter(f => f.kind === kind);
	if (found.length !== 1) throw new Error(`${found.length} ${kind} findings: ${JSON.stringify(report.findings.map(f => f.summary))}`);
	return found[0]!;
}

const site = (hop: ReportHop | undefined) => hop?.site && `${path.relative(root, hop.site.file)}:${hop.site.line} ${hop.site.func}`;

test.serial('report - --json validates against the schema and holds the planted dangling reference and leak with their chains; exports written', async t => {
	t.timeout(captureRun.timeoutMs + 30_000);
	const files = {pprof: path.join(out, 'heap.pb.gz'), dot: path.join(out, 'finding.dot'), svg: path.join(out, 'finding.svg')};
	firstRun = await runHeaptop([String(buggy.pid), '--json', '--export', 'pprof', files.pprof, '--export', 'dot', files.dot, '--export', 'svg', files.svg], env(buggy), captureRun);
	t.is(firstRun.stderr, '');
	t.is(firstRun.code, 0);
	first = JSON.parse(firstRun.stdout) as Report;
	t.true(validate(first), JSON.stringify(validate.errors));
	t.is(first.schemaVersion, 1);
	t.is(first.target?.pid, buggy.pid);
	t.true(first.snapshot!.pauseMs > 0);
	t.deepEqual(first.problems, []);

	const dangling = finding(first, 'dangling');
	t.is(dangling.kind, first.findings[0]!.kind, 'dangling findings come first');
	const [global, array, word, target] = dangling.path;
	t.is(dangling.path.length, 4);
	t.like(global, {via: 'global', name: 'main.connHandles', type: '[]uintptr', bytes: 24});
	t.like(array, {via: 'global', name: 'main.connHandles', type: '[]uintptr backing array', bytes: 32, state: 'live'});
	t.is(site(array), `agent/testdata/progs/planted/main.go:${marker('handles')} main.openConns`);
	t.like(word, {via: 'hidden', name: '[0]', type: 'uintptr', bytes: 8});
	t.like(target, {via: 'hidden', name: 'free 3200 B slot', state: 'free', bytes: 3200});
	t.is(dangling.summary, `main.connHandles[0] holds ${target!.address} as uintptr: free 3200 B slot`);
	t.is(dangling.count, 3, 'three handles, one chain shape');
	t.true(dangling.complete);

	const leak = finding(first, 'leak');
	t.is(leak.reason, 'logged out');
	t.deepEqual(
		leak.path.map(h => [h.via, h.name, h.type, site(h)]),
		[
			['global', 'main.sessions', '', undefined],
			['global', 'main.sessions', '[]*main.session backing array', `agent/testdata/progs/planted/main.go:${marker('sessions')} main.logInOut`],
			['index', '[1]', 'main.session', `agent/testdata/progs/planted/main.go:${marker('login')} main.login`],
		],
	);
	t.regex(leak.summary, new RegExp(String.raw`^main\.session \(main\.go:${marker('login')}\) released [\d.]+m?s before the capture \(logged out\) is still reachable$`));
	t.deepEqual(
		first.findings.filter(f => f.kind !== 'suspect').map(f => f.kind),
		['dangling', 'leak'],
		'nothing else is reported in the planted program but the heap suspects',
	);
});

test.serial('report - pprof export: go tool pprof reads it; the planted globals appear with their retained bytes, function, file and line', async t => {
	const profile = path.join(out, 'heap.pb.gz');
	const top = await promisify(execFile)('go', ['tool', 'pprof', '-top', '-unit=B', '-nodefraction=0', '-show=^main\\.', profile], {cwd: path.join(root, 'agent')});
	const array = finding(first, 'dangling').path[1]!;
	// -top's rows: flat, flat%, sum%, cum, cum%, name.
	const rows = new Map(
		top.stdout
			.split('\n')
			.map(l => /^ +(\d+)B? +[\d.]+% +[\d.]+% +(\d+)B? +[\d.]+% +(.+)$/.exec(l))
			.filter(m => m !== null)
			.map(m => [m[3]!, {flat: Number(m[1]), cum: Number(m[2])}] as const),
	);
	// The global retains its backing array only: the freed slot is nobody's.
	t.deepEqual(rows.get('main.connHandles'), {flat: 0, cum: array.bytes}, top.stdout);
	t.deepEqual(rows.get('main.connHandles []uintptr backing array'), {flat: array.bytes, cum: array.bytes}, top.stdout);
	t.true((rows.get('main.sessions')?.cum ?? 0) > 0, top.stdout);
	t.regex(top.stdout, /^Type: inuse_space$/m);
	const lines = await promisify(execFile)('go', ['tool', 'pprof', '-traces', '-lines', '-show=connHandles', profile], {cwd: path.join(root, 'agent')});
	t.regex(lines.stdout, new RegExp(String.raw`main\.connHandles \[\]uintptr backing array .*planted/main\.go:${marker('handles')}`), lines.stdout);
	const objects = await promisify(execFile)('go', ['tool', 'pprof', '-top', '-sample_index=inuse_objects', '-show=^main\\.', profile], {cwd: path.join(root, 'agent')});
	t.regex(objects.stdout, /^Type: inuse_objects$/m);
});

test.serial('report - dot export: the dangling chain with the hidden word as a dashed edge; dot -Tsvg accepts it; the svg export is that drawing', async t => {
	const dot = fs.readFileSync(path.join(out, 'finding.dot'), 'utf8');
	const dangling = finding(first, 'dangling');
	t.true(dot.startsWith('digraph heaptop {\n'));
	t.true(dot.includes(`label="dangling: ${dangling.summary}";`));
	t.regex(dot, /n0 \[label="main\.connHandles\\n\[\]uintptr\\n24 B", fillcolor="#e0e0e0", penwidth=2\];/);
	t.regex(dot, new RegExp(String.raw`n1 \[label="main\.connHandles\\n\[\]uintptr backing array\\n32 B\\nmain\.go:${marker('handles')} main\.openConns", fillcolor="#c8f0c8", penwidth=2\];`));
	t.regex(dot, /n2 \[label="free 3200 B slot\\n3\.13 KiB, freed\\n0x[0-9a-f]+", fillcolor="#ffb3b3", penwidth=2\];/);
	t.regex(dot, /n1 -> n2 \[label="\[0\] uintptr \(hidden\)", style=dashed, color="#d00000", fontcolor="#d00000"\];/);
	const svg = await promisify(execFile)('dot', ['-Tsvg', path.join(out, 'finding.dot')]);
	t.true(svg.stdout.includes('<svg'));
	const exported = fs.readFileSync(path.join(out, 'finding.svg'), 'utf8');
	t.true(exported.includes('<svg') && exported.includes('main.connHandles'), 'the svg export draws the same graph');
});

/** Lines of the text report, checked for width: every line fits 80 columns. */
function reportLines(t: import('ava').ExecutionContext, text: string): string[] {
	const lines = text.trimEnd().split('\n');
	for (const line of lines) t.true([...line].length <= 80, `line of ${[...line].length} columns: ${line}`);
	return lines;
}

test.serial('report - --once names each planted finding with its global and file:line, in 80 columns, without escape codes when piped', async t => {
	t.timeout(reuseRun.timeoutMs + 30_000);
	const run = await runHeaptop([String(buggy.pid), '--once', ...reuse], env(buggy), reuseRun);
	t.is(run.stderr, '');
	t.is(run.code, 0);
	t.false(run.stdout.includes('\u001B'), 'no escape code in a pipe');
	const lines = reportLines(t, run.stdout);
	const snapshot = first.snapshot!;
	t.true(lines.some(l => l.startsWith(`Snapshot #${snapshot.id}  captured `)), 'the snapshot --json reported, reused');
	t.true(lines.includes('Findings  3 dangling, 1 leak' + (first.findings.some(f => f.kind === 'suspect') ? `, ${first.findings.filter(f => f.kind === 'suspect').length} suspect` : '')));
	const dangling = finding(first, 'dangling');
	const target = dangling.path[3]!;
	const at = lines.indexOf('dangling ×3 same chain');
	t.true(at > 0, run.stdout);
	t.is(lines[at + 1], dangling.summary);
	t.deepEqual(lines.slice(at + 2, at + 9), [
		'┌ main.connHandles  []uintptr  24 B',
		'├ main.connHandles  []uintptr backing array  32 B',
		`│   alloc main.go:${marker('handles')} main.openConns`,
		'╎ [0]  uintptr  8 B',
		`╎   hidden word at ${dangling.path[2]!.address} (the GC does not follow it)`,
		'└ free 3200 B slot  3.13 KiB',
		`    at ${target.address} (freed)`,
	]);
	const leak = finding(first, 'leak');
	const leakAt = lines.indexOf('leak');
	t.true(leakAt > at, run.stdout);
	// The summary is prose, wrapped to the width: two lines here.
	t.is(`${lines[leakAt + 1]} ${lines[leakAt + 2]}`.replace(/ +/g, ' '), leak.summary);
	t.deepEqual(lines.slice(leakAt + 3, leakAt + 8), [
		'┌ main.sessions',
		'├ main.sessions  []*main.session backing array  32 B',
		`│   alloc main.go:${marker('sessions')} main.logInOut`,
		'└ [1]  main.session  48 B',
		`    alloc main.go:${marker('login')} main.login`,
	]);
	t.regex(run.stdout, /^States\n {2}pending {3,}[\d,]+ objects +[\d.]+ (B|KiB|MiB)$/m);
	t.regex(run.stdout, /^Top retainers {2}retained bytes, share of the heap$/m);
});

test.serial('report - FORCE_COLOR=1 colours the findings; --ascii draws chains in ASCII', async t => {
	t.timeout(2 * reuseRun.timeoutMs);
	const coloured = await runHeaptop([String(buggy.pid), '--once', ...reuse], env(buggy, {FORCE_COLOR: '1'}), reuseRun);
	t.is(coloured.code, 0);
	t.true(coloured.stdout.includes('\u001B[1m\u001B[31mdangling ×3 same chain\u001B[39m\u001B[22m\n'), 'dangling in bold red');
	t.true(coloured.stdout.includes('\u001B[1m\u001B[35mleak\u001B[39m\u001B[22m\n'), 'leak in bold magenta');
	t.false(/\u001B\[\d*[ABCDGHJK]|\u001B\[\?/.test(coloured.stdout), 'no cursor movement or erase codes');
	const ascii = await runHeaptop([String(buggy.pid), '--once', '--ascii', ...reuse], env(buggy), reuseRun);
	t.regex(ascii.stdout, /^[\x20-\x7E\n]*$/, 'ASCII only');
	t.true(ascii.stdout.includes('\n+ main.connHandles  []uintptr  24 B\n'), ascii.stdout);
});

test.serial('report - --fail-on dangling exits 1 on the planted program with one line; kinds it does not have exit 0', async t => {
	t.timeout(3 * reuseRun.timeoutMs);
	const dangling = finding(first, 'dangling');
	const fails = await runHeaptop([String(buggy.pid), '--fail-on', 'dangling', ...reuse], env(buggy), reuseRun);
	t.is(fails.code, 1);
	t.is(fails.stderr, `heaptop: 3 findings of --fail-on dangling: ${dangling.summary}\n`);
	t.true(fails.stdout.includes(`dangling ×3 same chain\n${dangling.summary}\n`), 'the report is printed too');
	const leak = await runHeaptop([String(buggy.pid), '--fail-on', 'stack,leak', '--json', ...reuse], env(buggy), reuseRun);
	t.is(leak.code, 1);
	t.true(validate(JSON.parse(leak.stdout)));
	const passes = await runHeaptop([String(buggy.pid), '--fail-on', 'dangling-soon,stack,unprotected', ...reuse], env(buggy), reuseRun);
	t.is(passes.stderr, '');
	t.is(passes.code, 0);
});

test.serial('report - --fail-on dangling,leak exits 0 on the clean program, whose --json validates and has neither', async t => {
	t.timeout(captureRun.timeoutMs + 30_000);
	const run = await runHeaptop([String(clean.pid), '--fail-on', 'dangling,leak', '--json'], env(clean), captureRun);
	t.is(run.stderr, '');
	t.is(run.code, 0);
	const report = JSON.parse(run.stdout) as Report;
	t.true(validate(report), JSON.stringify(validate.errors));
	t.deepEqual(
		report.findings.filter(f => f.kind !== 'suspect').map(f => f.summary),
		[],
	);
});

test.serial('report - --max-age reuses the latest snapshot when young enough', async t => {
	t.timeout(reuseRun.timeoutMs + 30_000);
	const run = await runHeaptop([String(buggy.pid), '--json', ...reuse], env(buggy), reuseRun);
	const again = JSON.parse(run.stdout) as Report;
	t.is(again.snapshot!.id, first.snapshot!.id);
	t.is(again.snapshot!.capturedAt, first.snapshot!.capturedAt);
	t.deepEqual(again.findings, first.findings);
});

test.serial('report - without a snapshot, --json exits 2 with one line; --export svg to a directory that does not exist too', async t => {
	t.timeout(2 * reuseRun.timeoutMs);
	// The demo's recording cut after its first three events (Hello and two ticks), before its snapshot.
	const [header, ...rest] = fs.readFileSync('snapshots/demo.jsonl', 'utf8').trimEnd().split('\n');
	const early = rest.filter(line => 'event' in JSON.parse(line)).slice(0, 3);
	const noSnapshot = path.join(out, 'no-snapshot.jsonl');
	fs.writeFileSync(noSnapshot, [header, ...early, JSON.stringify({end: true, events: early.length, calls: 0})].join('\n') + '\n');
	const replay = await runHeaptop(['--replay', noSnapshot, '--json'], {});
	t.is(replay.stderr, 'heaptop: --json needs a heap snapshot; no heap snapshot: the recording carries none\n');
	t.is(replay.code, 2);
	t.is(replay.stdout, '');
	const file = path.join(out, 'missing', 'x.svg');
	const unwritable = await runHeaptop([String(buggy.pid), '--export', 'svg', file, ...reuse], env(buggy), reuseRun);
	t.is(unwritable.stderr, `heaptop: cannot write ${file}: ENOENT\n`);
	t.is(unwritable.code, 2);
});
