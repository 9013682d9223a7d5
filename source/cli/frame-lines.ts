// Ink turns every line it draws into styled cells (ANSI tokenizing, one
// object per character) on every frame, with a cache that lives for one
// frame only: about a third of a frame's CPU at 120 x 40 went there, with
// the garbage it makes, though a cursor move changes two lines of the 39.
// This keeps the styled cells of the last frame's lines for the next one,
// so a line drawn again is not tokenized again. Only what Ink would compute
// is reused (the cells of a line depend on its text alone): the frames
// written do not change.
//
// Ink 6.8 does not export its Output class (package "exports" has "." only),
// hence the path into its build; the bundle resolves it to the very module
// Ink's renderer uses. Ink is pinned to 6.8.0 in package.json; should a new
// Ink rename what is used, nothing is patched and frames cost what Ink's
// own caches make them cost (the frames bench shows it).
import Output from '../../node_modules/ink/build/output.js';
import {narrowStyledChars} from './narrow-tokens.js';

type StyledChars = unknown;
type OutputCaches = {getStyledChars(line: string): StyledChars; getStringWidth(text: string): number};

const caches = (new Output({width: 0, height: 0}) as unknown as {caches?: OutputCaches}).caches;
const frameCaches = caches ? (Object.getPrototypeOf(caches) as OutputCaches) : undefined;
if (typeof frameCaches?.getStyledChars === 'function' && typeof frameCaches.getStringWidth === 'function') keepAcrossFrames(frameCaches);

function keepAcrossFrames(frameCaches: OutputCaches) {
	const styledCharsOf = frameCaches.getStyledChars;
	const stringWidthOf = frameCaches.getStringWidth;

	/** The frame (Ink's caches object of one Output) being drawn, its lines, and the last frame's. */
	let frame: object | undefined;
	let lines = new Map<string, StyledChars>();
	let lastLines = new Map<string, StyledChars>();

	frameCaches.getStyledChars = function (this: OutputCaches, line: string): StyledChars {
		if (this !== frame) {
			frame = this;
			lastLines = lines;
			lines = new Map();
		}
		let chars = lines.get(line) ?? lastLines.get(line);
		// A line new to the screen: its cells without Ink's grapheme segmenter where it can be done.
		chars ??= narrowStyledChars(line) ?? styledCharsOf.call(this, line);
		lines.set(line, chars);
		return chars;
	};

	/** Widths of the graphemes drawn: a few hundred distinct ones, kept until there are too many. */
	const widths = new Map<string, number>();
	const maxWidths = 4096;

	frameCaches.getStringWidth = function (this: OutputCaches, text: string): number {
		let width = widths.get(text);
		if (width === undefined) {
			if (widths.size >= maxWidths) widths.clear();
			width = stringWidthOf.call(this, text);
			widths.set(text, width);
		}
		return width;
	};
}
