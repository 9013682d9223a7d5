// Footer: key hints (from the keymap) on the left, the paused indicator on
// the right.
import React from 'react';
import {Box, Text} from 'ink';
import {keymap as defaultKeymap, type KeyBinding} from './keymap.js';

export type Props = {
	readonly paused: boolean;
	readonly keymap?: readonly KeyBinding[];
};

function Footer({paused, keymap = defaultKeymap}: Props) {
	return (
		<Box justifyContent="space-between" height={1}>
			<Text wrap="truncate">
				{keymap
					.filter(b => b.hint)
					.map((b, i) => (
						<Text key={b.action}>
							{i > 0 ? '  ' : ''}
							<Text color="cyan">{b.keys[0]}</Text>
							<Text dimColor> {b.hint}</Text>
						</Text>
					))}
			</Text>
			{paused ? (
				<Text inverse bold color="yellow">
					{' PAUSED '}
				</Text>
			) : null}
		</Box>
	);
}

/** Memoized: it changes only with the paused state. */
export default React.memo(Footer);
