// Views rendered from snapshots/demo.jsonl, a recording of the real demo made
// by the real agent (snapshots/record.ts). Frames are exact, at 100 columns,
// with FORCE_COLOR=1 (ava's environment) so colours are asserted too; the
// plain text of a frame is compared whole, coloured lines where colour
// carries meaning. Re-recording changes the figures: update the literals.
import test from 'ava';
import path from 'node:path';
import {stripVTControlCharacters as plain} from 'node:util';
import React from 'react';
import {render} from 'ink-testing-library';
import {Replay, readRecording} from '../source/client/recording.js';
import {initialNavigation} from '../source/store/navigation.js';
import type {WatchUpdate} from '../source/client/events.js';
import {Store, initialSnapshot, reduce, type Snapshot} from '../source/store/store.js';
import {Live} from '../source/cli/live.js';
import App from '../source/views/App.js';
import Header from '../source/views/Header.js';
import Sparklines from '../source/views/Sparklines.js';
import {renderReport} from '../source/report/render.js';
import {keymap} from '../source/views/keymap.js';
import type {HeapSnapshot} from '../source/client/heap.js';
import {initialHeap} from '../source/store/heap.js';
import {heapModel, listRows, openByDefault, treeRows, type TreeRow} from '../source/store/model.js';
import {treeRowLine} from '../source/views/HeapTree.js';
import {listRowLine} from '../source/views/Lists.js';
import {sameLine, type Line} from '../source/views/StyledLine.js';
import {waitFor} from './helpers/wait.js';

const recording = readRecording(path.resolve(import.meta.dirname, '../snapshots/demo.jsonl'));
const updates: WatchUpdate[] = recording.updates.map(r => r.update);
const replayed: Snapshot = updates.reduce(reduce, initialSnapshot);
const nowMs = 0;
/** The last complete heap snapshot document of the recording. */
const doc = replayed.heap.document!;

/** The recording's own figures, for assertions that are not literals. */
const recordedPauses = updates.flatMap(u => (u.kind === 'hello' ? u.hello.history.flatMap(s => s.pauses) : u.kind === 'sample' ? u.sample.pauses : []));

test('store - every GC pause of the recording is one point, in cycle order', t => {
	const cycles = [...new Set(recordedPauses.map(p => p.cycle))].sort((a, b) => a - b);
	t.true(cycles.length >= 10, `${cycles.length} GC cycles recorded`);
	t.deepEqual(
		replayed.pauses.map(p => p.cycle),
		cycles,
	);
	t.deepEqual(replayed.gcPause.values, replayed.pauses.map(p => p.durationNs));
	t.is(replayed.gcPause.max, Math.max(...recordedPauses.map(p => p.durationNs)));
	t.is(replayed.samples.length, updates.filter(u => u.kind === 'sample').length + (updates[0]!.kind === 'hello' ? updates[0]!.hello.history.length : 0));
});

test('store - a Hello again from the same process adds nothing twice; from a restarted process it replaces the history', t => {
	const hello = updates[0]!;
	if (hello.kind !== 'hello') return t.fail('the recording starts with a Hello');
	const again = reduce(replayed, hello);
	t.is(again.samples.length, replayed.samples.length);
	t.deepEqual(again.pauses, replayed.pauses);
	const restarted = reduce(replayed, {kind: 'hello', hello: {...hello.hello, target: {...hello.hello.target, pid: hello.hello.target.pid + 1}}});
	t.deepEqual(restarted.samples, hello.hello.history);
	t.is(restarted.target?.pid, hello.hello.target.pid + 1);
});

test('store - connection states follow the stream: connecting, connected, reconnecting, failed', t => {
	const states = (
		[
			{kind: 'connecting', address: 'unix:///x.sock'},
			updates[0]!,
			{kind: 'reconnecting', reason: 'pid 1 closed the stream', nextAttemptMs: 1_250},
			{kind: 'failed', reason: 'agent speaks heaptop schema version 2, this heaptop speaks version 1; use matching versions'},
		] as WatchUpdate[]
	)
		.reduce<Snapshot[]>((acc, u) => [...acc, reduce(acc.at(-1) ?? initialSnapshot, u)], [])
		.map(s => s.connection.state);
	t.deepEqual(states, ['connecting', 'connected', 'reconnecting', 'failed']);
});

const header = [
	'heaptop  pid 9549  go1.26.8  /tmp/heaptop-record-hhNTeh/demo                             ● connected',
	'heap live 21.2 MiB / goal 42.6 MiB   objects 54,781   goroutines 13   GC 34 cycles, 0.00% CPU',
];
const sparklines = [
	'GC pause          ▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▂▁▁▁▁▁▁▁█▃▂▁▁▄▁ min    50.4 µs  max    15.7 ms  last    1.46 ms',
	'heap live   ▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▅▇▇▇▇▇███ min   1.87 MiB  max   21.2 MiB  last   21.2 MiB',
	'alloc rate  ▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁█▄▁▁▁▄▄▁▁ min 1.50 MiB/s  max 27.4 MiB/s  last 1.62 MiB/s',
];
const hints = [
	['q', 'quit'],
	['?', 'help'],
	['p', 'pause'],
	['c', 'capture'],
	['d', 'dangling'],
	['tab', 'pane'],
	['/', 'filter'],
	['s', 'sort'],
]
	.map(([key, hint]) => `\u001B[36m${key}\u001B[39m\u001B[2m ${hint}\u001B[22m`)
	.join('  ');

test('header - pid, executable, Go version, heap live/goal, objects, goroutines, GC and the connection state', t => {
	const {lastFrame} = render(<Header snapshot={replayed} columns={100} nowMs={nowMs} />);
	t.is(plain(lastFrame()!), header.join('\n'));
	t.is(
		lastFrame()!.split('\n')[0],
		'\u001B[1m\u001B[36mheaptop\u001B[39m\u001B[22m  pid 9549  go1.26.8  \u001B[1m/tmp/heaptop-record-hhNTeh/demo\u001B[22m' + ' '.repeat(29) + '\u001B[32m● connected\u001B[39m',
	);
});

test('header - says reconnecting with the countdown and the reason, in yellow', t => {
	const reconnecting = reduce(replayed, {kind: 'reconnecting', reason: 'pid 16247 (unix:///x.sock) closed the stream', nextAttemptMs: nowMs + 1_250});
	const {lastFrame} = render(<Header snapshot={reconnecting} columns={100} nowMs={nowMs} />);
	const lines = lastFrame()!.split('\n');
	t.is(plain(lines[0]!), 'heaptop  pid 9549  go1.26.8  /tmp/heaptop-record-hhNTeh/demo' + ' '.repeat(19) + 'reconnecting in 1.3 s');
	t.is(lines[2], '\u001B[33mpid 16247 (unix:///x.sock) closed the stream\u001B[39m');
});

test('header - shows only the state before the first Hello', t => {
	const {lastFrame} = render(<Header snapshot={reduce(initialSnapshot, {kind: 'connecting', address: 'unix:///run/heaptop/1.sock'})} columns={60} nowMs={nowMs} />);
	t.is(plain(lastFrame()!), ['heaptop' + ' '.repeat(43) + 'connecting', 'no sample yet', 'connecting to unix:///run/heaptop/1.sock'].join('\n'));
});

test('sparklines - GC pause per cycle, heap live and alloc rate, with min/max/last beside, in colour', t => {
	const {lastFrame} = render(<Sparklines snapshot={replayed} columns={100} />);
	t.is(plain(lastFrame()!), sparklines.join('\n'));
	// 34 GC cycles → 34 points, right-aligned in the 40-column line, magenta.
	t.is(
		lastFrame()!.split('\n')[0],
		'\u001B[1mGC pause\u001B[22m    \u001B[35m' + ' '.repeat(6) + '▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▂▁▁▁▁▁▁▁█▃▂▁▁▄▁\u001B[39m min    50.4 µs  max    15.7 ms  last    1.46 ms',
	);
	t.is(replayed.gcPause.values.length, 34);
});

test('sparklines - --ascii draws the same figures with ASCII characters only', t => {
	const {lastFrame} = render(<Sparklines snapshot={replayed} columns={100} ascii />);
	t.is(
		plain(lastFrame()!),
		[
			'GC pause          ___________________._______#-.__~_ min    50.4 us  max    15.7 ms  last    1.46 ms',
			'heap live   _______________________________=*****### min   1.87 MiB  max   21.2 MiB  last   21.2 MiB',
			'alloc rate  _______________________________#~___~~__ min 1.50 MiB/s  max 27.4 MiB/s  last 1.62 MiB/s',
		].join('\n'),
	);
});

test('sparklines - a narrow terminal shows the newest points and their own min/max/last', t => {
	const {lastFrame} = render(<Sparklines snapshot={replayed} columns={68} />);
	// 68 columns leave 8 for the line: the last 8 cycles, scaled to their own min and max.
	t.is(plain(lastFrame()!).split('\n')[0], 'GC pause    ▁█▃▂▁▁▄▁ min     170 µs  max    15.7 ms  last    1.46 ms');
});

test('app - the frame is rows-1 lines: header, snapshot line, the tree (sparklines give way on a short terminal), key hints, PAUSED', t => {
	const {lastFrame} = render(<App snapshot={replayed} columns={100} rows={12} nowMs={doc.capturedMs + 5_000} paused />);
	const lines = lastFrame()!.split('\n');
	t.is(lines.length, 11);
	t.deepEqual(
		lines.slice(0, 10).map(l => plain(l).trimEnd()),
		[
			...header,
			'snapshot #2 5 s ago   pause 13.9 ms   analysis 283 ms   30,759 objects   sites: every allocation',
			' Heap tree  1/174                                   retained   shallow   heap site',
			'▸ (held by several kinds of roots) symbols.Image    9.90 MiB     480 B  54.1%',
			'▾ goroutines                                        2.05 MiB            11.2%',
			'├─▸ (held by several goroutines) main.service       2.02 MiB      32 B  11.0% main.go:97',
			'├─▸ goroutine 41 in runtime/debug.WriteHeapDump …   20.9 KiB       0 B  0.11% heapdump.go:32',
			'├─▸ goroutine 24 in github.com/heaptop/heaptop/a…   11.7 KiB       0 B  0.06% agent.go:415',
			'├─▸ goroutine 35 in github.com/heaptop/heaptop/a…      432 B       0 B  0.00% server.go:232',
		],
	);
	t.is(lines[10], hints + ' '.repeat(18) + '\u001B[7m\u001B[1m\u001B[33m PAUSED \u001B[39m\u001B[22m\u001B[27m');
});

test('app - the help overlay takes the panes’ place, in two columns when one does not fit', t => {
	const {lastFrame} = render(<App snapshot={replayed} navigation={{...initialNavigation, help: true}} columns={100} rows={24} nowMs={doc.capturedMs} />);
	const lines = lastFrame()!.split('\n').map(l => plain(l).trimEnd());
	t.is(lines.length, 23);
	t.deepEqual(lines.slice(4, 8), [
		'Keys',
		'  q, ctrl-c          quit (the last path opened s…  pageup, ctrl-b     a page up',
		'  ?                  show or hide this help         pagedown, ctrl-f   a page down',
		'  p                  pause or resume the display    g, home            to the top',
	]);
	// Every binding of the keymap is there, none dropped by clipping.
	for (const b of keymap) t.true(lines.some(l => l.includes(`  ${b.keys.join(', ')}  `)), b.keys.join(', '));
	t.false(lines.join('\n').includes('Heap tree'));
});

test('report - --once output of the recording: header, sparklines and what they cover', t => {
	const text = renderReport(replayed, {columns: 100, nowMs});
	t.is(plain(text), [...header, '', ...sparklines, 'last 40 samples (40 s) and last 34 GC pauses'].join('\n'));
	t.true(text.includes('\u001B[32m● connected\u001B[39m'));
});

/** The recording's first complete document's place among its updates. */
const firstComplete = updates.findIndex(u => u.kind === 'snapshot' && u.snapshot.complete);

/** The live screen over the demo recording (its queries answered from it), its store fed the updates up to index `upTo`. */
function liveOnDemo(upTo: number, clock?: () => number) {
	const store = new Store({clock});
	for (const u of updates.slice(0, upTo + 1)) store.apply(u);
	const app = render(<Live store={store} queries={new Replay(recording, 'demo.jsonl', {paced: false})} ascii={false} />);
	return {store, app};
}

test('live - p freezes the display while data keeps coming, ? toggles help, q quits', async t => {
	const {store, app} = liveOnDemo(0);
	const frame = () =>
		plain(app.lastFrame() ?? '')
			.split('\n')
			.map(l => l.trimEnd())
			.join('\n');
	await waitFor('the first frame', () => frame().includes('● connected'));
	const before = frame();
	app.stdin.write('p');
	await waitFor('PAUSED', () => frame().includes('PAUSED'));
	for (const u of updates.slice(1)) store.apply(u);
	t.is(frame().replace(/ +PAUSED$/m, ''), before, 'paused: the screen keeps the snapshot taken at p');
	app.stdin.write('p');
	await waitFor('the newest data after resuming', () => frame().includes('GC 34 cycles'));
	t.false(frame().includes('PAUSED'));
	app.stdin.write('?');
	await waitFor('help', () => frame().includes('pause or resume the display'));
	app.stdin.write('?');
	await waitFor('help closed', () => frame().includes(' Heap tree '));
	t.is(store.subscriberCount, 1);
	app.stdin.write('q');
	// Quitting unmounts the app, which unsubscribes it from the store.
	await waitFor('the app to unmount', () => store.subscriberCount === 0);
});

test('live - on the demo, d opens its planted dangling reference: main.planted.evicted, and the pending statement with its allocation file:line', async t => {
	const {app} = liveOnDemo(firstComplete, () => doc.capturedMs);
	const frame = () => plain(app.lastFrame() ?? '');
	await waitFor('the heap tree', () => frame().includes(' Heap tree '));
	app.stdin.write('d');
	await waitFor('the first dangling chain', () => / Path  dangling 1\/\d/.test(frame()));
	t.regex(frame(), /^main\.planted\.evicted\[\d+\] holds 0x[0-9a-f]+ as uintptr: free 48 B slot/m);
	t.regex(frame(), /^┌ main\.planted +main\.bugs/m);
	t.regex(frame(), /^╎ main\.planted\.evicted\[\d+\] +uintptr +8 B {2}hidden word at 0x[0-9a-f]+/m);
	// d on: the evicted statements not collected yet are dangling soon (another ring slot may hold a reused slot's new object).
	const pendingStatement = /^└ pending main\.statement: the next GC frees it {2}48 B {2}alloc main\.go:\d+ main\.\S+ at 0x[0-9a-f]+/m;
	const total = Number(/ Path  dangling 1\/(\d+)/.exec(frame())![1]);
	for (let i = 2; i <= total && !pendingStatement.test(frame()); i++) {
		app.stdin.write('d');
		await waitFor(`hidden reference ${i}/${total}`, () => new RegExp(` Path  [a-z ]+ ${i}/${total} `).test(frame()));
	}
	t.regex(frame(), pendingStatement);
	t.regex(frame(), / Path  dangling soon \d\/\d/);
	app.stdin.write('q');
});

test("live - on the demo, the Dangling tab's main.planted group opens into its findings; enter on one opens its chain", async t => {
	const {app} = liveOnDemo(firstComplete, () => doc.capturedMs);
	const lines = () => plain(app.lastFrame() ?? '').split('\n');
	const dangling = () => {
		const at = lines().findIndex(l => l.startsWith(' Live '));
		return at < 0 ? [] : lines().slice(at + 2, at + 7).map(l => l.trimEnd());
	};
	await waitFor('the heap tree', () => lines().some(l => l.startsWith(' Heap tree ')));
	app.stdin.write('\t');
	app.stdin.write('l');
	app.stdin.write('l');
	await waitFor('the Dangling tab', () => /^▸ main\.planted +64 /.test(dangling()[0] ?? ''));
	app.stdin.write('\r');
	await waitFor('its findings', () => dangling()[0]!.startsWith('▾ main.planted'));
	// The group's 64 hidden words are three findings of the agent's, most urgent first (as d steps), each
	// with its summary, cut to the width.
	const rows = dangling()
		.slice(1)
		.filter(l => l.startsWith('  ─ '))
		.map(l => /^ {2}─ (.+?) {2}(main\.planted\.evicted\[\d+\] holds 0x[0-9a-f]+ as uintptr: .*)$/.exec(l)?.slice(1, 3));
	const summaries = [
		['dangling ×60', 'main.planted.evicted[0] holds 0x239d546ac2d0 as uintptr: free 48 B slot'],
		['dangling soon', 'main.planted.evicted[7] holds 0x239d54739da0 as uintptr: pending main.statement: the next GC frees it'],
		['unprotected ×3', 'main.planted.evicted[16] holds 0x239d54a00450 as uintptr: live main.statement, kept alive only by other references'],
	];
	t.deepEqual(
		rows.map(r => r?.[0]),
		summaries.map(([kind]) => kind),
	);
	for (const [i, [, summary]] of summaries.entries()) {
		const shown = rows[i]![1]!;
		t.true(shown === summary || (shown.endsWith('…') && summary!.startsWith(shown.slice(0, -1))), shown);
	}
	// A finding's kind in its colour: red for a hidden reference.
	t.true((app.lastFrame() ?? '').includes('\u001B[31m  ─ dangling ×60  \u001B[39m'));
	app.stdin.write('j');
	app.stdin.write('j');
	app.stdin.write('\r');
	await waitFor('the chain of the second finding', () => lines().some(l => / Path {2}dangling soon /.test(l)));
	t.true(lines().some(l => /^└ pending main\.statement: the next GC frees it {2}48 B {2}alloc main\.go:\d+/.test(l)));
	app.stdin.write('q');
});

test('live - a page asked for ahead of the cursor that the recording lacks fails quietly; enter on its row says why', async t => {
	// The store's own clock: a notice shows for a while after it is made.
	const {store, app} = liveOnDemo(updates.length - 1);
	const frame = () => plain(app.lastFrame() ?? '');
	// The goroutines' "… more" row is on the first screen: its page is asked for at once, and the recording has none.
	await waitFor('the heap tree', () => /^└── … \d+ more \(enter loads them\)/m.test(frame()));
	await new Promise(resolve => setTimeout(resolve, 200));
	t.false(frame().includes('cannot load'), frame());
	const goroutines = doc.tree.find(n => n.kind === 'root-group' && n.label === 'goroutines' && n.childrenTotal > n.childrenSent)!;
	store.navigate({kind: 'to-key', key: `more ${goroutines.key}`});
	app.stdin.write('\r');
	await waitFor('the reason', () => frame().includes('cannot load the children of goroutines: the recording holds no Expand of node'));
	app.stdin.write('q');
});

/** The demo's complete documents as the client decodes them, the last one decoded again too (no object shared). */
const decodedAgain = readRecording(path.resolve(import.meta.dirname, '../snapshots/demo.jsonl')).updates.flatMap(r => (r.update.kind === 'snapshot' && r.update.snapshot.complete ? [r.update.snapshot] : []));

/** Every row of a document's tree with every node whose children it carries opened, and the line each draws at 100 columns. */
function treeLines(document: HeapSnapshot): Array<{key: string; row: TreeRow; line: Line}> {
	const model = heapModel({...initialHeap, document})!;
	const opened = new Set([...model.nodes.values()].filter(n => model.children.has(n.id) && !openByDefault(n)).map(n => n.key));
	return treeRows(model, opened).map(row => ({key: row.key, row, line: treeRowLine(row, false, true, model.heapBytes, 100, false)}));
}

test('rows - a document decoded again draws every tree and list row as before (StyledLine draws none again), though every row object is new', t => {
	const again = decodedAgain.at(-1)!;
	t.is(again.id, doc.id);
	t.not(again, doc);
	const before = treeLines(doc);
	const after = treeLines(again);
	t.is(after.length, 2134);
	t.deepEqual(after.map(r => r.key), before.map(r => r.key));
	t.true(after.every((r, i) => r.row !== before[i]!.row && sameLine(r.line, before[i]!.line)));
	const listLines = (document: HeapSnapshot) => listRows(heapModel({...initialHeap, document})!, 'live', 'bytes', '', new Set()).map(row => listRowLine(row, false, true, 100, false));
	const listed = listLines(again);
	// The document's 200 biggest groups, and the row for the others.
	t.is(listed.length, 201);
	t.true(listed.every((line, i) => sameLine(line, listLines(doc)[i]!)));
});

test('rows - of the next capture, rows that read the same are not drawn again, the others are: most by their share of a heap that changed', t => {
	const [first, second] = decodedAgain;
	t.deepEqual([first!.id, second!.id], [1, 2]);
	const earlier = new Map(treeLines(first!).map(r => [r.key, r]));
	const both = treeLines(second!).filter(r => earlier.has(r.key));
	const redrawn = both.filter(r => !sameLine(r.line, earlier.get(r.key)!.line));
	t.deepEqual([both.length, redrawn.length], [1026, 909]);
	// The share of the heap is the sixth run; 727 rows differ in it alone.
	const shareOnly = redrawn.filter(r => r.line.spans.every((s, i) => (s.text === earlier.get(r.key)!.line.spans[i]!.text) === (i !== 5)));
	t.is(shareOnly.length, 727);
});
