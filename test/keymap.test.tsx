import test from 'ava';
import React from 'react';
import {render} from 'ink-testing-library';
import Help from '../source/views/Help.js';
import Footer from '../source/views/Footer.js';
import {actionFor, keyNames, keymap} from '../source/views/keymap.js';

test('keymap - every key of the live screen names its action (issue 6 and design.md §4)', t => {
	const want: Record<string, string> = {
		q: 'quit',
		'ctrl-c': 'quit',
		'?': 'help',
		p: 'pause',
		c: 'capture',
		C: 'capture-gc',
		d: 'next-dangling',
		D: 'previous-dangling',
		tab: 'next-pane',
		'shift-tab': 'previous-pane',
		up: 'up',
		k: 'up',
		down: 'down',
		j: 'down',
		pageup: 'page-up',
		'ctrl-b': 'page-up',
		pagedown: 'page-down',
		'ctrl-f': 'page-down',
		g: 'first',
		home: 'first',
		G: 'last',
		end: 'last',
		enter: 'enter',
		left: 'left',
		h: 'left',
		right: 'right',
		l: 'right',
		'/': 'filter',
		s: 'sort',
		esc: 'close',
	};
	t.deepEqual(Object.fromEntries(Object.keys(want).map(k => [k, actionFor(k)])), want);
	t.is(actionFor('x'), undefined);
	// No key is bound twice.
	const keys = keymap.flatMap(b => b.keys);
	t.is(new Set(keys).size, keys.length);
});

test('keymap - keys arriving in one chunk are named one by one; flagged keys by their flag', t => {
	t.deepEqual(keyNames('pq', {ctrl: false, escape: false}), ['p', 'q']);
	t.deepEqual(keyNames('dd\r', {}), ['d', 'd', 'enter']);
	t.deepEqual(keyNames('c', {ctrl: true, escape: false}), ['ctrl-c']);
	t.deepEqual(keyNames('', {ctrl: false, escape: true}), ['esc']);
	t.deepEqual(keyNames('', {tab: true}), ['tab']);
	t.deepEqual(keyNames('', {tab: true, shift: true}), ['shift-tab']);
	t.deepEqual(keyNames('f', {ctrl: true}), ['ctrl-f']);
	t.deepEqual(keyNames('', {pageDown: true}), ['pagedown']);
	t.deepEqual(keyNames('', {upArrow: true}), ['up']);
	t.deepEqual(keyNames('G', {shift: true}), ['G']);
});

test('help - lists every binding of the keymap, keys in cyan', t => {
	const {lastFrame} = render(<Help />);
	const lines = lastFrame()!.split('\n');
	t.is(lines[0], '\u001B[1mKeys\u001B[22m');
	t.is(lines.length, keymap.length + 1);
	t.is(lines[1], '\u001B[36m  q, ctrl-c\u001B[39m          quit (the last path opened stays printed)');
	t.is(lines.at(-1), '\u001B[36m  esc\u001B[39m                clear the filter; close the path or help');
});

test('footer - hints come from the keymap, cut to the width; paused shows PAUSED', t => {
	const hint = (key: string, word: string) => `\u001B[36m${key}\u001B[39m\u001B[2m ${word}\u001B[22m`;
	const hints = keymap.filter(b => b.hint).map(b => hint(b.keys[0]!, b.hint!));
	const {lastFrame, rerender} = render(<Footer paused={false} />);
	t.is(lastFrame(), hints.join('  '));
	rerender(<Footer paused />);
	t.true(lastFrame()!.endsWith('\u001B[7m\u001B[1m\u001B[33m PAUSED \u001B[39m\u001B[22m\u001B[27m'));
	t.is(lastFrame()!.split('\n').length, 1, 'one line at 100 columns');
});
