// Benchmark: what one update of the live screen costs, at 120 x 40, on a
// recording made by the real agent (snapshots/record.ts). Not a test: it
// prints figures for BENCHMARKS.md.
//
//   node --import tsx test/bench/frames.tsx [recording=snapshots/demo.jsonl] [runs=200] [only]
//
// With `only`, just the updates whose name starts with it are timed (the
// others' setup still runs, untimed): `document` times the new documents
// alone, so that more runs fit in a quiet spell of a shared machine.
//
// The Live component runs under Ink exactly as heaptop runs it (production
// React, Ink's own renderer and throttle), writing to an in-memory terminal
// of 120 x 40. One update is timed from the change (a key, a tick, a new
// document) to the end of Ink's write of the new frame (the synchronized-
// update end mark Ink writes after it): the React render of every pane,
// Yoga layout, Ink's output and its diff against the last frame, the bytes
// handed to the terminal.
//
// Updates timed:
//   key j/k      a cursor move in the heap tree as the document has it
//   key pgdn     a page down (then up) in the tree with every node whose
//                children the document or the recorded Expand answers
//                carry opened (the most rows the tree can have from this
//                recording)
//   key j/k      a cursor move in that opened tree
//   key j/k      in the lists (the Live tab)
//   key pgdn     in the lists with the group whose objects the recording
//                paged through most opened (record.ts --members=N): a list
//                of that many rows
//   key j/k      in that list
//   tick         a metrics sample (header, sparklines)
//   document     a new snapshot document: the model is rebuilt (tree rows,
//                lists, findings) and the cursor found again by key. The
//                recorded document under a newer id, decoded afresh from
//                its recorded bytes each time, as the client decodes every
//                document it receives: the same heap captured again
//   document     the same, alternating the last two recorded captures (the
//   (changed)    demo's c and C): a heap that changed between captures
//                (only when the recording has two complete documents)
// Bytes: what Ink handed to the terminal for the update.
// Memory: resident set after the recording is loaded and drawn.
// Colours are on (FORCE_COLOR=1), as on the terminal of someone watching.
import type {Member} from '../../source/client/heap.js';
process.env['NODE_ENV'] = 'production';
// A colour terminal, whatever this process's own stdout is: the styles are much of a frame's cost.
process.env['FORCE_COLOR'] = '1';
delete process.env['NO_COLOR'];
const {PassThrough} = await import('node:stream');
const path = await import('node:path');
const React = (await import('react')).default;
const {render} = await import('ink');
const {Replay, readRecording} = await import('../../source/client/recording.js');
const {Store} = await import('../../source/store/store.js');
const {Live, renderOptions} = await import('../../source/cli/live.js');
const {listRows, treeRows} = await import('../../source/store/model.js');
const {MembersRequest, WatchEvent} = await import('../../source/gen/heaptop/v1/heaptop.js');
const {toUpdate} = await import('../../source/client/events.js');
const fs = await import('node:fs');

const file = path.resolve(process.argv[2] ?? 'snapshots/demo.jsonl');
const runs = Number(process.argv[3] ?? 200);
const only = process.argv[4] ?? '';
const columns = 120;
const rows = 40;

const loadStarted = performance.now();
const recording = readRecording(file);
const updates = recording.updates.map(r => r.update);
const lastComplete = updates.findLastIndex(u => u.kind === 'snapshot' && u.snapshot.complete);
if (lastComplete < 0) throw new Error(`${file} holds no complete snapshot document`);
const store = new Store();
for (const u of updates.slice(0, lastComplete + 1)) store.apply(u);
const doc = store.state.model!.document;
// The recorded Expand answers of this document, as if the user had loaded them.
for (const a of recording.answers) if ('nodes' in a.answer) store.apply({kind: 'expanded', snapshotId: doc.id, nodes: a.answer.nodes});
const loadMs = performance.now() - loadStarted;

/**
 * A terminal in memory. Ink writes a frame between the marks of a
 * synchronized update (a terminal that is a TTY gets them): the end mark
 * resolves the waiter, once the whole frame has been handed over.
 */
const endOfFrame = '\u001B[?2026l';
const stdout = Object.assign(new PassThrough(), {isTTY: true, columns, rows});
stdout.resume();
const write = stdout.write.bind(stdout) as (chunk: string) => boolean;
let written: (() => void) | undefined;
/** Bytes handed to the terminal, for the bytes per update. */
let bytes = 0;
stdout.write = ((chunk: string) => {
	const ok = write(chunk);
	bytes += Buffer.byteLength(String(chunk));
	if (String(chunk).includes(endOfFrame)) {
		written?.();
		written = undefined;
	}
	return ok;
}) as typeof stdout.write;
const stdin = Object.assign(new PassThrough(), {isTTY: true, setRawMode: () => stdin, ref: () => stdin, unref: () => stdin});
const queries = new Replay(recording, path.basename(file), {paced: false});
const started = performance.now();
let first: () => void = () => {};
const firstFrame = new Promise<void>(resolve => (first = resolve));
written = () => first();
const app = render(React.createElement(Live, {store, queries, ascii: false}), {
	stdout: stdout as unknown as NodeJS.WriteStream,
	stdin: stdin as unknown as NodeJS.ReadStream,
	...renderOptions,
});
await firstFrame;
const firstFrameMs = performance.now() - started;

/** Ink throttles frames to 30 per second: updates are spaced beyond its window, so each is drawn at once. */
const spacing = () => new Promise(resolve => setTimeout(resolve, 40));

type Figures = {name: string; median: number; p95: number; max: number; cpu: number; bytes: number};

/**
 * Wall time from the change to the frame written, and the CPU time this
 * process used meanwhile (user + system): on a machine whose cores are
 * shared, wall time includes waiting for a core, CPU time does not.
 */
async function time(name: string, n: number, change: (i: number) => void, prepare: (i: number) => void = () => {}): Promise<Figures | undefined> {
	if (!name.startsWith(only)) return undefined;
	const ms: number[] = [];
	const cpu: number[] = [];
	const sent: number[] = [];
	for (let i = 0; i < n; i++) {
		await spacing();
		// Untimed: what comes before the update reaches the store (a document's decoding).
		prepare(i);
		const drawn = new Promise<void>(resolve => (written = resolve));
		const c0 = process.cpuUsage();
		const b0 = bytes;
		const t0 = performance.now();
		change(i);
		await drawn;
		ms.push(performance.now() - t0);
		const c = process.cpuUsage(c0);
		cpu.push((c.user + c.system) / 1000);
		sent.push(bytes - b0);
	}
	const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(n / 2)]!;
	ms.sort((a, b) => a - b);
	return {name, median: median(ms), p95: ms[Math.floor(n * 0.95)]!, max: ms.at(-1)!, cpu: median(cpu), bytes: median(sent)};
}

const pageDown = '\u001B[6~';
const pageUp = '\u001B[5~';
const results = [];
// j then k, so the cursor stays near the top and every move changes the frame.
results.push(await time('key j/k (tree cursor)', runs, i => stdin.write(i % 2 ? 'k' : 'j')));
// Every node whose children are known opened: the tree as large as this recording can make it.
const model = store.state.model!;
for (const node of model.nodes.values()) if (model.children.has(node.id) && node.kind !== 'root-group') store.navigate({kind: 'toggle', key: node.key, open: true});
const openRows = treeRows(store.state.model!, store.state.navigation.toggled).length.toLocaleString('en-US');
// Two pages down, one up: the window moves by a page on every key and goes deeper each time.
results.push(await time(`key pgdn/pgup (tree of ${openRows} rows)`, runs, i => stdin.write(i % 3 === 2 ? pageUp : pageDown)));
results.push(await time(`key j/k (tree of ${openRows} rows)`, runs, i => stdin.write(i % 2 ? 'k' : 'j')));
stdin.write('\t');
await spacing();
const liveGroups = store.state.model!.lists.live.groups.length;
results.push(await time(`key j/k (list of ${liveGroups} groups)`, runs, i => stdin.write(i % 2 ? 'k' : 'j')));
// The recorded Members pages of this document, in order, for the group with the most of them, opened.
const pages = new Map<string, Array<{offset: number; members: readonly Member[]; total: number}>>();
for (const a of recording.answers) {
	if (!('page' in a.answer)) continue;
	const request = MembersRequest.decode(Buffer.from(a.request, 'base64'));
	if (Number(request.snapshotId) !== doc.id) continue;
	pages.set(request.groupKey, [...(pages.get(request.groupKey) ?? []), {offset: request.offset, ...a.answer.page}]);
}
const [groupKey, groupPages] = [...pages].sort((a, b) => b[1].length - a[1].length)[0] ?? [];
if (groupKey && groupPages) {
	for (const p of groupPages.sort((a, b) => a.offset - b.offset)) store.apply({kind: 'members', snapshotId: doc.id, groupKey, ...p});
	store.navigate({kind: 'toggle-group', key: groupKey, open: true});
	store.navigate({kind: 'to-key', key: groupKey});
	await spacing();
	const nav = store.state.navigation;
	const listed = listRows(store.state.model!, nav.tab, nav.sort, nav.filter, nav.openGroups).length.toLocaleString('en-US');
	results.push(await time(`key pgdn/pgup (list of ${listed} rows)`, runs, i => stdin.write(i % 3 === 2 ? pageUp : pageDown)));
	results.push(await time(`key j/k (list of ${listed} rows)`, runs, i => stdin.write(i % 2 ? 'k' : 'j')));
	store.navigate({kind: 'toggle-group', key: groupKey, open: false});
}
const samples = updates.filter(u => u.kind === 'sample');
results.push(await time('tick (metrics sample)', runs, i => store.apply(samples[i % samples.length]!)));
/**
 * The recorded complete documents as the stream carried them (a document's
 * decoding is the client's work, before the update reaches the store; a
 * decoded document shares no object with the one shown).
 */
const decode = (bytes: Buffer) => {
	const u = toUpdate(WatchEvent.decode(bytes), false);
	return u.kind === 'snapshot' && u.snapshot.complete ? u.snapshot : undefined;
};
const captures = fs
	.readFileSync(file, 'utf8')
	.split('\n')
	.flatMap(line => {
		const event: unknown = line ? JSON.parse(line).event : undefined;
		return typeof event === 'string' ? [Buffer.from(event, 'base64')] : [];
	})
	.filter(bytes => decode(bytes) !== undefined)
	.slice(-2);
// A new document each time, decoded from the recorded bytes, under a newer id (the store shows only newer ones).
let newest = doc.id;
let next: typeof doc = doc;
const documents = (recorded: readonly Buffer[]) => (i: number) => {
	next = {...decode(recorded[i % recorded.length]!)!, id: ++newest};
};
const apply = () => store.apply({kind: 'snapshot', snapshot: next});
results.push(await time('document (new snapshot)', runs, apply, documents(captures.slice(-1))));
if (captures.length === 2) results.push(await time('document (changed: two captures in turn)', runs, apply, documents(captures)));
const rss = process.memoryUsage().rss / 2 ** 20;
app.unmount();

const f = (x: number) => x.toFixed(1);
console.log(`recording ${path.relative(process.cwd(), file)}: snapshot #${doc.id}, ${doc.stats.objects.toLocaleString('en-US')} objects in the heap, ${model.nodes.size.toLocaleString('en-US')} tree nodes known, ${doc.groups.length} list groups, ${doc.findings.length} findings`);
console.log(`load ${f(loadMs)} ms, first frame ${f(firstFrameMs)} ms after render(), resident ${f(rss)} MiB`);
console.log(`update at ${columns}x${rows}, ms from change to frame written: median / p95 / max wall, median CPU; median bytes written`);
for (const r of results) if (r) console.log(`  ${r.name.padEnd(40)} ${f(r.median).padStart(6)} ${f(r.p95).padStart(6)} ${f(r.max).padStart(6)}   ${f(r.cpu).padStart(6)}   ${String(r.bytes).padStart(6)}`);
process.exit(0);
