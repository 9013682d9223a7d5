// The bundle measures text with narrowFirst (source/views/width.ts) instead
// of string-width: it must give exactly what each string-width Ink bundles
// gives, and leave to it every string it does not know to be narrow.
import test from 'ava';
import stripAnsi from 'strip-ansi';
import stringWidth from 'string-width';
// wrap-ansi's own string-width (7.x; Ink's is 8.x): the two disagree on emoji-like shapes such as ▶.
import wrapAnsiStringWidth from '../node_modules/wrap-ansi/node_modules/string-width/index.js';
import {narrowFirst, narrowWidth} from '../source/views/width.js';

const realWidths = [
	{name: 'string-width', width: stringWidth},
	{name: "wrap-ansi's string-width", width: wrapAnsiStringWidth},
];

/** narrowFirst over `width`, and how many times it fell back to it. */
function counted(width: (text: string) => number) {
	const fallbacks = {count: 0};
	const measure = narrowFirst(() => {
		fallbacks.count++;
		return width;
	}, stripAnsi);
	return {measure, fallbacks};
}

test('width - every code point taken as narrow is one column in every string-width', t => {
	let narrow = 0;
	for (let code = 0; code <= 0xffff; code++) {
		const character = String.fromCharCode(code);
		if (narrowWidth(character) === undefined) continue;
		narrow++;
		t.is(narrowWidth(character), 1);
		for (const {name, width} of realWidths) t.is(width(character), 1, `U+${code.toString(16).padStart(4, '0')} in ${name}`);
	}
	t.is(narrow, 451);
});

test('width - what heaptop draws is measured without string-width, to the same columns', t => {
	const drawn = [
		'',
		'heaptop  pid 15199  go1.26.8  /srv/app',
		'● connected',
		'GC pause    ▁▂▃▄▅▆▇█▁▁▂  min 45.2 µs  max 1.20 ms',
		'│  ├─▾ main.cache ×12,000 — 3.40 MiB …',
		'┌ ├ ╎ └ ┊ ▏▕███░░▏ ✓ ▸ ▲ ← ↑ → ↓',
		// Nested <Text>: Ink measures them with their escape codes in.
		'\u001B[7m\u001B[1m\u001B[36m Heap tree \u001B[39m\u001B[22m\u001B[27m\u001B[2m    retained   shallow   heap site\u001B[22m',
		'\u001B[2mheap live \u001B[22m\u001B[1m1.06 MiB\u001B[22m\u001B[2m / goal \u001B[22m\u001B[1m4.00 MiB\u001B[22m',
		'\u001B[32m● connected\u001B[39m  \u001B[7m▁▂▃\u001B[27m',
	];
	for (const {name, width} of realWidths) {
		const {measure, fallbacks} = counted(width);
		for (const text of drawn) t.is(measure(text), width(text), `${JSON.stringify(text)} in ${name}`);
		t.is(fallbacks.count, 0, name);
	}
});

test('width - anything else is measured by the string-width it stands for', t => {
	const others = [
		'日本語のテキスト',
		'👍🏽 ok',
		'👨‍👩‍👧',
		'▶ play ◀',
		'e\u0301',
		'soft\u00adhyphen',
		'tab\there',
		'© ®',
		'한국어 가',
		'\u001B[31m日本\u001B[39m',
		'\u200b',
	];
	for (const {name, width} of realWidths) {
		const {measure, fallbacks} = counted(width);
		for (const text of others) t.is(measure(text), width(text), `${JSON.stringify(text)} in ${name}`);
		t.is(fallbacks.count, 1, `${name} is loaded once, at the first string it is needed for`);
	}
	// The two disagree here, which is why each importer keeps its own.
	t.not(stringWidth('▶'), wrapAnsiStringWidth('▶'));
});

test('width - options go to string-width', t => {
	const {measure, fallbacks} = counted(stringWidth);
	t.is(measure('●', {ambiguousIsNarrow: false}), 2);
	t.is(fallbacks.count, 1);
});
