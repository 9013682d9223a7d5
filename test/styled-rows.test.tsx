// The bundle writes Ink's rows with sameStylesSkipped (source/cli/styled-rows.ts)
// instead of ansi-tokenize's styledCharsToString: the rows must be the same,
// byte for byte. The cells come from a real frame: the demo recording's
// snapshot drawn by App, in colour (FORCE_COLOR=1), tokenized as Ink does.
import test from 'ava';
import path from 'node:path';
import React from 'react';
import {render} from 'ink-testing-library';
import {ansiCodesToString, diffAnsiCodes, styledCharsFromTokens, styledCharsToString, tokenize} from '@alcalzone/ansi-tokenize';
import {readRecording} from '../source/client/recording.js';
import {initialSnapshot, reduce} from '../source/store/store.js';
import App from '../source/views/App.js';
import {sameStylesSkipped} from '../source/cli/styled-rows.js';

const recording = readRecording(path.resolve(import.meta.dirname, '../snapshots/demo.jsonl'));
const snapshot = recording.updates.map(r => r.update).reduce(reduce, initialSnapshot);
const {lastFrame} = render(<App snapshot={snapshot} columns={100} rows={30} nowMs={snapshot.heap.document!.capturedMs} />);
const lines = lastFrame()!.split('\n');
const rowOf = sameStylesSkipped(ansiCodesToString, diffAnsiCodes);

/** A blank cell of Ink's output grid. */
const blank = () => ({type: 'char' as const, value: ' ', fullWidth: false, styles: []});

test('styled rows - each line of a real frame is written as ansi-tokenize writes it', t => {
	t.true(lines.filter(l => l.includes('\u001B[')).length > 10, 'the frame has colours');
	for (const line of lines) {
		const cells = styledCharsFromTokens(tokenize(line));
		t.is(rowOf(cells), styledCharsToString(cells), line);
	}
});

test('styled rows - rows pieced from several writes and blank cells too', t => {
	const cellsOf = lines.map(line => styledCharsFromTokens(tokenize(line)));
	for (let i = 0; i + 1 < cellsOf.length; i++) {
		const [a, b] = [cellsOf[i]!, cellsOf[i + 1]!];
		const row = [...a.slice(0, 30), blank(), blank(), ...b.slice(30, 60), ...a.slice(60), blank()];
		t.is(rowOf(row), styledCharsToString(row), `lines ${i} and ${i + 1}`);
	}
	t.is(rowOf([]), styledCharsToString([]));
});
