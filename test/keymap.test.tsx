import test from 'ava';
import React from 'react';
import {render} from 'ink-testing-library';
import Help from '../source/views/Help.js';
import Footer from '../source/views/Footer.js';
import {actionFor, keyNames, keymap} from '../source/views/keymap.js';

test('keymap - q and ctrl-c quit, ? toggles help, p pauses, esc closes help', t => {
	t.is(actionFor('q'), 'quit');
	t.is(actionFor('ctrl-c'), 'quit');
	t.is(actionFor('?'), 'help');
	t.is(actionFor('p'), 'pause');
	t.is(actionFor('esc'), 'close');
	t.is(actionFor('x'), undefined);
});

test('keymap - keys arriving in one chunk are named one by one', t => {
	t.deepEqual(keyNames('pq', {ctrl: false, escape: false}), ['p', 'q']);
	t.deepEqual(keyNames('c', {ctrl: true, escape: false}), ['ctrl-c']);
	t.deepEqual(keyNames('', {ctrl: false, escape: true}), ['esc']);
});

test('help - lists every binding of the keymap, keys in cyan', t => {
	const {lastFrame} = render(<Help />);
	t.is(
		lastFrame(),
		[
			'\u001B[1mKeys\u001B[22m',
			'\u001B[36m  q, ctrl-c\u001B[39m   quit',
			'\u001B[36m  ?\u001B[39m           show or hide this help',
			'\u001B[36m  p\u001B[39m           pause or resume the display',
			'\u001B[36m  esc\u001B[39m         close help',
		].join('\n'),
	);
	t.is(keymap.length, 4);
});

test('footer - hints come from the keymap; paused shows PAUSED', t => {
	const {lastFrame, rerender} = render(<Footer paused={false} />);
	t.is(lastFrame(), '\u001B[36mq\u001B[39m\u001B[2m quit\u001B[22m  \u001B[36m?\u001B[39m\u001B[2m help\u001B[22m  \u001B[36mp\u001B[39m\u001B[2m pause\u001B[22m');
	rerender(<Footer paused />);
	const hints = '\u001B[36mq\u001B[39m\u001B[2m quit\u001B[22m  \u001B[36m?\u001B[39m\u001B[2m help\u001B[22m  \u001B[36mp\u001B[39m\u001B[2m pause\u001B[22m';
	t.is(lastFrame(), hints + ' '.repeat(69) + '\u001B[7m\u001B[1m\u001B[33m PAUSED \u001B[39m\u001B[22m\u001B[27m');
});
