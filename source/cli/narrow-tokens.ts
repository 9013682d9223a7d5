// Ink turns each line of a frame that it has not drawn before into styled
// cells with ansi-tokenize's tokenize, which walks the line grapheme by
// grapheme with Intl.Segmenter: when a new snapshot document changes the
// figures of most rows, that was a fifth of the frame's CPU. The lines
// heaptop draws are SGR colour sequences around narrow characters (the
// ones views/width.ts answers for: each is a grapheme of its own, one
// column wide), whose tokens are known without segmenting. This gives the
// very cells tokenize would for such a line, and nothing for any other
// (another escape sequence, a wide or combining character): Ink's own path
// then handles it.
import {styledCharsFromTokens, tokenize, type StyledChar, type Token} from '../../node_modules/@alcalzone/ansi-tokenize/build/index.js';
import {narrowWidth} from '../views/width.js';

/** Tokens of the SGR sequences seen, by sequence: a frame uses a handful of styles. */
const sgrTokens = new Map<string, readonly Token[]>();
const maxSequences = 1024;

/** The index of the "m" ending the SGR sequence at `start` ("ESC [", digits and semicolons, "m"), as tokenize finds it; -1 if there is none. */
function sgrEnd(line: string, start: number): number {
	if (line.charCodeAt(start + 1) !== 0x5b) return -1;
	for (let i = start + 2; i < line.length; i++) {
		const c = line.charCodeAt(i);
		if (c === 0x6d) return i;
		if (c !== 0x3b && (c < 0x30 || c > 0x39)) return -1;
	}
	return -1;
}

/** tokenize(line) for a line of SGR sequences and narrow characters only; undefined for any other. */
export function narrowTokens(line: string): Token[] | undefined {
	const tokens: Token[] = [];
	let i = 0;
	while (i < line.length) {
		const escape = line.indexOf('\u001B', i);
		const textEnd = escape < 0 ? line.length : escape;
		if (textEnd > i) {
			const text = line.slice(i, textEnd);
			if (narrowWidth(text) === undefined) return undefined;
			for (const value of text) tokens.push({type: 'char', value, fullWidth: false});
		}
		if (escape < 0) break;
		const end = sgrEnd(line, escape);
		if (end < 0) return undefined;
		// A sequence is tokenized as it is within a line: from its ESC to its "m".
		const sequence = line.slice(escape, end + 1);
		let codes = sgrTokens.get(sequence);
		if (!codes) {
			codes = tokenize(sequence);
			if (sgrTokens.size >= maxSequences) sgrTokens.clear();
			sgrTokens.set(sequence, codes);
		}
		for (const code of codes) tokens.push({...code});
		i = end + 1;
	}
	return tokens;
}

/** Ink's styled cells of `line` when it is made of SGR sequences and narrow characters; otherwise undefined. */
export function narrowStyledChars(line: string): StyledChar[] | undefined {
	const tokens = narrowTokens(line);
	return tokens && styledCharsFromTokens(tokens);
}
