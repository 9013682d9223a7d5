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
import {readRecording} from '../source/client/recording.js';
import type {WatchUpdate} from '../source/client/events.js';
import {Store, initialSnapshot, reduce, type Snapshot} from '../source/store/store.js';
import {Live} from '../source/cli/live.js';
import App from '../source/views/App.js';
import Header from '../source/views/Header.js';
import Sparklines from '../source/views/Sparklines.js';
import {renderReport} from '../source/report/render.js';
import {waitFor} from './helpers/wait.js';

const recording = readRecording(path.resolve(import.meta.dirname, '../snapshots/demo.jsonl'));
const updates: WatchUpdate[] = recording.updates.map(r => r.update);
const replayed: Snapshot = updates.reduce(reduce, initialSnapshot);
const nowMs = 0;

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

// EXPECTED FRAMES BELOW
