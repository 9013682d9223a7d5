// The grapheme segmenter of ansi-tokenize's tokenize, which Ink runs on
// every line it draws. Building an Intl.Segmenter loads ICU's break rules,
// ~12 ms of start-up CPU, and tokenize built its own when loaded. The bundle
// (esbuild.config.mjs) gives tokenize `asciiFirst` instead: a string of
// ASCII characters other than CR is segmented here, one grapheme a
// character (Unicode's rules break around controls and between any two of
// the others; only CR LF joins), and anything else by an Intl.Segmenter
// built on first need. heaptop's escape codes are ASCII, so its frames of
// narrow characters (cli/narrow-tokens.ts) never need one.

/** What tokenize reads of a segment. */
interface Segment {
	segment: string;
	index: number;
}

const carriageReturn = 0x0d;

function isSplitByCharacter(text: string): boolean {
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (c > 0x7f || c === carriageReturn) return false;
	}
	return true;
}

function* characters(text: string): Generator<Segment> {
	for (let index = 0; index < text.length; index++) yield {segment: text[index]!, index};
}

/** A segmenter for grapheme clusters that asks `load()` for a real one only for text it cannot split itself. */
export function asciiFirst(load: () => Intl.Segmenter): {segment(text: string): Iterable<Segment>} {
	let segmenter: Intl.Segmenter | undefined;
	return {
		segment(text) {
			if (isSplitByCharacter(text)) return characters(text);
			segmenter ??= load();
			return segmenter.segment(text);
		},
	};
}
