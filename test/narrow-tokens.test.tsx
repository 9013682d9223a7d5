// narrow-tokens.ts gives Ink the styled cells of a line without
// ansi-tokenize's grapheme segmenter. Its cells must be the very ones Ink's
// own path makes: checked for every narrow character alone, and for every
// line Ink turned into cells while drawing the demo recording's screens
// (tree, lists, a path, help) in colour (FORCE_COLOR=1, ava's environment)
// and in --ascii.
import test from 'ava';
import path from 'node:path';
import React from 'react';
import {render} from 'ink-testing-library';
import {styledCharsFromTokens, tokenize} from '../node_modules/@alcalzone/ansi-tokenize/build/index.js';
import Output from '../node_modules/ink/build/output.js';
import {Replay, readRecording} from '../source/client/recording.js';
import {Store} from '../source/store/store.js';
import {Live} from '../source/cli/live.js';
import {narrowStyledChars, narrowTokens} from '../source/cli/narrow-tokens.js';
import {narrowWidth} from '../source/views/width.js';
import {waitFor} from './helpers/wait.js';

/** Ink's own cells of a line. */
const inkCells = (line: string) => styledCharsFromTokens(tokenize(line));

test('every narrow character alone, and all of them in a line between colour codes, gives the tokens tokenize gives', t => {
	const narrow: string[] = [];
	for (let code = 0; code <= 0xffff; code++) {
		const c = String.fromCharCode(code);
		if (narrowWidth(c) !== undefined) narrow.push(c);
		else t.is(narrowTokens(c), undefined, `U+${code.toString(16)} is not narrow`);
	}
	// The ranges of width.ts: ASCII 95, Latin-1 80, punctuation 24, arrows 4, box drawing and blocks 160, shapes 87, ✓.
	t.is(narrow.length, 451);
	for (const c of narrow) t.deepEqual(narrowTokens(c), tokenize(c));
	const line = `\u001B[1m\u001B[32m${narrow.join('')}\u001B[39m\u001B[22m\u001B[38;5;12m·\u001B[m`;
	t.deepEqual(narrowStyledChars(line), inkCells(line));
});

test('lines it leaves to Ink: wide or combining characters, escapes other than SGR colour codes', t => {
	for (const line of ['漢字', 'e\u0301', '👍', '\u001B]8;;https://go.dev\u0007go\u001B]8;;\u0007', '\u001B[2Kcleared', 'a\u001B[31', '\u009B31mC1']) {
		t.is(narrowTokens(line), undefined, JSON.stringify(line));
	}
});

test('every line Ink drew of the demo recording, in colour and in --ascii, gets the cells Ink makes of it', async t => {
	// What Ink's output asks for: its caches' getStyledChars, wrapped to see the lines.
	const caches = Object.getPrototypeOf((new Output({width: 0, height: 0}) as unknown as {caches: object}).caches) as {getStyledChars(line: string): unknown};
	const getStyledChars = caches.getStyledChars;
	const drawn = new Set<string>();
	caches.getStyledChars = function (line: string) {
		drawn.add(line);
		return getStyledChars.call(this, line);
	};
	t.teardown(() => (caches.getStyledChars = getStyledChars));
	const recording = readRecording(path.resolve(import.meta.dirname, '../snapshots/demo.jsonl'));
	for (const ascii of [false, true]) {
		const store = new Store();
		for (const r of recording.updates) store.apply(r.update);
		const app = render(<Live store={store} queries={new Replay(recording, 'demo.jsonl', {paced: false})} ascii={ascii} />);
		const seen = (text: string) => () => (app.lastFrame() ?? '').includes(text);
		await waitFor('the tree', seen('Heap tree'));
		for (const key of ['j', 'j', 'l', '\t', 'j', 's']) app.stdin.write(key);
		app.stdin.write('d');
		await waitFor('the path of a finding', seen('main.planted'));
		app.stdin.write('?');
		await waitFor('help', seen('pause or resume the display'));
		app.unmount();
	}
	let handled = 0;
	for (const line of drawn) {
		const cells = narrowStyledChars(line);
		if (cells === undefined) continue;
		handled++;
		t.deepEqual(cells, inkCells(line), JSON.stringify(line));
	}
	t.true(drawn.size > 50, `${drawn.size} lines drawn`);
	// Every line heaptop draws is of narrow characters (width.ts): none is left to the segmenter.
	t.is(handled, drawn.size);
});
