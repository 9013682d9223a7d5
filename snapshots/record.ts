// Makes the recordings the view tests render from: builds a real Go program
// with `go build`, starts it with the real agent in a private discovery
// directory, and records its Watch stream and the queries beside it with
// the same Watch and Recorder that `heaptop --record` uses. The programs:
//   demo    agent/examples/demo -full-sites, the service heaptop is shown
//           on, with its planted bugs (bugs.go: a uintptr ring of evicted
//           statements, main.planted.evicted, and a leak of closed
//           sessions) → snapshots/demo.jsonl
//   hidden  agent/testdata/progs/hidden, which plants a hidden reference of
//           each kind (uintptrs to freed slots in main.freedHandles, to a
//           parked goroutine's local, to a pending object, to a held one)
//           → snapshots/hidden.jsonl
//   heapgen agent/examples/heapgen -objects 1e6 (or --objects=N, ~100 bytes
//           each): a large heap for the frame-cost benchmark
//           (test/bench/frames.tsx); one capture, not committed (it is big;
//           BENCHMARKS.md says how to make it)
//
// It connects after the agent has sampled for a few seconds, so the recorded
// Hello carries history, as a watcher joining a running service sees it.
// Then it does what a user does with the keys, each answer recorded:
//   c        Capture: the progress events and both documents (findings
//            first, then complete) arrive on the stream, the reply after;
//   enter    Expand of the first node whose children the document left out
//            (one that sent some, and one that sent none), Path of a tree
//            leaf and of the biggest live group, the whole chain of every
//            finding whose middle the document elided; Members of the
//            biggest live group (one page) and of the one with the most
//            objects (two pages), and Path of the first object of each;
//            Groups of the live list past the document's (one page) and
//            a search of all of it for the first such group's type;
//   C        Capture with a GC first: a second snapshot, for the tests of
//            what a new snapshot keeps (the cursor, the open nodes and
//            groups: the same first pages of Members again).
// A capture refused for its cost is recorded, then confirmed, as `y` does.
// With --tree=N it then opens nodes, biggest first, until N tree nodes are
// known, each Expand page recorded: the large tree of the frame-cost
// benchmark, as a user paging through a folded row of many objects makes it.
// With --members=N it pages through the live group with the most objects
// until N of them are known: the long list of the frame-cost benchmark.
//
//   node --import tsx snapshots/record.ts [demo|hidden|heapgen] [out=snapshots/<program>.jsonl] [--tree=N] [--members=N] [--objects=N]
//
// Re-run it after a schema change (the tests' expected frames change with it).
import {execFileSync, spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {Recorder} from '../source/client/recording.js';
import {Watch} from '../source/client/watch.js';
import {QueryError, membersPageSize, type CaptureOptions} from '../source/client/queries.js';
import type {HeapSnapshot} from '../source/client/heap.js';
import {version} from '../source/cli/args.js';

const root = path.resolve(import.meta.dirname, '..');
const positional = process.argv.slice(2).filter(a => !a.startsWith('--'));
/** A --name=value option's value. */
const option = (name: string) => process.argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const heapgenObjects = Number(option('objects') ?? 1e6);
if (!Number.isSafeInteger(heapgenObjects) || heapgenObjects < 1000) throw new Error(`--objects wants a count of objects, not ${option('objects')}`);
/** Each program's package in agent/, its arguments, and whether the second capture (C) is recorded. */
const programs: Record<string, {pkg: string; args: string[]; gcCapture: boolean}> = {
	// Every object's allocation site, so each hop of the planted chains has its file:line.
	demo: {pkg: './examples/demo', args: ['-full-sites'], gcCapture: true},
	hidden: {pkg: './testdata/progs/hidden', args: [], gcCapture: true},
	heapgen: {pkg: './examples/heapgen', args: ['-objects', String(heapgenObjects), '-bytes', `${heapgenObjects / 1e4}MB`], gcCapture: false},
};
const program = positional[0] ?? 'demo';
if (!programs[program]) throw new Error(`no program ${program}: one of ${Object.keys(programs).join(', ')}`);
const out = path.resolve(positional[1] ?? path.join(root, `snapshots/${program}.jsonl`));
const treeNodes = Number(option('tree') ?? 0);
if (!Number.isSafeInteger(treeNodes) || treeNodes < 0) throw new Error(`--tree wants a count of tree nodes, not ${option('tree')}`);
const memberRows = Number(option('members') ?? 0);
if (!Number.isSafeInteger(memberRows) || memberRows < 0) throw new Error(`--members wants a count of objects, not ${option('members')}`);

/** How long the agent samples before the recording starts: history for the Hello, enough for the sparklines' 40 points with the ticks recorded after. */
const historySeconds = 30;
/** Ticks recorded before the first capture and after each. */
const pauseSeconds = 3;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heaptop-record-'));
fs.chmodSync(dir, 0o700);
const binary = path.join(dir, program);
const {pkg, args, gcCapture} = programs[program]!;
execFileSync('go', ['build', '-o', binary, pkg], {cwd: path.join(root, 'agent'), stdio: 'inherit'});

// stdin stays open: the hidden program runs until it is closed.
const demo = spawn(binary, args, {env: {...process.env, HEAPTOP_DIR: dir}, stdio: ['pipe', 'inherit', 'inherit']});
const exited = new Promise(resolve => demo.once('exit', resolve));
process.on('exit', () => {
	demo.kill('SIGKILL');
	fs.rmSync(dir, {recursive: true, force: true});
});

const sleep = (seconds: number) => new Promise(resolve => setTimeout(resolve, seconds * 1000));
const deadline = Date.now() + 300_000; // heapgen builds its heap first
while (!fs.existsSync(path.join(dir, `${demo.pid}.json`))) {
	if (Date.now() > deadline || demo.exitCode !== null) throw new Error(`${program} did not announce its agent`);
	await sleep(0.05);
}
await sleep(historySeconds);

const recorder = new Recorder(out, version());
const watch = new Watch({
	target: {kind: 'pid', pid: demo.pid!},
	dir,
	onMessage: bytes => recorder.add(bytes),
	onCall: call => recorder.addCall(call),
});
const counts = {events: 0, snapshots: 0, calls: 0};
await watch.start(update => {
	counts.events++;
	if (update.kind === 'snapshot') counts.snapshots++;
	if (update.kind === 'failed' || update.kind === 'reconnecting') throw new Error(`recording broke: ${update.reason}`);
});

/** A capture as the keys make it: refused for cost, it is confirmed (y). */
async function capture(forceGc: boolean): Promise<HeapSnapshot> {
	const options: CaptureOptions = {forceGc, confirmCost: false};
	counts.calls++;
	try {
		return await watch.capture(options);
	} catch (error) {
		if (!(error instanceof QueryError) || error.failure !== 'cost') throw error;
		console.log(`capture refused for cost (recorded): ${error.message}; confirming`);
		counts.calls++;
		return watch.capture({...options, confirmCost: true});
	}
}

/** The queries the keys make on a document, each answer recorded. */
async function explore(doc: HeapSnapshot): Promise<void> {
	const queries: Array<Promise<unknown>> = [];
	const someSent = doc.tree.find(n => n.childrenSent > 0 && n.childrenTotal > n.childrenSent);
	const noneSent = doc.tree.find(n => n.childrenSent === 0 && n.childrenTotal > 0);
	for (const n of [someSent, noneSent]) if (n) queries.push(watch.expand(doc.id, n.id, n.childrenSent));
	const leaf = doc.tree.find(n => n.kind === 'object' && n.childrenTotal === 0);
	if (leaf) queries.push(watch.path(doc.id, {node: leaf.id}));
	const live = doc.groups.find(g => g.list === 'live');
	if (live) queries.push(watch.path(doc.id, {groupKey: live.key}));
	for (const f of doc.findings) if (f.path.some(h => h.elided > 0)) queries.push(watch.path(doc.id, {findingKey: f.key}));
	counts.calls += queries.length;
	await Promise.all(queries);
	for (const first of await openGroups(doc)) {
		counts.calls++;
		await watch.path(doc.id, {address: first});
	}
	await listRest(doc);
}

/**
 * Groups of the live list past the document's, as its last row asks for
 * them, and a search of the whole list (as / and enter make it) for the
 * type of the first group of that page, which the document does not carry.
 */
async function listRest(doc: HeapSnapshot): Promise<void> {
	const total = doc.listTotals.find(t => t.list === 'live');
	const inDocument = doc.groups.filter(g => g.list === 'live').length;
	if (!total || total.groups <= inDocument) return;
	counts.calls++;
	const beyond = (await watch.groups(doc.id, 'live', '', inDocument)).groups[0];
	if (!beyond) return;
	counts.calls++;
	await watch.groups(doc.id, 'live', beyond.typeName, 0);
}

/** The live groups whose objects the recording lists: the biggest, and the one with the most objects. */
function listedGroups(doc: HeapSnapshot) {
	const live = doc.groups.filter(g => g.list === 'live');
	const most = live.reduce((a, g) => (g.count > a.count ? g : a), live[0]!);
	return live.length === 0 ? [] : [{group: live[0]!, pages: 1}, ...(most === live[0] ? [] : [{group: most, pages: 2}])];
}

/** Members pages of the listed groups, as opening them and enter on "more" ask; the first object of each. */
async function openGroups(doc: HeapSnapshot): Promise<number[]> {
	const firsts: number[] = [];
	for (const {group, pages} of listedGroups(doc)) {
		const known = await pageMembers(doc, group.key, pages * membersPageSize);
		if (known.first !== undefined) firsts.push(known.first);
	}
	return firsts;
}

/** Pages through a group's members, as the UI asks for them, until `want` are known or none are left. */
async function pageMembers(doc: HeapSnapshot, groupKey: string, want: number): Promise<{loaded: number; first: number | undefined}> {
	let loaded = 0;
	let first: number | undefined;
	for (;;) {
		counts.calls++;
		const page = await watch.members(doc.id, groupKey, loaded);
		first ??= page.members[0]?.address;
		loaded += page.members.length;
		if (page.members.length === 0 || loaded >= page.total || loaded >= want) return {loaded, first};
	}
}

/** The most rows one Expand returns (the agent's maxExpand). */
const expandLimit = 1000;

/**
 * Expand pages until want tree nodes are known: each time the node with the
 * most children still unloaded, so a folded row of many objects is paged
 * through as a user holding enter on its "more" row would.
 */
async function openUntil(doc: HeapSnapshot, want: number): Promise<number> {
	let known = doc.tree.length;
	const unloaded = new Map(doc.tree.filter(n => n.childrenTotal > n.childrenSent).map(n => [n.id, {total: n.childrenTotal, loaded: n.childrenSent}]));
	while (known < want && unloaded.size > 0) {
		let id = 0;
		let most = -1;
		for (const [k, c] of unloaded) if (c.total - c.loaded > most) [id, most] = [k, c.total - c.loaded];
		const c = unloaded.get(id)!;
		counts.calls++;
		const nodes = await watch.expand(doc.id, id, c.loaded, expandLimit);
		c.loaded += nodes.length;
		known += nodes.length;
		if (nodes.length === 0 || c.loaded >= c.total) unloaded.delete(id);
		for (const n of nodes) if (n.childrenTotal > 0) unloaded.set(n.id, {total: n.childrenTotal, loaded: 0});
	}
	return known;
}

await sleep(pauseSeconds);
const first = await capture(false);
await explore(first);
if (treeNodes > 0) console.log(`${(await openUntil(first, treeNodes)).toLocaleString('en-US')} tree nodes known after opening`);
if (memberRows > 0) {
	const most = listedGroups(first).at(-1)!.group;
	const {loaded} = await pageMembers(first, most.key, memberRows);
	console.log(`${loaded.toLocaleString('en-US')} objects of ${most.typeName} (${most.count.toLocaleString('en-US')} in all) known after paging`);
}
if (gcCapture) {
	await sleep(pauseSeconds);
	const second = await capture(true);
	await openGroups(second);
}
await sleep(pauseSeconds);

watch.close();
recorder.close();
demo.kill('SIGTERM');
await exited;
const size = fs.statSync(out).size;
console.log(
	`recorded ${counts.events} events (${counts.snapshots} snapshot documents) and ${counts.calls} calls from ${program} (pid ${demo.pid}) into ${path.relative(root, out)}, ${(size / 1024).toFixed(0)} KiB`,
);
process.exit(0);
