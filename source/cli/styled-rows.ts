// Ink writes each row of a frame by turning its styled cells back into a
// string with ansi-tokenize's styledCharsToString, which works out the
// escape codes between every two neighbouring cells (three Sets and three
// arrays a cell): ~30 ms of the first frame, and a share of every frame.
// Neighbours from one run of text carry the very same style objects, and
// between those the codes are always none. The bundle (esbuild.config.mjs)
// gives Ink's output `sameStylesSkipped` over ansi-tokenize's own functions:
// the same string, without the work where a cell has its neighbour's styles.

type StyledChar<Code> = {readonly value: string; readonly styles: Code[]};

/** Whether two cells carry the very same codes, in the same order. */
function sameStyles<Code>(a: readonly Code[], b: readonly Code[]): boolean {
	if (a.length !== b.length) return false;
	for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
	return true;
}

/**
 * ansi-tokenize's styledCharsToString (0.2.x) made from its own
 * ansiCodesToString and diffAnsiCodes, with the diff of two cells skipped
 * when they share their styles: diffAnsiCodes(s, s) is empty.
 */
export function sameStylesSkipped<Code>(
	ansiCodesToString: (codes: Code[]) => string,
	diffAnsiCodes: (from: Code[], to: Code[]) => Code[],
): (chars: ReadonlyArray<StyledChar<Code>>) => string {
	return chars => {
		let row = '';
		for (let i = 0; i < chars.length; i++) {
			const char = chars[i]!;
			if (i === 0) row += ansiCodesToString(char.styles);
			else {
				const before = chars[i - 1]!.styles;
				if (!sameStyles(before, char.styles)) row += ansiCodesToString(diffAnsiCodes(before, char.styles));
			}
			row += char.value;
			// Styles still open at the row's end are closed.
			if (i === chars.length - 1) row += ansiCodesToString(diffAnsiCodes(char.styles, []));
		}
		return row;
	};
}
