// The lists past the document's 200 groups a list, on the real demo with
// every allocation site recorded (agent/examples/demo -full-sites), whose
// live list has about a thousand groups (type × site): the live screen is
// driven by keys on a Watch of the running demo, as heaptop runs it, and
// what it shows is checked against what the agent answers.
import test from 'ava';
import {stripVTControlCharacters as plain} from 'node:util';
import React from 'react';
import {render} from 'ink-testing-library';
import {Watch} from '../source/client/watch.js';
import {Store} from '../source/store/store.js';
import {groupsKey} from '../source/store/heap.js';
import {listGroups, listRows} from '../source/store/model.js';
import {Live} from '../source/cli/live.js';
import {startDemo, tempDir} from './helpers/demo.js';
import {waitFor} from './helpers/wait.js';

test('lists - a list longer than the document ends with a row for its other groups; / and enter search all of them, G loads them (Groups)', async t => {
	const dir = tempDir();
	const demo = await startDemo(dir, {args: ['-full-sites']});
	t.teardown(() => demo.stop());
	const watch = new Watch({target: {kind: 'pid', pid: demo.pid}, dir});
	t.teardown(() => watch.close());
	const store = new Store();
	await watch.start(u => store.apply(u));
	const doc = await watch.capture({forceGc: false, confirmCost: true});
	store.apply({kind: 'captured', snapshot: doc});

	const total = doc.listTotals.find(l => l.list === 'live')!;
	const inDocument = doc.groups.filter(g => g.list === 'live');
	t.true(total.groups > 300 && inDocument.length === 200, `${total.groups} live groups, ${inDocument.length} in the document`);
	// What the agent holds past the document: the group the search below must find.
	const rest = await watch.groups(doc.id, 'live', '', inDocument.length);
	t.is(rest.total, total.groups);
	// The shortest such name, so that the row shows it whole.
	const beyond = rest.groups
		.filter(g => !inDocument.some(d => d.typeName.toLowerCase().includes(g.typeName.toLowerCase())))
		.reduce((a, g) => (g.typeName.length < a.typeName.length ? g : a));
	t.true(beyond.typeName.length < 40, `a group past the document whose type no document group has: ${beyond.typeName}`);

	const app = render(<Live store={store} queries={watch} ascii={false} />);
	t.teardown(() => app.unmount());
	const frame = () => plain(app.lastFrame() ?? '');
	// The tab counts every group of the list; its last row stands for those the document left out.
	await waitFor('the live tab with its total', () => frame().includes(` Live ${total.groups.toLocaleString('en-US')} `));
	const model = () => store.state.model!;
	const last = listRows(model(), 'live', 'bytes', '', new Set()).at(-1)!;
	const bytesLeft = total.bytes - inDocument.reduce((sum, g) => sum + g.bytes, 0);
	t.like(last, {kind: 'more-groups', remaining: total.groups - 200, bytes: bytesLeft});

	// / and a type no group of the document has: the loaded groups have no match, enter asks the agent.
	app.stdin.write('\t');
	await waitFor('the lists in focus', () => store.state.navigation.focus === 'lists');
	app.stdin.write('/');
	app.stdin.write(beyond.typeName);
	await waitFor('the filter typed', () => store.state.navigation.filter === beyond.typeName);
	t.false(listGroups(model(), 'live', 'bytes', beyond.typeName).some(g => g.key === beyond.key), 'not found before enter');
	app.stdin.write('\r');
	await waitFor('the agent’s matches', () => listGroups(model(), 'live', 'bytes', beyond.typeName).some(g => g.key === beyond.key));
	const found = model().groups.get(groupsKey('live', beyond.typeName))!;
	t.is(found.loaded.length, found.total);
	// Matched as / matches: in "type file:line function".
	const text = (g: (typeof found.loaded)[number]) => (g.site ? `${g.typeName} ${g.site.file}:${g.site.line} ${g.site.function}` : g.typeName);
	t.true(found.loaded.every(g => text(g).toLowerCase().includes(beyond.typeName.toLowerCase())));
	await waitFor('the match on screen', () => frame().includes(beyond.typeName));
	t.is(listRows(model(), 'live', 'bytes', beyond.typeName, new Set()).at(-1)!.kind, 'group', 'every match is loaded: no last row');

	// esc clears the filter; G goes to the end of the list, whose row loads the rest (one page of up to 1,000).
	app.stdin.write('\u001B');
	await waitFor('the filter cleared', () => store.state.navigation.filter === '');
	app.stdin.write('G');
	const pageSize = Math.min(1000, total.groups - 200);
	await waitFor('the next page', () => (model().groups.get(groupsKey('live', ''))?.loaded.length ?? 0) === pageSize);
	const all = listGroups(model(), 'live', 'bytes', '');
	t.is(all.length, 200 + pageSize);
	t.deepEqual(
		all.slice(0, 200).map(g => g.key),
		inDocument.map(g => g.key),
	);
	t.is(new Set(all.map(g => g.key)).size, all.length, 'no group twice');
	t.true(all.every((g, i) => i === 0 || g.bytes <= all[i - 1]!.bytes), 'by bytes, the document’s first');
	if (total.groups <= 1200) t.is(listRows(model(), 'live', 'bytes', '', new Set()).at(-1)!.kind, 'group', 'the whole list loaded');
	app.stdin.write('q');
});
