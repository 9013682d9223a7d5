// The client against the real demo and its real agent.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import {Watch} from '../source/client/watch.js';
import {listAgents} from '../source/client/discovery.js';
import type {Hello, WatchUpdate} from '../source/client/events.js';
import {Store} from '../source/store/store.js';
import {startDemo, tempDir} from './helpers/demo.js';
import {waitFor} from './helpers/wait.js';

test('client - receives the Hello with history, then live ticks', async t => {
	const dir = tempDir();
	const demo = await startDemo(dir);
	t.teardown(() => demo.stop());
	// Let the agent sample for two ticks so that a new watcher gets history.
	const warmup = new Watch({target: {kind: 'pid', pid: demo.pid}, dir});
	const warm = new Store();
	await warmup.start(u => warm.apply(u));
	await waitFor('two samples', () => warm.snapshot.samples.length >= 2);
	warmup.close();

	const updates: WatchUpdate[] = [];
	const watch = new Watch({target: {kind: 'pid', pid: demo.pid}, dir});
	t.teardown(() => watch.close());
	const hello: Hello = await watch.start(u => updates.push(u));
	t.is(hello.target.pid, demo.pid);
	t.regex(hello.target.goVersion, /^go1\./);
	t.true(hello.target.executable.endsWith('demo'), hello.target.executable);
	t.true(hello.history.length >= 2, `history of ${hello.history.length} ticks`);
	t.true(hello.tickIntervalMs > 0);
	await waitFor('two live samples', () => updates.filter(u => u.kind === 'sample').length >= 2);
	t.deepEqual(
		updates.slice(0, 4).map(u => u.kind),
		['connecting', 'hello', 'sample', 'sample'],
	);
	const lastHistory = hello.history.at(-1)!.timeMs;
	const live = updates.flatMap(u => (u.kind === 'sample' ? [u.sample] : []));
	t.true(live[0]!.timeMs > lastHistory, 'live ticks come after the history');
	t.true(live[1]!.timeMs > live[0]!.timeMs);
	t.true(live.every(s => s.heapLiveBytes > 0 && s.goroutines > 0 && s.heapObjects > 0));
});

test('client - says reconnecting, then connected, when the demo is killed and another starts', async t => {
	const dir = tempDir();
	const first = await startDemo(dir);
	const states: string[] = [];
	const store = new Store();
	store.subscribe(s => {
		const label = s.connection.state === 'connected' ? `connected ${s.target?.pid}` : s.connection.state;
		if (states.at(-1) !== label) states.push(label);
	});
	const watch = new Watch({target: {kind: 'discover'}, dir});
	t.teardown(() => watch.close());
	await watch.start(u => store.apply(u));
	t.is(store.snapshot.target?.pid, first.pid);

	await first.stop('SIGKILL');
	await waitFor('reconnecting', () => store.snapshot.connection.state === 'reconnecting');
	const second = await startDemo(dir);
	t.teardown(() => second.stop());
	await waitFor('connected to the new demo', () => store.snapshot.connection.state === 'connected' && store.snapshot.target?.pid === second.pid);
	// Attempts made while no agent was there show as connecting/reconnecting pairs.
	t.is(states[0], 'connecting');
	t.is(states[1], `connected ${first.pid}`);
	t.is(states[2], 'reconnecting');
	t.is(states.at(-1), `connected ${second.pid}`);
	t.true(states.slice(2, -1).every(s => s === 'reconnecting' || s === 'connecting'), states.join(' → '));
	// The killed demo's files were stale: the client's discovery removed them.
	t.false(fs.existsSync(path.join(dir, `${first.pid}.json`)));
	t.deepEqual(listAgents(dir).map(a => a.pid), [second.pid]);
});
