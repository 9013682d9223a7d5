// The client survives faults, with real processes: the agent killed with
// SIGKILL mid-stream and restarted elsewhere or on the same TCP port, an
// agent of another schema version, and a slow link that stalls. What the
// store says is what the screen shows (the e2e test checks one on screen).
// Serial: each test runs one or two demos, and a loaded 2-core machine is
// where they must still pass.
import test from 'ava';
import {Watch, helloDeadlineMs} from '../source/client/watch.js';
import type {Access} from '../source/client/channel.js';
import {Store, type Snapshot} from '../source/store/store.js';
import {buildGo, startDemo, tempDir, type Demo} from './helpers/demo.js';
import {runHeaptop} from './helpers/heaptop.js';
import {slowLink} from './helpers/proxy.js';
import {waitFor} from './helpers/wait.js';

const token = '0123456789abcdef0123456789abcdef';
const access: Access = {tls: false, ca: undefined, token, tokenSource: 'the test'};

/** The connection state as a word, with the pid once connected. */
function label(s: Snapshot): string {
	return s.connection.state === 'connected' ? `connected ${s.target?.pid}` : s.connection.state;
}

/** Watches `watch` into a new store, recording each change of connection state. */
async function watchInto(t: import('ava').ExecutionContext, watch: Watch): Promise<{store: Store; states: string[]}> {
	t.teardown(() => watch.close());
	const store = new Store();
	const states: string[] = [];
	store.subscribe(s => {
		if (states.at(-1) !== label(s)) states.push(label(s));
	});
	await watch.start(u => store.apply(u));
	return {store, states};
}

/** Starts the demo serving TCP on `tcp` (default: a free loopback port) with the test's token (or another). */
async function tcpDemo(t: import('ava').ExecutionContext, tcp = '127.0.0.1:0', binary?: string, agentToken = token): Promise<Demo & {port: number}> {
	const demo = await startDemo(tempDir(), {args: ['-tcp', tcp, '-tick=250ms'], env: {HEAPTOP_TOKEN: agentToken}, binary});
	t.teardown(() => demo.stop());
	return {...demo, port: Number(demo.tcp!.split(':').at(-1))};
}

/** The demo built with -tags heaptop_schema_next: a real agent that speaks schema version 2. */
const nextSchemaDemo = () => buildGo('./examples/demo', 'demo-schema-next', ['heaptop_schema_next']);

test.serial('faults - agent killed mid-stream, watched by pid: failed, "process N has exited", no retry loop', async t => {
	const dir = tempDir();
	const demo = await startDemo(dir, {args: ['-tick=250ms']});
	const {store, states} = await watchInto(t, new Watch({target: {kind: 'pid', pid: demo.pid}, dir}));
	await waitFor('a live sample', () => store.snapshot.samples.length > 0);
	await demo.stop('SIGKILL');
	const connection = await waitFor('failed', () => store.snapshot.connection.state === 'failed' && store.snapshot.connection);
	t.is(connection.reason, `process ${demo.pid} has exited`);
	t.deepEqual(states, ['connecting', `connected ${demo.pid}`, 'reconnecting', 'failed']);
	t.true(store.snapshot.samples.length > 0, 'the figures seen stay on screen');
});

test.serial('faults - TCP agent killed mid-stream and restarted on the same port: reconnects to the new process', async t => {
	const first = await tcpDemo(t);
	const {store, states} = await watchInto(t, new Watch({target: {kind: 'tcp', host: '127.0.0.1', port: first.port}, access}));
	await waitFor('a live sample', () => store.snapshot.samples.length > 0);
	await first.stop('SIGKILL');
	await waitFor('reconnecting', () => store.snapshot.connection.state === 'reconnecting');
	const second = await tcpDemo(t, `127.0.0.1:${first.port}`);
	await waitFor('connected to the new demo', () => label(store.snapshot) === `connected ${second.pid}`, {timeoutMs: 30_000});
	t.is(states[1], `connected ${first.pid}`);
	t.is(states[2], 'reconnecting');
	t.true(states.slice(2, -1).every(s => s === 'reconnecting' || s === 'connecting'), states.join(' → '));
	await waitFor('a sample of the new process', () => store.snapshot.samples.length > 0);
	t.is(store.snapshot.target?.pid, second.pid, 'the new process replaced the old one');
});

test.serial('faults - an agent of the next schema version: one line naming both versions, exit 2', async t => {
	const dir = tempDir();
	const demo = await startDemo(dir, {binary: await nextSchemaDemo()});
	t.teardown(() => demo.stop());
	const run = await runHeaptop([String(demo.pid), '--once'], {HEAPTOP_DIR: dir});
	t.is(run.stderr, `heaptop: pid ${demo.pid} (unix://${dir}/${demo.pid}.sock): schema version mismatch: the agent speaks heaptop schema 2, the client speaks 1\n`);
	t.is(run.code, 2);
	t.is(run.stdout, '');
});

test.serial('faults - agent restarted on the same port with the next schema version: failed for good, naming both versions', async t => {
	const first = await tcpDemo(t);
	const {store, states} = await watchInto(t, new Watch({target: {kind: 'tcp', host: '127.0.0.1', port: first.port}, access}));
	await first.stop('SIGKILL');
	await waitFor('reconnecting', () => store.snapshot.connection.state === 'reconnecting');
	await tcpDemo(t, `127.0.0.1:${first.port}`, await nextSchemaDemo());
	const connection = await waitFor('failed', () => store.snapshot.connection.state === 'failed' && store.snapshot.connection, {timeoutMs: 30_000});
	t.is(connection.reason, `127.0.0.1:${first.port}: schema version mismatch: the agent speaks heaptop schema 2, the client speaks 1`);
	t.is(states.at(-1), 'failed');
	t.is(store.snapshot.target?.pid, first.pid, 'what was seen of the old process stays');
});

test.serial('faults - agent restarted on the same port with another token: failed for good, the token refused, no retry loop', async t => {
	const first = await tcpDemo(t);
	const {store, states} = await watchInto(t, new Watch({target: {kind: 'tcp', host: '127.0.0.1', port: first.port}, access}));
	await first.stop('SIGKILL');
	await waitFor('reconnecting', () => store.snapshot.connection.state === 'reconnecting');
	const second = await tcpDemo(t, `127.0.0.1:${first.port}`, undefined, 'a-new-token-after-rotation');
	const connection = await waitFor('failed', () => store.snapshot.connection.state === 'failed' && store.snapshot.connection, {timeoutMs: 30_000});
	t.is(connection.reason, `127.0.0.1:${first.port} refused the token from the test: wrong token`);
	t.is(states.at(-1), 'failed');
	await waitFor('the agent to log the refusal', () => /refused=1 .*latest_reason="wrong token"/.test(second.stderr()));
});

test.serial('faults - a slow link (4 KiB/s, 100 ms, a 3 s stall): the stream stays up, the stalled ticks arrive together, no GC pause is lost', async t => {
	const demo = await tcpDemo(t);
	const link = await slowLink(`127.0.0.1:${demo.port}`, {bytesPerSecond: 4096, delayMs: 100});
	t.teardown(() => link.close());
	const [host, port] = link.address.split(':') as [string, string];
	const {store, states} = await watchInto(t, new Watch({target: {kind: 'tcp', host, port: Number(port)}, access}));
	const arrivals: Array<{atMs: number; tickMs: number}> = [];
	store.subscribe(s => {
		const last = s.samples.at(-1);
		if (last && last.timeMs !== arrivals.at(-1)?.tickMs) arrivals.push({atMs: Date.now(), tickMs: last.timeMs});
	});
	await waitFor('two live samples', () => arrivals.length >= 2);

	const stallMs = 3_000;
	link.stall(stallMs);
	const stalledAt = arrivals.length;
	const stallEnds = Date.now() + stallMs;
	// The agent ticks every 250 ms: the stall holds back about 12 ticks.
	await waitFor('the ticks held back by the stall, and more', () => arrivals.length >= stalledAt + 14 && Date.now() > stallEnds, {timeoutMs: 30_000});

	t.deepEqual(states, ['connecting', `connected ${demo.pid}`], 'no reconnect: keepalive and the stream survived the stall');
	// The ticks taken during the stall arrive in a burst once it ends:
	// several within half a second, though taken two seconds apart or more.
	const late = arrivals.slice(stalledAt).filter(a => a.atMs >= stallEnds);
	const burst = late.filter(a => a.atMs - late[0]!.atMs < 500);
	t.true(burst.length >= 6, `${burst.length} ticks in the first 500 ms after the stall`);
	t.true(burst.at(-1)!.tickMs - burst[0]!.tickMs >= 1_000, 'taken over more than a second');
	// Every GC pause of every tick arrived: cycles without a gap, none missed.
	const cycles = store.snapshot.pauses.map(p => p.cycle);
	t.true(cycles.length >= 2, `${cycles.length} pauses seen`);
	t.deepEqual(cycles, cycles.map((_, i) => cycles[0]! + i), 'consecutive GC cycles');
	t.is(store.snapshot.pausesMissed, 0);
	t.true(link.forwarded() > 0);
});

test.serial('faults - a link so slow that the Hello takes longer than the 10 s answer deadline (200 B/s): heaptop still connects', async t => {
	const demo = await startDemo(tempDir(), {args: ['-tcp', '127.0.0.1:0', '-tick=100ms'], env: {HEAPTOP_TOKEN: token}});
	t.teardown(() => demo.stop());
	// Let the agent gather history (about 60 bytes a tick) for the Hello to carry.
	const {store: direct} = await watchInto(t, new Watch({target: {kind: 'tcp', host: '127.0.0.1', port: Number(demo.tcp!.split(':').at(-1))}, access}));
	await waitFor('30 ticks of history', () => direct.snapshot.samples.length >= 30);

	const link = await slowLink(demo.tcp!, {bytesPerSecond: 200, delayMs: 100});
	t.teardown(() => link.close());
	const [host, port] = link.address.split(':') as [string, string];
	const started = Date.now();
	const {store} = await watchInto(t, new Watch({target: {kind: 'tcp', host, port: Number(port)}, access}));
	const took = Date.now() - started;
	t.is(store.snapshot.connection.state, 'connected');
	t.true(store.snapshot.samples.length >= 30, `the Hello brought ${store.snapshot.samples.length} ticks of history`);
	t.true(took > helloDeadlineMs, `the Hello took ${took} ms, beyond the ${helloDeadlineMs} ms answer deadline`);
});
