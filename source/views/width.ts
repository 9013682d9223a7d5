// The columns a string takes on the terminal, for Ink's layout and output.
// Ink measures with string-width (and wrap-ansi with an older string-width of
// its own), whose first measure of a non-ASCII string builds Unicode
// property regexes and a grapheme segmenter: ~125 ms of the first frame,
// though what heaptop draws — ASCII, box drawing, block elements, ● — is one
// column a character. The bundle (esbuild.config.mjs) gives each importer of
// string-width `narrowFirst` over the string-width it would have imported:
// a string made only of the characters below, once stripped of escape codes
// (Ink measures nested <Text> with its colours in), is measured here,
// anything else by that string-width, which is then loaded on first use.
//
// A string of these characters is as wide as it is long: each is one
// column, and no two of them join into one grapheme cluster (none is a
// control, a combining mark, a joiner, a jamo or a regional indicator).

/**
 * Code point ranges [first, last] that every string-width Ink bundles gives
 * one column. Left out: © ® and the geometric shapes that are also emoji
 * (▪ ▫ ▶ ◀ ◻ ◼ ◽ ◾), which string-width 7 counts as two; the soft hyphen,
 * which counts none. test/width.test.ts checks every code point here.
 */
const narrowRanges: readonly (readonly [number, number])[] = [
	[0x20, 0x7e], // printable ASCII
	[0xb0, 0xff], // Latin-1 signs and letters: µ ×
	[0x2010, 0x2027], // dashes, quotes, bullets: — …
	[0x2190, 0x2193], // arrows ← ↑ → ↓
	[0x2500, 0x259f], // box drawing and block elements: │ ├ └ ─ ▁ ▂ █ ░ ▏
	[0x25a0, 0x25a9], // geometric shapes: ■ □
	[0x25ac, 0x25b5], // ▲ △
	[0x25b7, 0x25bf], // ▸ ▾
	[0x25c1, 0x25fa], // ○ ●
	[0x2713, 0x2713], // ✓
];

function isNarrow(code: number): boolean {
	for (const [first, last] of narrowRanges) {
		if (code < first) return false;
		if (code <= last) return true;
	}
	return false;
}

/** The columns `text` takes when it is made only of narrow characters (no escapes either); otherwise undefined. */
export function narrowWidth(text: string): number | undefined {
	for (let i = 0; i < text.length; i++) {
		if (!isNarrow(text.charCodeAt(i))) return undefined;
	}
	return text.length;
}

type StringWidth = (text: string, options?: object) => number;

/**
 * A string-width that answers narrow strings itself and asks `load()` for the
 * real one only for the rest (or when given options), loading it then.
 * `stripAnsi` is the one the real string-width strips escape codes with.
 */
export function narrowFirst(load: () => StringWidth, stripAnsi: (text: string) => string): StringWidth {
	let stringWidth: StringWidth | undefined;
	return (text, options) => {
		if (options === undefined && typeof text === 'string') {
			const width = narrowWidth(stripAnsi(text));
			if (width !== undefined) return width;
		}
		stringWidth ??= load();
		return stringWidth(text, options);
	};
}
