// Help: the keys, listed from the keymap table itself (keymap.ts), so what
// help says is what the keys do.
import React from 'react';
import {Box, Text} from 'ink';
import {keymap as defaultKeymap, type KeyBinding} from './keymap.js';

export type Props = {
	readonly keymap?: readonly KeyBinding[];
};

export default function Help({keymap = defaultKeymap}: Props) {
	if (keymap.length === 0) return null;
	const keysWidth = Math.max(...keymap.map(b => b.keys.join(', ').length)) + 3;
	return (
		<Box flexDirection="column">
			<Text bold>Keys</Text>
			{keymap.map(b => (
				<Box key={b.action}>
					<Box width={keysWidth + 2} flexShrink={0}>
						<Text color="cyan">{'  ' + b.keys.join(', ')}</Text>
					</Box>
					<Text>{b.description}</Text>
				</Box>
			))}
		</Box>
	);
}
