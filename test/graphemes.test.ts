// The bundle gives ansi-tokenize's tokenize asciiFirst (source/cli/graphemes.ts)
// instead of an Intl.Segmenter built at load: it must split every string into
// the very segments Intl.Segmenter does, and build one only for strings it
// does not split itself.
import test from 'ava';
import {asciiFirst} from '../source/cli/graphemes.js';

const intl = new Intl.Segmenter(undefined, {granularity: 'grapheme'});
const segments = (iterable: Iterable<{segment: string; index: number}>) => [...iterable].map(({segment, index}) => [segment, index]);

/** asciiFirst over Intl.Segmenter, and how many times it built one. */
function counted() {
	const loads = {count: 0};
	const segmenter = asciiFirst(() => {
		loads.count++;
		return intl;
	});
	return {segmenter, loads};
}

test('graphemes - every pair of ASCII characters is split as Intl.Segmenter splits it', t => {
	const {segmenter} = counted();
	let mismatches = 0;
	for (let a = 0; a < 0x80; a++) {
		for (let b = 0; b < 0x80; b++) {
			const text = String.fromCharCode(a, b, a);
			if (JSON.stringify(segments(segmenter.segment(text))) !== JSON.stringify(segments(intl.segment(text)))) mismatches++;
		}
	}
	t.is(mismatches, 0);
});

test('graphemes - an Intl.Segmenter is built only for text that is not ASCII without CR', t => {
	const {segmenter, loads} = counted();
	const line = '\u001B[1m\u001B[36mheaptop\u001B[39m\u001B[22m  pid 4242  go1.26.8';
	t.deepEqual(segments(segmenter.segment(line)), segments(intl.segment(line)));
	t.deepEqual(segments(segmenter.segment('')), []);
	t.is(loads.count, 0);
	for (const text of ['a\r\nb', '● connected', 'e\u0301', '👍🏽 ok', '漢字']) {
		t.deepEqual(segments(segmenter.segment(text)), segments(intl.segment(text)), text);
	}
	t.is(loads.count, 1);
});
