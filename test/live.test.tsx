// The live screen driven by keys over snapshots/hidden.jsonl: a recording
// made by the real agent from agent/testdata/progs/hidden, which plants a
// hidden reference of each kind — uintptrs to 12 freed 3200-byte slots in
// main.freedHandles (allocated at main.go:96), a parked goroutine's local
// in main.stackAddr, a pending main.soonVictim in main.soonAddr, a held
// main.heldThing in main.heldAddr, a held main.victim in main.reusedAddr
// (snapshots/record.ts makes it). The store
// is fed the recorded stream; Capture, Expand and Path are answered by a
// Replay of the same recording, as `heaptop --replay` does. Columns are 100
// and FORCE_COLOR=1 (ava's environment), so colours are asserted as escapes.
import test from 'ava';
import path from 'node:path';
import {stripVTControlCharacters as plain} from 'node:util';
import React from 'react';
import {render} from 'ink-testing-library';
import {Replay, readRecording} from '../source/client/recording.js';
import type {WatchUpdate} from '../source/client/events.js';
import {Store} from '../source/store/store.js';
import {Live} from '../source/cli/live.js';
import App from '../source/views/App.js';
import Lists from '../source/views/Lists.js';
import {listRows} from '../source/store/model.js';
import {formatBytes, formatDuration} from '../source/views/format.js';
import {waitFor} from './helpers/wait.js';

const file = path.resolve(import.meta.dirname, '../snapshots/hidden.jsonl');
const recording = readRecording(file);
const updates: WatchUpdate[] = recording.updates.map(r => r.update);
/** Index of the update that brings snapshot `id`, complete. */
const complete = (id: number) => updates.findIndex(u => u.kind === 'snapshot' && u.snapshot.id === id && u.snapshot.complete);
const firstDocument = updates[complete(1)]!;
if (firstDocument.kind !== 'snapshot') throw new Error('the recording has no complete snapshot');
const doc = firstDocument.snapshot;
/** The store's clock: a minute after the first snapshot was taken. */
const clock = () => doc.capturedMs + 60_000;

/** A live screen on a store fed the recording up to update `upTo` (inclusive). */
function live(upTo = complete(1)) {
	const store = new Store({clock});
	for (const u of updates.slice(0, upTo + 1)) store.apply(u);
	const app = render(<Live store={store} queries={new Replay(recording, 'hidden.jsonl', {paced: false})} ascii={false} />);
	const lines = () => plain(app.lastFrame() ?? '').split('\n').map(l => l.trimEnd());
	const frame = () => lines().join('\n');
	const keys = (...k: string[]) => {
		for (const key of k) app.stdin.write(key);
	};
	return {store, app, lines, frame, keys};
}

/** The lines of the path pane: from its title to the blank line after the chain. */
function pathPane(lines: string[]): string[] {
	const start = lines.findIndex(l => l.startsWith(' Path '));
	if (start < 0) return [];
	const end = lines.findIndex((l, i) => i > start + 1 && l === '');
	return lines.slice(start, end < 0 ? undefined : end);
}

const address = (n: number) => `0x${n.toString(16)}`;
/** The tabs count every group of a list, not only the 200 the document carries. */
const groupsOf = (list: string) => (doc.listTotals.find(l => l.list === list)?.groups ?? 0).toLocaleString('en-US');
const liveGroups = groupsOf('live');
const tabTitles = ` Live ${liveGroups}   Pending ${groupsOf('pending')}   Dangling 5   Leaks 0`;
const freed = doc.findings.find(f => f.kind === 'dangling')!;
const [global, backing, word, target] = freed.path;

test('path view - d opens the planted dangling chain: main.freedHandles, its allocation at main.go:96, the hidden word, the freed slot', async t => {
	const s = live();
	await waitFor('the heap tree', () => s.frame().includes(' Heap tree '));
	s.keys('d');
	await waitFor('the path pane', () => s.frame().includes(' Path '));
	t.deepEqual(pathPane(s.lines()), [
		` Path  dangling 1/5${' '.repeat(75)}4 hops`,
		`main.freedHandles[0] holds ${address(target!.address)} as uintptr: free 3200 B slot (1 of 12 of this shape)`,
		'┌ main.freedHandles                  []uintptr                 24 B',
		'├ main.freedHandles                  []uintptr backing a…      96 B  alloc main.go:96 main.plantFre…',
		`╎ [0]                                uintptr                    8 B  hidden word at ${address(word!.address + word!.offset)} …`,
		`└ free 3200 B slot  3.13 KiB  at ${address(target!.address)} (freed)`,
	]);
	t.is(global!.label, 'main.freedHandles');
	t.is(backing!.site?.file.endsWith('agent/testdata/progs/hidden/main.go'), true);
	// Colours: the hidden word red, the live backing array green, the freed target red and bold.
	const coloured = s.app.lastFrame()!.split('\n');
	t.true(coloured.some(l => l.includes('\u001B[32m[]uintptr backing a…\u001B[39m')), 'live hop in green');
	t.true(coloured.some(l => l.includes('\u001B[31m[0]')), 'hidden word in red');
	t.true(coloured.some(l => l.includes('\u001B[1m\u001B[31mfree 3200 B slot\u001B[39m\u001B[22m')), 'freed target in bold red');
	s.keys('q');
});

test('path view - d and D step through the hidden references, most urgent first, and wrap around', async t => {
	const s = live();
	await waitFor('the heap tree', () => s.frame().includes(' Heap tree '));
	const title = () => / Path {2}(.+?) {2,}/.exec(pathPane(s.lines())[0] ?? '')?.[1];
	const seen: string[] = [];
	for (const key of ['d', 'd', 'd', 'd', 'd', 'd', 'D']) {
		const before = s.frame();
		s.keys(key);
		await waitFor(`the path after ${key}`, () => s.frame() !== before && title());
		seen.push(`${title()} | ${pathPane(s.lines())[1]}`);
	}
	t.deepEqual(
		seen.map(l => l.replace(/0x[0-9a-f]+/g, 'ADDR')),
		[
			'dangling 1/5 | main.freedHandles[0] holds ADDR as uintptr: free 3200 B slot (1 of 12 of this shape)',
			`stack reference 2/5 | main.stackAddr holds ADDR as uintptr: stack of goroutine ${doc.findings.find(f => f.kind === 'stack')!.path.at(-1)!.goroutine} in main.holdLocal`,
			'dangling soon 3/5 | main.soonAddr holds ADDR as uintptr: pending main.soonVictim: the next GC frees it (+8 in…',
			'unprotected 4/5 | main.heldAddr holds ADDR as uintptr: live main.heldThing, kept alive only by other refere…',
			'unprotected 5/5 | main.reusedAddr holds ADDR as uintptr: live main.victim, kept alive only by other referen…',
			'dangling 1/5 | main.freedHandles[0] holds ADDR as uintptr: free 3200 B slot (1 of 12 of this shape)',
			'unprotected 5/5 | main.reusedAddr holds ADDR as uintptr: live main.victim, kept alive only by other referen…',
		],
	);
	// The stack reference's target names the goroutine's frame and where it waits.
	s.keys('D', 'D', 'D');
	await waitFor('the stack reference', () => s.frame().includes('stack reference 2/5'));
	t.regex(pathPane(s.lines()).at(-1)!, /^└ stack of goroutine \d+ in main\.holdLocal {2}at main\.go:118 \(chan receive, created at main\.go:146\)$/);
	// esc closes the path; the lists come back.
	s.keys('\u001B');
	await waitFor('the lists', () => s.frame().includes(` Live ${liveGroups} `));
	t.false(s.frame().includes(' Path '));
	s.keys('q');
});

test('heap tree - the folded dominator tree: root group, branches, ×N folded rows, retained, shallow and share, types in their state colour', async t => {
	const s = live();
	await waitFor('the heap tree', () => s.frame().includes(' Heap tree '));
	const lines = s.lines();
	const at = lines.findIndex(l => l.startsWith(' Heap tree '));
	t.deepEqual(lines.slice(at, at + 5), [
		' Heap tree  1/192                                   retained   shallow   heap site',
		'▾ globals                                            536 KiB            5.61%',
		'├─▸ main.keepers                                     151 KiB       0 B  1.58%',
		'├─▸ (held by several globals) ×2 []impl.MessageI…   60.5 KiB  13.6 KiB  0.63%',
		'├─▸ (held by several globals) ×2 []filedesc.Mess…   55.2 KiB  8.63 KiB  0.58%',
	]);
	// The cursor's row is inverse while the tree has the focus; live types are green.
	const coloured = s.app.lastFrame()!.split('\n');
	t.true(coloured[at + 1]!.startsWith('\u001B[7m'), 'cursor row inverse');
	t.true(coloured[at + 3]!.includes('\u001B[32m×2 []impl.MessageI…\u001B[39m'), 'folded live row green');
	s.keys('q');
});

test('heap tree - the children the document left out are fetched (Expand) once "… more" comes within a screen of the cursor', async t => {
	const s = live();
	await waitFor('the heap tree', () => s.frame().includes(' Heap tree '));
	const rowCount = () => Number(/Heap tree {2}[\d,]+\/([\d,]+)/.exec(s.frame())![1]!.replace(/,/g, ''));
	const before = rowCount();
	const globals = doc.tree.find(n => n.kind === 'root-group' && n.childrenTotal > n.childrenSent)!;
	t.truthy(globals, 'a root group with children left out');
	s.store.navigate({kind: 'to-key', key: `more ${globals.key}`});
	const after = await waitFor('the fetched rows', () => rowCount() > before && rowCount());
	const fetched = recording.answers.find(a => a.answer.call === 'Expand' && 'nodes' in a.answer && a.answer.nodes[0]?.parent === globals.id)!;
	t.truthy(fetched, 'the recording answered that Expand');
	const nodes = 'nodes' in fetched.answer ? fetched.answer.nodes : [];
	const left = globals.childrenTotal - globals.childrenSent - nodes.length;
	t.is(after, before + nodes.length - (left > 0 ? 0 : 1));
	s.keys('q');
});

test('keys - shift-tab goes back a pane, ctrl-f and ctrl-b page down and up (vim)', async t => {
	const s = live();
	await waitFor('the heap tree', () => s.frame().includes(' Heap tree '));
	const treeAt = () => Number(/Heap tree {2}([\d,]+)\//.exec(s.frame())![1]!.replace(/,/g, ''));
	t.is(s.store.state.navigation.focus, 'tree');
	s.keys('\u001B[Z');
	await waitFor('the lists, back from the tree', () => s.store.state.navigation.focus === 'lists');
	s.keys('\u001B[Z');
	await waitFor('the tree again', () => s.store.state.navigation.focus === 'tree');
	s.keys('\u0006');
	await waitFor('a page down', () => treeAt() > 1);
	const paged = treeAt();
	t.true(paged > 5, `a page is more than a few rows: ${paged}`);
	s.keys('\u0002');
	await waitFor('a page up', () => treeAt() === 1);
	s.keys('q');
});

test('lists - tabs with their group counts, s sorts by count, / filters on type and site, esc clears', async t => {
	const s = live();
	await waitFor('the lists', () => s.frame().includes(` Live ${liveGroups} `));
	const list = () => {
		const lines = s.lines();
		const at = lines.findIndex(l => l.startsWith(' Live '));
		return lines.slice(at, at + 5);
	};
	t.deepEqual(list(), [
		`${tabTitles}                                            sort bytes`,
		'type                                              objects     bytes  retained site',
		'▸ main.victim                                          49   153 KiB   153 KiB main.go:87',
		'▸ string bytes                                      2,940   115 KiB   115 KiB file.go:1363',
		'▸ []symbols.globalSym backing array                     1  96.0 KiB   211 KiB globals.go:28',
	]);
	s.keys('\t', 's');
	await waitFor('sort by count', () => list()[0]!.endsWith('sort count'));
	const counts = s
		.lines()
		.slice(s.lines().findIndex(l => l.startsWith('type ')) + 1)
		.map(l => /^\S.*?\s{2,}([\d,]+)\s/.exec(l)?.[1])
		.filter(Boolean)
		.map(c => Number(c!.replace(/,/g, '')));
	t.true(counts.length >= 4);
	t.deepEqual(counts, [...counts].sort((a, b) => b - a), 'groups by count, descending');
	s.keys('/', 'm', 'a', 'i', 'n', '.', 'g', 'o', '\r');
	await waitFor('the filter', () => list()[0]!.includes('/main.go'));
	const kept = list().slice(2).filter(l => l !== '');
	t.true(kept.length > 0);
	t.true(kept.every(l => l.includes('main.go')), kept.join('\n'));
	s.keys('\u001B');
	await waitFor('the filter cleared', () => !list()[0]!.includes('/main.go'));
	t.is(list()[0], `${tabTitles}                                            sort count`);
	// The Dangling tab groups the hidden words by holder type and site.
	s.keys('l', 'l');
	await waitFor('the Dangling tab', () => s.store.state.navigation.tab === 'dangling' && list()[2]!.startsWith('[]uintptr'));
	// Grouped by the holder's type and allocation site: the 12 planted handles are one row, with the bytes they name.
	t.deepEqual(list().slice(2), [
		'[]uintptr backing array                                12  37.5 KiB           main.go:96',
		'main.reusedAddr                                         1  3.13 KiB',
		'main.soonAddr                                           1     640 B',
	]);
	s.keys('q');
});

test('lists - enter opens a live group: its objects, biggest holders first (Members); scrolling to "… more" loads the next page; enter on an object opens its chain', async t => {
	const s = live();
	await waitFor('the lists', () => s.frame().includes(' Live '));
	// The live group with the most objects: the recording paged through two of its pages.
	const group = doc.groups.filter(g => g.list === 'live').reduce((a, g) => (g.count > a.count ? g : a));
	const pages = recording.answers.filter(a => a.answer.call === 'Members' && 'page' in a.answer && a.answer.page.total === group.count);
	t.true(group.count > 1000 && pages.length >= 2, `${group.typeName} has ${group.count} objects, ${pages.length} pages recorded`);
	const recorded = pages.flatMap(a => ('page' in a.answer ? a.answer.page.members : [])).slice(0, 2000);
	s.keys('\t');
	await waitFor('the lists in focus', () => s.store.state.navigation.focus === 'lists');
	s.store.navigate({kind: 'to-key', key: group.key});
	s.keys('\r');
	const rowsOf = () => {
		const lines = s.lines();
		const at = lines.findIndex(l => l.startsWith(`▾ ${group.typeName}`));
		return at < 0 ? [] : lines.slice(at, at + 4);
	};
	await waitFor('the first page', () => rowsOf()[1]?.includes('0x'));
	const first = recorded[0]!;
	t.regex(rowsOf()[1]!, new RegExp(`^ {2}─ 0x${first.address.toString(16)} +[\\d.]+ K?i?B`), rowsOf().join('\n'));
	t.is(s.store.state.model!.members.get(group.key)!.loaded.length, 1000);
	// Biggest holders first: retained sizes never grow down the list.
	const loaded = s.store.state.model!.members.get(group.key)!.loaded;
	t.true(loaded.every((m, i) => i === 0 || m.retainedBytes <= loaded[i - 1]!.retainedBytes));
	// The rest waits behind a "more" row, off screen; the cursor coming within a screen of it loads the next page.
	t.false(s.frame().includes('more objects'));
	s.store.navigate({kind: 'to-key', key: `${group.key} @${recorded[995]!.address.toString(16)}`});
	await waitFor('the second page', () => (s.store.state.model!.members.get(group.key)?.loaded.length ?? 0) > 1000);
	t.deepEqual(
		s.store.state.model!.members.get(group.key)!.loaded.map(m => m.address),
		recorded.map(m => m.address),
	);
	// enter on the group's first object: its chain, read by its address.
	s.store.navigate({kind: 'to-key', key: `${group.key} @${first.address.toString(16)}`});
	s.keys('\r');
	await waitFor('the chain', () => s.store.state.navigation.path?.status === 'ready');
	const p = s.store.state.navigation.path!;
	t.is(p.title, `the chain to the ${group.typeName} at 0x${first.address.toString(16)}`);
	t.is(p.hops.at(-1)!.address, first.address);
	t.is(p.hops.at(-1)!.typeName, group.typeName);
	// esc closes the path and the lists come back; enter on the group again closes it.
	s.keys('\u001B');
	await waitFor('the lists', () => s.frame().includes(` Live ${liveGroups} `));
	s.store.navigate({kind: 'tab-to', tab: 'live'});
	s.store.navigate({kind: 'to-key', key: group.key});
	s.keys('\r');
	await waitFor('the group closed', () => s.frame().includes(`▸ ${group.typeName}`));
	s.keys('q');
});

test('live - a new snapshot keeps the cursor on the same node, and the finding d opened follows into it', async t => {
	const s = live();
	await waitFor('the heap tree', () => s.frame().includes(' Heap tree '));
	s.keys('j');
	await waitFor('the cursor on main.keepers', () => s.frame().includes('Heap tree  2/'));
	s.keys('d');
	await waitFor('the path', () => s.frame().includes('dangling 1/'));
	for (const u of updates.slice(complete(1) + 1, complete(2) + 1)) s.store.apply(u);
	await waitFor('snapshot #2', () => s.frame().includes('snapshot #2'));
	const nav = s.store.state.navigation;
	t.is(s.store.state.model!.nodesByKey.get(nav.tree.key!)!.label, 'main.keepers');
	t.is(nav.path!.snapshotId, 2, 'the chain on screen is the newest');
	t.regex(s.frame(), /main\.freedHandles\[0\] holds 0x[0-9a-f]+ as uintptr: free 3200 B slot/);
	s.keys('\t');
	await waitFor('focus on the lists', () => s.store.state.navigation.focus !== 'path');
	s.keys('q');
});

test('snapshot line - a capture under way shows its phases, done ones ticked, and the time since it began', t => {
	const store = new Store({clock});
	const at = updates.findIndex(u => u.kind === 'progress' && u.progress.phase === 'name');
	for (const u of updates.slice(0, at + 1)) store.apply(u);
	const progress = updates[at]!;
	if (progress.kind !== 'progress') return t.fail();
	const {lastFrame} = render(<App snapshot={store.snapshot} columns={100} rows={24} nowMs={clock() + 2_000} />);
	const line = plain(lastFrame()!).split('\n')[2]!;
	t.regex(line, /^capturing #1 dump ✓ {2}parse ✓ {2}name {2}analyse {2}dominators {2}\d/);
	// The agent's elapsed time at the progress, run on by 2 s of the clock.
	t.true(line.includes(formatDuration(progress.progress.elapsedNs + 2e9)), line);
});

test('heap tree - --ascii draws the whole screen in ASCII: branches |- and `-, no box drawing', async t => {
	const store = new Store({clock});
	for (const u of updates.slice(0, complete(1) + 1)) store.apply(u);
	const {lastFrame} = render(<App snapshot={store.snapshot} model={store.state.model} navigation={store.state.navigation} columns={100} rows={30} nowMs={clock()} ascii />);
	const text = plain(lastFrame()!);
	t.regex(text, /^v globals +536 KiB/m);
	t.regex(text, /^\|-> main\.keepers +151 KiB/m);
	const wide = [...text].filter(c => c.charCodeAt(0) > 0x7e);
	t.deepEqual(wide, [], 'only ASCII');
});

test('lists - the Live list ends with the groups the document left out; G loads the next page of them from the recording (Groups)', async t => {
	const s = live();
	await waitFor('the lists', () => s.frame().includes(` Live ${liveGroups} `));
	const total = doc.listTotals.find(l => l.list === 'live')!;
	const inDocument = doc.groups.filter(g => g.list === 'live');
	t.true(total.groups > inDocument.length, `${total.groups} live groups, ${inDocument.length} in the document`);
	// The last row stands for the rest, with their bytes.
	const rowsNow = listRows(s.store.state.model!, 'live', 'bytes', '', new Set());
	const last = rowsNow.at(-1)!;
	const bytesLeft = total.bytes - inDocument.reduce((sum, g) => sum + g.bytes, 0);
	t.like(last, {kind: 'more-groups', remaining: total.groups - inDocument.length, bytes: bytesLeft});
	const lists = render(<Lists model={s.store.state.model} rows={rowsNow.slice(-2)} tab="live" cursor={{key: last.key, index: 1, offset: 0}} sort="bytes" filter="" editingFilter={false} focused width={100} height={4} />);
	t.true(
		plain(lists.lastFrame()!).includes(`… ${(total.groups - inDocument.length).toLocaleString('en-US')} more groups · ${formatBytes(bytesLeft)} (enter loads them)`),
		plain(lists.lastFrame()!),
	);
	lists.unmount();
	// G goes to it, which loads the page the recording holds.
	// The recorded page of the whole list: the one whose first group the document does not carry.
	const pages = recording.answers.flatMap(a => ('groups' in a.answer ? [a.answer.groups.groups] : []));
	const recorded = pages.find(p => p.length > 0 && !inDocument.some(g => g.key === p[0]!.key)) ?? [];
	t.true(recorded.length > 0, 'the recording paged the live list');
	s.keys('\t');
	await waitFor('the lists in focus', () => s.store.state.navigation.focus === 'lists');
	s.keys('G');
	const loaded = () => s.store.state.model!.groups.get('live\u0000')?.loaded ?? [];
	await waitFor('the next page', () => loaded().length === recorded.length);
	t.deepEqual(
		loaded().map(g => g.key),
		recorded.map(g => g.key),
	);
	const after = listRows(s.store.state.model!, 'live', 'bytes', '', new Set());
	t.is(after.filter(r => r.kind === 'group').length, inDocument.length + recorded.length);
	t.is(after.at(-1)!.kind === 'more-groups', total.groups > inDocument.length + recorded.length);
	s.keys('q');
});
