// PaneTitle: the first line of a pane — its name (highlighted when the pane
// has the focus), a detail such as the cursor's position, and the column
// headings aligned with the rows below, at the right edge.
import React from 'react';
import {Text} from 'ink';

export type Props = {
	readonly title: string;
	readonly detail?: string;
	/** Column headings, ending at the right edge as the rows' figures do. */
	readonly right?: string;
	readonly focused: boolean;
	readonly width: number;
};

export default function PaneTitle({title, detail = '', right = '', focused, width}: Props) {
	const name = ` ${title} `;
	const left = detail ? ` ${detail}` : '';
	const gap = Math.max(1, width - name.length - left.length - right.length);
	return (
		<Text wrap="truncate">
			<Text bold inverse={focused} color="cyan">
				{name}
			</Text>
			<Text dimColor>{left}</Text>
			<Text dimColor>{' '.repeat(gap) + right}</Text>
		</Text>
	);
}
