// StyledLine: one row of a pane — runs of styled text on one line, cut at
// the pane's edge — drawn again only when what it draws changed. A new
// snapshot document makes every row object new (the client decodes it
// afresh, and the agent numbers its nodes anew in each snapshot), though
// most rows on screen may read the same as before: comparing the text and
// styles drawn, not the rows, leaves those rows' Ink nodes untouched, so
// React, Ink's reconciler and Yoga's layout skip them.
import React from 'react';
import {Text} from 'ink';

/** A run of text in one style. */
export type Span = {readonly text: string; readonly color?: string; readonly bold?: boolean; readonly dimColor?: boolean};

/** A row: its runs, and how the cursor marks it (inverse where the pane has the focus, bold where not). */
export type Line = {readonly spans: readonly Span[]; readonly inverse?: boolean; readonly bold?: boolean};

function sameSpan(a: Span, b: Span): boolean {
	return a.text === b.text && a.color === b.color && a.bold === b.bold && a.dimColor === b.dimColor;
}

/** Whether two lines draw the same. */
export function sameLine(a: Line, b: Line): boolean {
	if (a.inverse !== b.inverse || a.bold !== b.bold || a.spans.length !== b.spans.length) return false;
	return a.spans.every((s, i) => sameSpan(s, b.spans[i]!));
}

const StyledLine = React.memo(
	function StyledLine({line}: {readonly line: Line}) {
		return (
			<Text wrap="truncate" inverse={line.inverse} bold={line.bold}>
				{line.spans.map((s, i) => (
					<Text key={i} color={s.color} bold={s.bold} dimColor={s.dimColor}>
						{s.text}
					</Text>
				))}
			</Text>
		);
	},
	(a, b) => sameLine(a.line, b.line),
);

export default StyledLine;
