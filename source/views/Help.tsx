// Help: the keys, listed from the keymap table itself (keymap.ts), so what
// help says is what the keys do. When the list is taller than the room it
// has, it is laid out in two columns, each line cut to its column: Ink
// clips an overflowing box by dropping lines, and a binding left out of
// help is worse than a description cut short.
import React from 'react';
import {Box, Text} from 'ink';
import {keymap as defaultKeymap, type KeyBinding} from './keymap.js';

export type Props = {
	readonly keymap?: readonly KeyBinding[];
	/** Lines it may take, title included; undefined: as many as it needs. */
	readonly height?: number;
	readonly width?: number;
};

function Binding({binding, keysWidth, width}: {readonly binding: KeyBinding; readonly keysWidth: number; readonly width: number | undefined}) {
	return (
		<Box width={width} height={1} overflow="hidden">
			<Box width={keysWidth + 2} flexShrink={0}>
				<Text color="cyan">{'  ' + binding.keys.join(', ')}</Text>
			</Box>
			<Text wrap="truncate">{binding.description}</Text>
		</Box>
	);
}

export default function Help({keymap = defaultKeymap, height, width}: Props) {
	if (keymap.length === 0) return null;
	const keysWidth = Math.max(...keymap.map(b => b.keys.join(', ').length)) + 3;
	const twoColumns = height !== undefined && width !== undefined && keymap.length + 1 > height;
	const perColumn = twoColumns ? Math.ceil(keymap.length / 2) : keymap.length;
	const columns = twoColumns ? [keymap.slice(0, perColumn), keymap.slice(perColumn)] : [keymap];
	const columnWidth = twoColumns ? Math.floor(width! / 2) : width;
	return (
		<Box flexDirection="column">
			<Text bold>Keys</Text>
			<Box>
				{columns.map((bindings, i) => (
					<Box key={i} flexDirection="column" width={columnWidth} flexShrink={0}>
						{bindings.map(b => (
							<Binding key={b.action} binding={b} keysWidth={keysWidth} width={columnWidth} />
						))}
					</Box>
				))}
			</Box>
		</Box>
	);
}
